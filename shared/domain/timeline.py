"""Timeline domain, no I/O: event documents -> timeline entries, "as known at", paging.

An entry is one real-world event: the event documents sharing an `entry_id` (several
articles may report it). Its position in the documented order is the smallest `sort` key
of its visible members (see shared.domain.read_model.sort_key); entries are ordered and paged by it.
"""
from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.domain import read_model

ORDER = ("event time (occurred_at; an undated event sits after the dated events of its publication day), "
         "then publication time, then log position (partition, offset)")

# Fields some MongoDB-wire servers drop when they are null; the contract keeps them.
_DEFAULTS = {"occurred_at": None, "occurred_precision": None, "target": None, "quote": None,
             "status": "active", "history": list, "details": dict}
_ENTRY_INPUTS = ("story_id", "event_type", "actor", "target", "occurred_at")


def with_defaults(ev: dict) -> dict:
    for key, default in _DEFAULTS.items():
        if ev.get(key) is None and (key not in ev or default is not None):
            ev[key] = default() if callable(default) else default
    return ev


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


def shows(ev: dict, f: Filters) -> bool:
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


# ---------------------------------------------------------------- as known at a time

def _set_path(doc: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        doc = doc.setdefault(key, {})
    doc[last] = value


def as_known_at(ev: dict, as_of: str) -> dict | None:
    """The event as it stood at `as_of`: None when it was recorded later; otherwise the
    changes recorded after `as_of` are undone from their `previous` values, newest first."""
    if ev["recorded_at"] > as_of:
        return None
    later = [h for h in ev["history"] if h.get("recorded_at", "") > as_of]
    if not later:
        return ev
    ev = copy.deepcopy(ev)
    undone: set[str] = set()
    for change in sorted(later, key=lambda h: h.get("recorded_at", ""), reverse=True):
        for key, value in (change.get("previous") or {}).items():
            _set_path(ev, key, value)
            undone.add(key.split(".")[0])
    ev["history"] = [h for h in ev["history"] if h.get("recorded_at", "") <= as_of]
    kinds = {h.get("kind") for h in ev["history"]}
    ev["status"] = "retracted" if "retracted" in kinds else "corrected" if kinds else "active"
    # Order and grouping follow the restored values unless the change recorded them itself.
    if "sort" not in undone and undone & {"occurred_at", "published_at"}:
        ev["sort"] = read_model.sort_key(ev)
    if "entry_id" not in undone and undone & set(_ENTRY_INPUTS):
        ev["entry_id"] = read_model.entry_id_for(ev)
    return ev


# ---------------------------------------------------------------- entries

def _provenance(ev: dict) -> dict:
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
    members: list[dict] = field(default_factory=list)
    responds_to: list[str] = field(default_factory=list)  # entry_ids, resolved by group()

    def to_dict(self) -> dict:
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


def group(events: list[dict]) -> list[Entry]:
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


def encode_cursor(values: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str, keys: tuple[str, ...]) -> dict:
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
