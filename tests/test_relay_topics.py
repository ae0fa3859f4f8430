"""The relay with two topics (events and articles), on the real SQLite outbox and fake logs: fast."""

from __future__ import annotations

import pytest

from services.ingest.relay import LogRefused, Relay
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
