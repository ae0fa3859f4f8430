"""Rebuild: project the whole log into a fresh generation, then switch readers to it.

The live generation keeps serving (and the live projector keeps writing to it) until the
pointer moves. The new generation's tracking records are written under the live group's
name, so after the switch the live projector finds them and rewinds to fill whatever it
applied to the old generation after the rebuild's last read.
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from services.timeline.projection import Projection
from services.timeline.projector import tune_garbage_collector
from shared.domain import read_model
from shared.ports import ProjectionStore


@dataclass
class RebuildResult:
    old_generation: int
    new_generation: int
    events: int
    dead_letters: int
    seconds: float


def rebuild(
    log,
    store: ProjectionStore,
    group: str,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    drop_after_s: float = 5.0,
    catch_up_rounds: int = 5,
) -> RebuildResult:
    tune_garbage_collector()
    started = time.monotonic()
    old = store.current_generation()
    new = store.open_generation()
    projection = Projection(store, group, generation=new)
    ends = log.end_offsets()
    total = sum(ends.values())
    done = dead = 0
    start: str | dict[int, int] = "beginning"
    positions = {p: 0 for p in ends}
    # One chunk is written (on the writer thread) while the next is read and decoded.
    writer = ThreadPoolExecutor(1, thread_name_prefix="rebuild-writer")
    writing: Future | None = None
    prepared = None
    try:
        for _ in range(catch_up_rounds):
            read_now = 0
            messages = log.read(start)
            while chunk := list(itertools.islice(messages, batch_size)):
                prepared = projection.prepare(chunk, pending=prepared)
                # Poison was set aside by the live projector when it first met it; count, don't repeat.
                dead += len(prepared.dead)
                if writing is not None:
                    writing.result()
                writing = writer.submit(projection.apply, prepared)
                for (_, partition), nxt in prepared.positions.items():
                    positions[partition] = nxt
                read_now += len(chunk)
                done += len(chunk)
                if progress:
                    progress(done, max(total, done))
            if writing is not None:
                writing.result()
                writing = None
            if read_now == 0:
                break
            start = dict(positions)
            total = max(total, sum(log.end_offsets().values()))
    finally:
        writer.shutdown(wait=True)
    # Every partition gets a record, even an empty one, so the live projector can compare.
    with store.batch(new) as tx:
        tx.advance_tracking({read_model.tracking_key(group, log.topic, p): nxt for p, nxt in positions.items()})
    store.switch_generation(new)
    if old != new:
        time.sleep(drop_after_s)  # let in-flight reads and a live batch on the old generation finish
        store.drop_generation(old)
    return RebuildResult(old, new, done, dead, time.monotonic() - started)
