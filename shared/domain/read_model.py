"""The read model: what the projector writes and the query service reads, defined once.

Generations. The projection lives in a numbered generation (MongoDB: collections
`timeline_events_g3`, `stories_g3`, `tracking_g3`; SQLite: tables of the same names). A
pointer names the generation readers use; `storyline rebuild` fills a fresh generation from
the log while the live one serves, then moves the pointer in one write. The stores
(shared/adapters/*_store.py) keep these documents behind the ports of shared/ports.py.

Event document (key event_id): the wire envelope of shared.domain.events plus
  log        {partition, offset, timestamp_ms}  where it sits in the log
  sort       string, the documented timeline order (see sort_key)
  entry_id   the timeline entry it belongs to: one real-world event reported by several
             articles shares one entry_id (see entry_id_for)
  status     "active" | "corrected" | "retracted" | "superseded" (an older reading of its
             article: never shown, kept for "as known at" and for the record)
  history    [{change_id, kind: "corrected"|"retracted"|"reread"|"superseded", recorded_at, changes,
             previous, reason, editor, reading}] oldest first; `previous` holds the values `changes`
             replaced, so a reader can undo the changes recorded after a given time ("as known at");
             each record also has `log` {partition, offset}: where the change sits in the log.
             "reread"/"superseded" come from a newer reading (shared.domain.readings): change_id
             is the `reading_replaced` event's id, `reading` the reading's id
  reading    the id of the reading that last wrote the document (absent for a first reading)
  superseded_by  the reading that replaced it, while superseded
  change_offset  the log offset of the last change applied to the event: its own offset,
             then its latest correction's or reading's (a story lives on one partition, so this
             orders the story's changes; ReadView.changes_since reads it)

Story document (key story_id): title, participants
[{name, kind, roles}], counts {event_type: n} (active events only), event_count,
first_date, last_date, sources [article_id], last_recorded_at.

Tracking record (key "group:topic:partition"): next_offset: the next log offset this generation has not applied yet.
"""

from __future__ import annotations

import hashlib
from typing import Any

FIRST_GENERATION = 1


def events_name(generation: int) -> str:
    return f"timeline_events_g{generation}"


def stories_name(generation: int) -> str:
    return f"stories_g{generation}"


def tracking_name(generation: int) -> str:
    return f"tracking_g{generation}"


def sort_key(ev: dict[str, Any]) -> str:
    """Documented order: event time (an undated event sits after the dated ones of its
    publication day), then publication time, then log position. A string, because
    MongoDB sorts arrays by their smallest element."""
    dated, published, log = ev.get("occurred_at"), ev["published_at"], ev["log"]
    if dated:
        return f"{dated}|0|{published}|{log['partition']:06d}|{log['offset']:015d}"
    return f"{published[:10]}|1|{published}|{log['partition']:06d}|{log['offset']:015d}"


def entry_id_for(ev: dict[str, Any]) -> str:
    """Same story, kind, actor, target and day: the same real-world event, whichever article
    reported it. An undated event cannot be matched safely, so it stays its own entry."""
    day = (ev.get("occurred_at") or "")[:10]
    target = ev.get("target") or {}
    key = "\x1f".join(
        (
            ev["story_id"],
            ev["event_type"],
            ev["actor"]["name"].lower(),
            target.get("name", "").lower(),
            day if day else "undated:" + ev["event_id"],
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def event_document(ev: dict[str, Any], partition: int, offset: int, timestamp_ms: int) -> dict[str, Any]:
    """A decoded finding as the projection first stores it (`ev` becomes the document)."""
    ev["log"] = {"partition": partition, "offset": offset, "timestamp_ms": timestamp_ms}
    ev["status"], ev["history"], ev["change_offset"] = "active", [], offset
    ev["sort"] = sort_key(ev)
    ev["entry_id"] = entry_id_for(ev)
    return ev


def tracking_key(group: str, topic: str, partition: int) -> str:
    return f"{group}:{topic}:{partition}"
