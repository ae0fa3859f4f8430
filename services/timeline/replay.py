"""Analysts' replay: read events back from the log, filter them, and write them out as
JSON Lines or into a scratch projection ("what did we know at time T")."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

from services.timeline.projection import Projection
from shared.domain import events
from shared.ports import Message


@dataclass(frozen=True)
class Filters:
    story: str | None = None
    types: frozenset[str] = frozenset()
    actor: str | None = None
    until_ms: int | None = None  # only what the log held at this time

    def admits(self, msg: Message, ev: dict) -> bool:
        if self.until_ms is not None and msg.timestamp_ms > self.until_ms:
            return False
        if self.story and ev["story_id"] != self.story:
            return False
        if self.types and ev["event_type"] not in self.types:
            return False
        if self.actor and (ev.get("actor") or {}).get("name", "").lower() != self.actor.lower():
            return False
        return True


def parse_start(text: str) -> str | int | dict[int, int]:
    """ "beginning", an ISO-8601 time, or offsets as "0:120,1:98"."""
    if text == "beginning":
        return "beginning"
    if ":" in text and all(part.count(":") == 1 and part.replace(":", "").isdigit() for part in text.split(",")):
        return {int(p): int(o) for p, o in (part.split(":") for part in text.split(","))}
    return to_epoch_ms(text)


def to_epoch_ms(text: str) -> int:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not 'beginning', offsets like 0:120,1:98, or an ISO-8601 time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


def selected(messages: Iterable[Message], filters: Filters) -> Iterator[tuple[Message, dict]]:
    """Decoded, upcast events that pass the filters; undecodable messages are skipped here
    (they are the dead-letter topic's business)."""
    for msg in messages:
        try:
            ev = events.decode(msg.value)
        except ValueError:
            continue
        if filters.admits(msg, ev):
            yield msg, ev


def to_json_lines(pairs: Iterable[tuple[Message, dict]], out) -> int:
    n = 0
    for msg, ev in pairs:
        ev["log"] = {
            "topic": msg.topic,
            "partition": msg.partition,
            "offset": msg.offset,
            "timestamp_ms": msg.timestamp_ms,
        }
        out.write(json.dumps(ev, ensure_ascii=False, sort_keys=True) + "\n")
        n += 1
    return n


def into_projection(pairs: Iterable[tuple[Message, dict]], scratch_db, batch_size: int = 1000) -> int:
    """Project the selected events into a separate database with the live projection's code."""
    projection = Projection(scratch_db, "replay", generation=1)
    projection.ensure_indexes()
    n = 0
    pairs = iter(pairs)
    while chunk := [m for m, _ in itertools.islice(pairs, batch_size)]:
        projection.apply(projection.prepare(chunk))
        n += len(chunk)
    return n
