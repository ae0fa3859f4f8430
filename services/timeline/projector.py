"""The consumer loop: poll, project, then commit offsets (never before the write)."""
from __future__ import annotations

import logging
import threading
import time

from services.timeline.projection import Projection

log = logging.getLogger("storyline.timeline")


class Projector:
    def __init__(self, event_log, db, group: str, batch_size: int = 500):
        self.projection = Projection(db, group)
        self.consumer = event_log.consumer(group)
        self.batch_size = batch_size
        self.stopping = threading.Event()
        self.applied = 0
        self.on_batch_applied = lambda batch: None  # observers (metrics, logs) see each committed batch

    def run_once(self, timeout_ms: int = 500) -> int:
        batch = self.consumer.poll(max_records=self.batch_size, timeout_ms=timeout_ms)
        if not batch:
            return 0
        if self.projection.refresh_generation():
            # A rebuild switched generations: re-read from the new generation's tracking
            # record (replays are harmless, gaps are not).
            for topic, partition in {(m.topic, m.partition) for m in batch}:
                self.consumer.seek(topic, partition, max(self.projection.tracked(topic, partition), 0))
            return 0
        try:
            positions = self.projection.apply(batch)
        except Exception:
            # Re-read the whole batch next time; upserts and tracking make the replay harmless.
            for (topic, partition), first in _first_offsets(batch).items():
                self.consumer.seek(topic, partition, first)
            raise
        self.consumer.commit(positions)
        self.applied += len(batch)
        self.on_batch_applied(batch)
        return len(batch)

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
