"""The consumer loop: poll, set poison aside, project, then commit (never before the write)."""
from __future__ import annotations

import logging
import threading

from shared.ports import Record
from services.timeline.projection import DeadLetter, Projection

log = logging.getLogger("storyline.timeline")


def dead_letter_record(dead: DeadLetter) -> Record:
    """The original bytes, untouched, with the reason and where they came from."""
    m = dead.message
    return Record(key=m.key or "", value=m.value,
                  headers={**m.headers, "dlq.reason": dead.reason, "dlq.topic": m.topic,
                           "dlq.partition": str(m.partition), "dlq.offset": str(m.offset),
                           "dlq.timestamp_ms": str(m.timestamp_ms)})


class Projector:
    def __init__(self, event_log, db, group: str, batch_size: int = 2000, dead_letters=None):
        self.projection = Projection(db, group)
        self.consumer = event_log.consumer(group)
        self.dead_letters = dead_letters
        self.batch_size = batch_size
        self.stopping = threading.Event()
        self.applied = 0
        self.dead_lettered = 0
        self.on_batch_applied = lambda batch: None  # observers (metrics, logs) see each committed batch

    def run_once(self, timeout_ms: int = 500) -> int:
        # A rebuild may have moved readers to a new generation; the gap check below then
        # rewinds to that generation's tracking record.
        self.projection.refresh_generation()
        batch = self.consumer.poll(max_records=self.batch_size, timeout_ms=timeout_ms)
        if not batch:
            return 0
        batch = self._rewind_gaps(batch)
        if not batch:
            return 0
        try:
            prepared = self.projection.prepare(batch)
            if prepared.dead:
                # Set aside before the tracking record moves past them, so none is dropped.
                if self.dead_letters is None:
                    raise RuntimeError("poison message and no dead-letter log configured")
                self.dead_letters.publish([dead_letter_record(d) for d in prepared.dead])
                for d in prepared.dead:
                    log.warning("dead-lettered %s:%d:%d: %s", d.message.topic, d.message.partition,
                                d.message.offset, d.reason)
            self.projection.apply(prepared)
        except Exception:
            # Re-read the whole batch next time; upserts and tracking make the replay harmless.
            for (topic, partition), first in _first_offsets(batch).items():
                self.consumer.seek(topic, partition, first)
            raise
        self.consumer.commit(prepared.positions)
        self.applied += len(batch)
        self.dead_lettered += len(prepared.dead)
        self.on_batch_applied(batch)
        return len(batch)

    def _rewind_gaps(self, batch):
        """The store, not the group offset, says what was applied. If a partition's batch
        starts past its tracking record (a new generation, a wiped store, offsets committed
        by a projector writing elsewhere), read it again from the tracked offset."""
        keep = []
        for (topic, partition), first in _first_offsets(batch).items():
            tracked = self.projection.tracked(topic, partition)
            if tracked >= 0 and first > tracked:  # no record: nothing to compare with
                log.info("rewinding %s:%d from %d to tracked offset %d", topic, partition, first, tracked)
                self.consumer.seek(topic, partition, tracked)
            else:
                keep.append((topic, partition))
        return [m for m in batch if (m.topic, m.partition) in keep]

    def run(self) -> None:
        self.projection.ensure_indexes()
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self.run_once()
                backoff = 0.5
            except Exception:
                # Store or broker trouble: nothing was committed, so the batch is re-read later.
                log.exception("projection failed; retrying in %.1fs", backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)
        self.consumer.close()

    def stop(self) -> None:
        self.stopping.set()


def _first_offsets(batch) -> dict[tuple[str, int], int]:
    first: dict[tuple[str, int], int] = {}
    for m in batch:
        first.setdefault((m.topic, m.partition), m.offset)
    return first
