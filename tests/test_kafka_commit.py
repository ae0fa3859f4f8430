"""The relay's transactional delivery when the commit's answer does not come (real Kafka).

kafka-python waits for a commit's answer without a limit; the adapter waits a bounded time,
then settles the transaction with a new producer of the same id and reads the log for its
outcome. Two ways a commit is left in doubt, each through deliver() on the real broker: the
commit went through but its answer was lost (then the records count as delivered and are not
sent again), and the wait ran out before the commit was sent (then they go again). Either
way every record ends in the topic exactly once for a read_committed reader.
"""

from __future__ import annotations

import logging
from collections import Counter

from conftest import real_env
from kafka.producer.transaction_manager import TransactionManager

from services.bootstrap import open_log
from shared.adapters import kafka_log
from shared.config import Settings
from shared.ports import Record


def records(tag: str) -> list[Record]:
    return [Record(f"doubt-{tag}-{i % 3}", f"doubt-{tag}-{i:02d}".encode()) for i in range(12)]


def transactional_log():
    settings = Settings.from_env(real_env())
    log = open_log(settings)
    log.use_transactions(f"commit-check-{settings.topic}")
    return log


def test_a_commit_whose_answer_was_lost_counts_as_delivered_and_is_not_sent_again(monkeypatch, caplog):
    real_begin = TransactionManager.begin_commit

    def answer_lost(manager):
        result = real_begin(manager)

        class Lost:
            def wait(self, timeout_ms=None):
                result.wait(timeout_ms=20000)  # the commit completes on the broker...
                return False  # ...and its answer never reaches the adapter

        return Lost()

    log = transactional_log()
    batch = records("lost")
    try:
        monkeypatch.setattr(TransactionManager, "begin_commit", answer_lost)
        with caplog.at_level(logging.WARNING, logger="storyline.kafka"):
            acked = log.deliver(batch)
        monkeypatch.undo()
        seen = Counter(m.value for m in log.read())
    finally:
        log.close()
    assert "reading its outcome from the log" in caplog.text and "in doubt was committed" in caplog.text
    assert acked == [True] * len(batch)
    assert seen == Counter(r.value for r in batch)


def test_a_commit_cut_off_before_it_was_sent_goes_again_and_lands_once(monkeypatch, caplog):
    log = transactional_log()
    batch = records("cut")
    try:
        monkeypatch.setattr(kafka_log, "TXN_COMMIT_WAIT_MS", 0)  # no time for an answer
        with caplog.at_level(logging.WARNING, logger="storyline.kafka"):
            first = log.deliver(batch)
        monkeypatch.undo()
        assert first in ([True] * len(batch), [False] * len(batch)), "a transaction is delivered whole or not at all"
        again = first if all(first) else log.deliver(batch)  # as the relay does: what is not delivered goes again
        seen = Counter(m.value for m in log.read())
    finally:
        log.close()
    assert "reading its outcome from the log" in caplog.text
    assert again == [True] * len(batch)
    assert seen == Counter(r.value for r in batch), "each record once, whichever way the first commit went"
