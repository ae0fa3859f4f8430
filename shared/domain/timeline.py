"""Timeline domain, no I/O: event documents -> timeline entries, "as known at", paging.

An entry is one real-world event: the event documents sharing an `entry_id` (several
articles may report it). Its position in the documented order is the smallest `sort` key
of its visible members (see shared.domain.read_model.sort_key); entries are ordered and paged by it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# as_known_at lives with apply_change (its inverse); re-exported for readers of entries
from shared.domain.corrections import as_known_at as as_known_at

ORDER = ("event time (occurred_at; an undated event sits after the dated events of its publication day), "
         "then publication time, then log position (partition, offset)")

@dataclass(frozen=True)
class Filters:
    """Which events a timeline shows. since/until bound the event day (an undated event
    counts by its publication day), inclusive; retracted events are hidden unless asked for."""
    types: tuple[str, ...] = ()
    actor: str | None = None
    since: date | None = None
    until: date | None = None
    include_retracted: bool = False
    as_of: str | None = None  # UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ", comparable with recorded_at

    @property
    def sort_from(self) -> str | None:
        return self.since.isoformat() if self.since else None

    @property
    def sort_below(self) -> str | None:
        # every sort key of the day `until` starts with that day, so the next day bounds it
        return (self.until + timedelta(days=1)).isoformat() if self.until else None

    def fingerprint(self, story_id: str) -> str:
        canon = [story_id, sorted(self.types), (self.actor or "").lower(), self.sort_from, self.sort_below,
                 self.include_retracted, self.as_of]
        return hashlib.sha256(json.dumps(canon).encode()).hexdigest()[:16]


def shows(ev: dict[str, Any], f: Filters) -> bool:
    """The per-event predicate; the store query in services.query.reads says the same."""
    if f.types and ev["event_type"] not in f.types:
        return False
    if f.actor and ev["actor"]["name"].lower() != f.actor.lower():
        return False
    if f.sort_from and ev["sort"] < f.sort_from:
        return False
    if f.sort_below and ev["sort"] >= f.sort_below:
        return False
    return f.include_retracted or ev["status"] != "retracted"


# as known at a time: shared.domain.corrections (the undoing half of applying a change)


# ---------------------------------------------------------------- entries

def _provenance(ev: dict[str, Any]) -> dict[str, Any]:
    src = ev["source"]
    return {"event_id": ev["event_id"], "article_id": src["article_id"], "url": src.get("url"),
            "outlet": src.get("outlet"), "title": src.get("title"), "published_at": ev["published_at"],
            "sentence": src["sentence"], "char_start": src["char_start"], "char_end": src["char_end"],
            "extractor_version": ev["extractor"]["version"], "confidence": ev["extractor"]["confidence"],
            "recorded_at": ev["recorded_at"], "status": ev["status"],
            "corrections": [{k: h.get(k) for k in ("change_id", "kind", "recorded_at", "changes", "previous", "reason", "editor")}
                            for h in ev["history"]],
            "log": {"partition": ev["log"]["partition"], "offset": ev["log"]["offset"]} if ev.get("log") else None}


@dataclass
class Entry:
    position: str
    members: list[dict[str, Any]] = field(default_factory=list)
    responds_to: list[str] = field(default_factory=list)  # entry_ids, resolved by group()

    def to_dict(self) -> dict[str, Any]:
        lead = self.members[0]
        statuses = {m["status"] for m in self.members}
        status = "retracted" if statuses == {"retracted"} else "corrected" if "corrected" in statuses else "active"
        return {"entry_id": lead["entry_id"], "event_type": lead["event_type"],
                "occurred_at": lead["occurred_at"], "occurred_precision": lead["occurred_precision"],
                "dated": lead["occurred_at"] is not None, "published_at": lead["published_at"],
                "actor": lead["actor"], "target": lead["target"], "summary": lead["summary"],
                "quote": lead["quote"], "details": lead["details"], "status": status,
                "retracted": status == "retracted",
                "confidence": max(m["extractor"]["confidence"] for m in self.members),
                "responds_to": list(self.responds_to),
                "provenance": [_provenance(m) for m in self.members]}


def group(events: list[dict[str, Any]]) -> list[Entry]:
    """Visible events -> entries in the documented order."""
    by_id: dict[str, Entry] = {}
    for ev in sorted(events, key=lambda e: e["sort"]):
        entry = by_id.get(ev["entry_id"])
        if entry is None:
            entry = by_id[ev["entry_id"]] = Entry(position=ev["sort"])
        entry.members.append(ev)
    entry_of = {ev["event_id"]: ev["entry_id"] for ev in events}
    for entry in by_id.values():
        linked = {entry_of[r] for m in entry.members for r in m.get("responds_to") or () if r in entry_of}
        entry.responds_to = sorted(linked - {entry.members[0]["entry_id"]})
    return sorted(by_id.values(), key=lambda e: e.position)


def page(entries: list[Entry], after: str | None, limit: int) -> tuple[list[Entry], str | None]:
    """The `limit` entries after position `after`, and the position to continue from (None at the end)."""
    rest = [e for e in entries if after is None or e.position > after]
    chosen = rest[:limit]
    return chosen, (chosen[-1].position if len(rest) > limit else None)


# ---------------------------------------------------------------- cursors

class BadCursor(ValueError):
    pass


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Opaque to clients; it names the query it belongs to, so it cannot be reused with other filters."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise BadCursor("not a cursor from this API") from None
    if not isinstance(values, dict) or not all(isinstance(values.get(k), str) for k in keys + ("f",)):
        raise BadCursor("not a cursor from this API")
    if values["f"] != fingerprint:
        raise BadCursor("this cursor belongs to a different query (story, filters or as_of changed)")
    return values
