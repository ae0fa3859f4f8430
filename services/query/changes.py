"""Live updates, the pure part: which changes the projected documents hold between two log
positions, the positions clients resume from, and the Server-Sent Events wire format.

Event format (`GET /v1/stories/{id}/events`, `GET /v1/events`; `text/event-stream`):

    retry: 2000                                    once, at the start
    id: 0:13,1:0,2:7                               the position after this change (see below)
    event: ready                                   once, at the start: the position the stream starts from
    data: {"position": "0:13,1:0,2:7"}

    id: 0:14,1:0,2:7
    event: entry_added | entry_corrected | entry_retracted
    data: {"change": "added" | "corrected" | "retracted", "story_id": ..., "event_id": ...,
           "entry_id": ..., "previous_entry_id": ... | null, "log": {"partition": 0, "offset": 13},
           "recorded_at": ..., "entry": {timeline entry} | null, "previous_entry": {timeline entry} | null}

    : heartbeat                                    a comment, every STORYLINE_SSE_HEARTBEAT_SECONDS

- `entry_added`: an event joined the story; `entry` is its timeline entry as it stands when
  sent (a new entry, or an existing one with one more source), the same dict as an entry of
  `GET /v1/stories/{id}/timeline` (retracted members included and marked).
- `entry_corrected` / `entry_retracted`: an editor's correction or retraction of `event_id`
  was applied. When it moved the event to another entry (a new date, actor or target),
  `previous_entry_id` names the entry it left and `previous_entry` is that entry now (null when
  it has no events left), so a client can update or drop it.
- A newer reading of the article (`storyline reextract`, a re-post) is sent the same way:
  `entry_corrected` with `change: "reread"` for an event it rewrote, `entry_retracted` with
  `change: "superseded"` for one it dropped (no longer shown; its `entry` is the entry without it).
- Order: per story, log order (a story lives on one log partition). Across stories, changes of
  different partitions interleave by the time they were recorded.

Positions. `id` is "partition:next offset" for every partition of the log: everything before
it has been sent. A client reconnecting with `Last-Event-ID` (or `?last_event_id=`) gets
exactly the changes after it, nothing twice. Positions are log offsets, not counters kept
in memory, so they hold across reconnects to any replica, restarts and rebuilds.
A change is sent only once the projector's tracking record has passed it, i.e. its batch
was fully applied.
"""

from __future__ import annotations

import heapq
import json
import re
from dataclasses import dataclass

Position = dict[int, int]  # partition -> next offset not yet sent

KINDS = {
    "added": "entry_added",
    "corrected": "entry_corrected",
    "retracted": "entry_retracted",
    # a newer reading of the article (shared.domain.readings): rewritten, or gone from the timeline
    "reread": "entry_corrected",
    "superseded": "entry_retracted",
}
POSITION_PATTERN = r"^\d{1,6}:\d{1,18}(,\d{1,6}:\d{1,18}){0,999}$"
_POSITION = re.compile(POSITION_PATTERN)


class BadPosition(ValueError):
    pass


def parse_position(text: str) -> Position:
    """'0:13,1:0' -> {0: 13, 1: 0}. An empty text is no position."""
    if not _POSITION.match(text or ""):
        raise BadPosition("not a position from this API: partition:offset pairs like 0:13,1:0")
    out: Position = {}
    for pair in text.split(","):
        p, o = pair.split(":")
        out[int(p)] = int(o)
    return out


def format_position(pos: Position) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(pos.items()))


def merged(a: Position, b: Position) -> Position:
    return {p: max(a.get(p, 0), b.get(p, 0)) for p in a.keys() | b.keys()}


@dataclass(frozen=True)
class Change:
    """One applied change of one event: where it sits in the log and what it did."""

    partition: int
    offset: int
    recorded_at: str
    kind: str  # added | corrected | retracted
    story_id: str
    event_id: str
    entry_id: str  # the event's entry now
    previous_entry_id: str | None  # the entry it left, when a correction moved it


def changes_of(docs, since: Position, before: Position) -> list[Change]:
    """The changes the event documents record with since[p] <= offset < before[p], in log
    order per partition, partitions merged by recorded time. A document records its own
    arrival (`log`) and each correction (`history[].log`)."""
    per_partition: dict[int, list[Change]] = {}

    def within(p: int, o: int) -> bool:
        return since.get(p, 0) <= o < before.get(p, 0)

    for d in docs:
        log = d.get("log") or {}
        if "partition" in log and within(log["partition"], log["offset"]):
            per_partition.setdefault(log["partition"], []).append(
                Change(
                    log["partition"],
                    log["offset"],
                    d.get("recorded_at") or "",
                    "added",
                    d["story_id"],
                    d["event_id"],
                    d["entry_id"],
                    None,
                )
            )
        for h in d.get("history") or ():
            hl = h.get("log") or {}
            if "partition" in hl and within(hl["partition"], hl["offset"]):
                left = (h.get("previous") or {}).get("entry_id")
                per_partition.setdefault(hl["partition"], []).append(
                    Change(
                        hl["partition"],
                        hl["offset"],
                        h.get("recorded_at") or "",
                        h.get("kind") or "corrected",
                        d["story_id"],
                        d["event_id"],
                        d["entry_id"],
                        left if left and left != d["entry_id"] else None,
                    )
                )
    lists = [sorted(cs, key=lambda c: c.offset) for cs in per_partition.values()]
    return list(heapq.merge(*lists, key=lambda c: c.recorded_at))


def payload(change: Change, entries: dict[str, dict]) -> str:
    """The event's data line: the change plus its entries from the timeline's own dicts.
    Entries are grouped at read time (shared/domain/matching.py), so the event's entry is the
    one whose provenance holds it; the stored entry_id is the fallback."""
    entry = next(
        (e for e in entries.values() if any(p["event_id"] == change.event_id for p in e["provenance"])), None
    ) or entries.get(change.entry_id)
    entry_id = entry["entry_id"] if entry else change.entry_id
    previous_id = change.previous_entry_id if change.previous_entry_id != entry_id else None
    return json.dumps(
        {
            "change": change.kind,
            "story_id": change.story_id,
            "event_id": change.event_id,
            "entry_id": entry_id,
            "previous_entry_id": previous_id,
            "log": {"partition": change.partition, "offset": change.offset},
            "recorded_at": change.recorded_at,
            "entry": entry,
            "previous_entry": entries.get(previous_id) if previous_id else None,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def sse(event: str, data: str, event_id: str | None = None) -> str:
    """One event in the text/event-stream format (data has no newlines: compact JSON)."""
    return (f"id: {event_id}\n" if event_id is not None else "") + f"event: {event}\ndata: {data}\n\n"
