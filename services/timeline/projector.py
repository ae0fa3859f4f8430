"""The consumer loop: poll, set poison aside, project, then commit (never before the write)."""

from __future__ import annotations

import gc
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from services.timeline.projection import DeadLetter, Prepared, Projection
from shared.ports import ProjectionStore, Record

log = logging.getLogger("storyline.timeline")


def dead_letter_record(dead: DeadLetter) -> Record:
    """The original bytes, untouched, with the reason and where they came from."""
    m = dead.message
    return Record(
        key=m.key or "",
        value=m.value,
        headers={
            **m.headers,
            "dlq.reason": dead.reason,
            "dlq.topic": m.topic,
            "dlq.partition": str(m.partition),
            "dlq.offset": str(m.offset),
            "dlq.timestamp_ms": str(m.timestamp_ms),
        },
    )


@dataclass
class _InFlight:
    future: Future
    prepared: Prepared
    batch: list


def tune_garbage_collector() -> None:
    """For a process that projects. Each event decodes into some forty objects, and a batch
    stays alive while it is written, so with CPython's default threshold (700 net new
    objects) the cyclic collector ran about 15 times per 1,000 events and rescanned the batch
    each time: 22 to 25% of the loop's time, measured with bench/projection.py. Event
    documents hold no cycles; plain reference counting frees them. So: freeze what the
    process holds at start (the collector no longer rescans it) and collect the youngest
    generation per 50,000 net new objects, which a batch frees before reaching."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, 50_000), middle, old)


class Projector:
    def __init__(self, event_log, store: ProjectionStore, group: str, batch_size: int = 2000, dead_letters=None):
        self.projection = Projection(store, group)
        self.consumer = event_log.consumer(group)
        self.dead_letters = dead_letters
        self.batch_size = batch_size
        self.stopping = threading.Event()
        self.applied = 0
        self.dead_lettered = 0
        self.on_batch_applied = lambda batch: None  # observers (metrics, logs) see each committed batch
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="projection-writer")
        self._inflight: _InFlight | None = None
        self.heartbeat = time.monotonic()  # when the loop last turned (liveness)

    def run_once(self, timeout_ms: int = 500) -> int:
        """One batch, written and committed before returning."""
        n = self.step(timeout_ms)
        self.flush()
        return n

    def step(self, timeout_ms: int = 500) -> int:
        """Poll and decode the next batch while the previous one is still being written,
        then hand it to the writer. Decoding is CPU and the write mostly waits on the store,
        so the two overlap. Offsets are committed only after their batch's write."""
        self.heartbeat = time.monotonic()
        if self.projection.generation_moved():
            # A rebuild moved readers: finish the write in flight on the old generation, then
            # follow; the gap check below rewinds to the new generation's tracking records.
            self.flush()
            self.projection.refresh_generation()
        batch = self.consumer.poll(max_records=self.batch_size, timeout_ms=timeout_ms)
        if not batch:
            self.flush()  # quiet log: commit the last batch now rather than on the next one
            return 0
        ahead = self._inflight.prepared.positions if self._inflight else {}
        try:
            kept = self._rewind_gaps(batch, ahead)
        except Exception:
            self.flush(also_reread=batch)
            self._seek_to_first(batch)  # the store could not say what was applied: read it all again
            raise
        batch = kept
        if not batch:
            return 0
        try:
            prepared = self.projection.prepare(batch, pending=self._inflight.prepared if self._inflight else None)
            if prepared.dead:
                # Set aside before the tracking record moves past them, so none is dropped.
                if self.dead_letters is None:
                    raise RuntimeError("poison message and no dead-letter log configured")
                self.dead_letters.publish([dead_letter_record(d) for d in prepared.dead])
                for d in prepared.dead:
                    log.warning(
                        "dead-lettered %s:%d:%d: %s", d.message.topic, d.message.partition, d.message.offset, d.reason
                    )
        except Exception:
            self.flush(also_reread=batch)
            self._seek_to_first(batch)
            raise
        self.flush(also_reread=batch)
        # The write runs on the writer thread; both stores release the interpreter while they
        # wait (a socket, SQLite's C code), so the next batch is decoded meanwhile.
        self._inflight = _InFlight(self._writer.submit(self.projection.apply, prepared), prepared, batch)
        return len(batch)

    def flush(self, also_reread=None) -> None:
        """Wait for the write in flight and commit it. If it failed, rewind so that batch
        (and `also_reread`, polled meanwhile) is read again; upserts and tracking make the
        replay harmless."""
        inflight, self._inflight = self._inflight, None
        if inflight is None:
            return
        try:
            inflight.future.result()
        except Exception:
            first = _first_offsets(inflight.batch)
            for tp, offset in _first_offsets(also_reread or []).items():
                first.setdefault(tp, offset)
            for (topic, partition), offset in first.items():
                self.consumer.seek(topic, partition, offset)
            raise
        self.consumer.commit(inflight.prepared.positions)
        self.applied += len(inflight.batch)
        self.dead_lettered += len(inflight.prepared.dead)
        self.on_batch_applied(inflight.batch)

    def _seek_to_first(self, batch) -> None:
        for (topic, partition), first in _first_offsets(batch).items():
            self.consumer.seek(topic, partition, first)

    def _rewind_gaps(self, batch, ahead: dict[tuple[str, int], int]):
        """The store, not the group offset, says what was applied. If a partition's batch
        starts past its tracking record (a new generation, a wiped store, offsets committed
        by a projector writing elsewhere), read it again from the tracked offset. `ahead`
        holds where the batch still being written will leave each partition."""
        keep = []
        for tp, first in _first_offsets(batch).items():
            tracked = self.projection.tracked(*tp)
            if tracked >= 0 and first > max(tracked, ahead.get(tp, tracked)):  # no record: nothing to compare
                log.info("rewinding %s:%d from %d to tracked offset %d", tp[0], tp[1], first, tracked)
                self.consumer.seek(tp[0], tp[1], tracked)
            else:
                keep.append(tp)
        return [m for m in batch if (m.topic, m.partition) in keep]

    def run(self) -> None:
        tune_garbage_collector()
        self.projection.ensure_indexes()
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self.step()
                backoff = 0.5
            except Exception:
                self.heartbeat = time.monotonic()
                # Store or broker trouble: nothing was committed, so the batch is re-read later.
                log.exception("projection failed; retrying in %.1fs", backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)
        try:
            self.flush()  # finish the batch in flight and commit it before leaving the group
        except Exception:
            log.exception("the last batch failed; it will be re-read by the next owner")
        self._writer.shutdown(wait=True)
        self.consumer.close()

    def stop(self) -> None:
        self.stopping.set()


def _first_offsets(batch) -> dict[tuple[str, int], int]:
    first: dict[tuple[str, int], int] = {}
    for m in batch:
        first.setdefault((m.topic, m.partition), m.offset)
    return first
