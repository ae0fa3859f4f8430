"""Rebuild: project the whole log into a fresh generation, then switch readers to it.

The live generation keeps serving (and the live projector keeps writing to it) until the
pointer moves. The new generation's tracking records are written under the live group's
name, so after the switch the live projector finds them and rewinds to fill whatever it
applied to the old generation after the rebuild's last read.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Callable

from shared.domain import read_model
from services.timeline.projection import Projection

_GENERATION_COUNTER = "latest"


@dataclass
class RebuildResult:
    old_generation: int
    new_generation: int
    events: int
    dead_letters: int
    seconds: float


def allocate_generation(db) -> int:
    """A number never used before, even by an aborted rebuild."""
    in_use = max([read_model.current_generation(db)] + _generations_in(db))
    doc = db[read_model.META].find_one({"_id": _GENERATION_COUNTER}) or {"generation": 0}
    new = max(in_use, doc["generation"]) + 1
    db[read_model.META].replace_one({"_id": _GENERATION_COUNTER}, {"_id": _GENERATION_COUNTER, "generation": new},
                                    upsert=True)
    return new


def _generations_in(db) -> list[int]:
    prefix = read_model.events_name(0)[:-1]
    return [int(n[len(prefix):]) for n in db.list_collection_names()
            if n.startswith(prefix) and n[len(prefix):].isdigit()]


def drop_generation(db, generation: int) -> None:
    for name in (read_model.events_name(generation), read_model.stories_name(generation),
                 read_model.tracking_name(generation)):
        db.drop_collection(name)


def rebuild(log, db, group: str, batch_size: int = 1000, progress: Callable[[int, int], None] | None = None,
            drop_after_s: float = 5.0, catch_up_rounds: int = 5) -> RebuildResult:
    started = time.monotonic()
    old = read_model.current_generation(db)
    new = allocate_generation(db)
    projection = Projection(db, group, generation=new)
    projection.ensure_indexes()
    ends = log.end_offsets()
    total = sum(ends.values())
    done = dead = 0
    start: str | dict[int, int] = "beginning"
    positions = {p: 0 for p in ends}
    for _ in range(catch_up_rounds):
        read_now = 0
        messages = log.read(start)
        while chunk := list(itertools.islice(messages, batch_size)):
            prepared = projection.prepare(chunk)
            # Poison was set aside by the live projector when it first met it; count, don't repeat.
            dead += len(prepared.dead)
            projection.apply(prepared)
            for (_, partition), nxt in prepared.positions.items():
                positions[partition] = nxt
            read_now += len(chunk)
            done += len(chunk)
            if progress:
                progress(done, max(total, done))
        if read_now == 0:
            break
        start = dict(positions)
        total = max(total, sum(log.end_offsets().values()))
    # Every partition gets a record, even an empty one, so the live projector can compare.
    for partition, nxt in positions.items():
        projection.c.tracking.update_one({"_id": f"{group}:{log.topic}:{partition}"},
                                         {"$max": {"next_offset": nxt}}, upsert=True)
    read_model.switch_generation(db, new)
    if old != new:
        time.sleep(drop_after_s)  # let in-flight reads and a live batch on the old generation finish
        drop_generation(db, old)
    return RebuildResult(old, new, done, dead, time.monotonic() - started)
