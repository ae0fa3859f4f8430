"""The relay with two topics (events and articles), on the real SQLite outbox and fake logs: fast."""

from __future__ import annotations

import pytest

from services.ingest.relay import LogRefused, Relay, relay_id
from shared.adapters.sqlite_outbox import SqliteOutbox
from shared.ports import Record


class FakeLog:
    def __init__(self, topic: str):
        self.topic, self.refuse, self.got = topic, False, []

    def deliver(self, records):
        if self.refuse:
            return [False] * len(records)
        self.got += records
        return [True] * len(records)


def test_each_record_goes_to_its_topic_and_a_refused_article_does_not_resend_the_events(tmp_path):
    outbox = SqliteOutbox(str(tmp_path))
    events, articles = FakeLog("ev"), FakeLog("ev.articles")
    relay = Relay(outbox, events, routes={"ev.articles": articles})
    outbox.add([Record("s1", b"article-1", topic="ev.articles"), Record("s1", b"event-1"), Record("s1", b"event-2")])
    articles.refuse = True
    with pytest.raises(LogRefused):
        relay.relay_once()
    assert [r.value for r in events.got] == [b"event-1", b"event-2"] and outbox.backlog()[0] == 1
    articles.refuse = False
    assert relay.relay_once() == 1
    assert [r.value for r in events.got] == [b"event-1", b"event-2"]  # not sent twice
    assert [(r.value, r.topic) for r in articles.got] == [(b"article-1", "ev.articles")]
    assert outbox.backlog()[0] == 0
    outbox.close()


def test_an_outbox_file_from_before_topics_reads_as_events(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    db.executescript(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, "
        "value BLOB NOT NULL, headers TEXT NOT NULL, queued_at INTEGER NOT NULL);"
        "INSERT INTO outbox (key, value, headers, queued_at) VALUES ('s', x'7b7d', '{}', 0);"
    )
    db.commit()
    db.close()
    outbox = SqliteOutbox(str(tmp_path))
    assert [(q.record.key, q.record.topic) for q in outbox.pending(10)] == [("s", "")]
    outbox.close()


class TransactionalFakeLog(FakeLog):
    """A log that can deliver in transactions, as KafkaLog does: records which id it was given."""

    transactional_id = None

    def use_transactions(self, transactional_id):
        self.transactional_id = transactional_id


def test_the_relay_id_belongs_to_the_instance_data_dir(tmp_path):
    first = relay_id(str(tmp_path / "a"))
    assert first.startswith("storyline-relay-")
    assert relay_id(str(tmp_path / "a")) == first, "a restart (or another worker) of the instance reuses it"
    assert relay_id(str(tmp_path / "b")) != first, "another replica has its own"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["relay.id"]


def test_each_topic_log_delivers_under_its_own_transactional_id_and_the_embedded_log_is_unchanged(tmp_path):
    from shared.adapters.embedded_log import EmbeddedLog

    outbox = SqliteOutbox(str(tmp_path / "ingest"))
    events, articles = TransactionalFakeLog("ev"), TransactionalFakeLog("ev.articles")
    rid = relay_id(str(tmp_path / "ingest"))
    Relay(outbox, events, routes={"ev.articles": articles}, transactional_id=rid)
    assert (events.transactional_id, articles.transactional_id) == (f"{rid}.ev", f"{rid}.ev.articles")

    embedded = EmbeddedLog(str(tmp_path / "log"), "ev", 3)
    relay = Relay(outbox, embedded, transactional_id=rid)
    outbox.add([Record("s1", b"event-1"), Record("s2", b"event-2")])
    assert relay.relay_once() == 2
    assert sorted(m.value for m in embedded.read()) == [b"event-1", b"event-2"]  # one SQLite transaction, as before
    embedded.close()
    outbox.close()
