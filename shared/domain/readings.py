"""Readings: the events one extractor version derived from one article. Pure, no I/O.

The article is the fact; its events are a *reading* of it, and a newer reading replaces the
older one. On the wire the first reading of an article is its events published one by one
(as ingest always did); a later one is a single `reading_replaced` event carrying the whole
new reading, so it lands in one message, in the story's partition, after everything it
replaces: a reading of zero events is simply an empty one.

Three questions are answered here:
- `current_readings`: given the events topic in log order, which events are each article's
  current reading (optionally as known at a time) — what `storyline reextract` diffs against;
- `diff`: what a new reading adds, removes and changes against the current one;
- `plan`: what the projection must do to its stored documents of one article to make a new
  reading current (insert, update with the replaced values kept, supersede).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from shared.domain import read_model

Doc = dict[str, Any]

READING_TYPE = "reading_replaced"

# What an event says about the article; the rest (when it was recorded, by which version,
# where it sits in the log or the store) does not make two readings differ.
_NOT_CONTENT = frozenset(
    {
        "recorded_at",
        "extractor",
        "log",
        "sort",
        "entry_id",
        "status",
        "history",
        "reading",
        "superseded_by",
        "_id",
        "schema_version",
    }
)
# Fields of an event document a new reading may rewrite (the identity fields cannot change:
# the event id is derived from article, type, actor and position).
REWRITABLE = (
    "occurred_at",
    "occurred_precision",
    "actor",
    "target",
    "quote",
    "summary",
    "details",
    "source",
    "responds_to",
    "published_at",
    "extractor",
)
# States an editor set: a new reading leaves them as they are (it may still supersede the event).
EDITED = ("corrected", "retracted")


def content(ev: Doc) -> Doc:
    """The part of an event that a reading is about (confidence included: it is what the extractor said)."""
    out = {k: v for k, v in ev.items() if k not in _NOT_CONTENT}
    out["confidence"] = (ev.get("extractor") or {}).get("confidence")
    return out


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def reading_id(article_id: str, extractor_version: str, evs: list[Doc]) -> str:
    """Identity of a reading: article, extractor version and a digest of its events' content."""
    digest = hashlib.sha256(_canon(sorted((_canon(content(e)) for e in evs))).encode()).hexdigest()
    return hashlib.sha256("\x1f".join([article_id, extractor_version, digest]).encode()).hexdigest()[:32]


def article_of(ev: Doc) -> str | None:
    if ev.get("event_type") == READING_TYPE:
        return str(ev["details"]["article_id"])
    article = (ev.get("source") or {}).get("article_id")
    return None if article is None else str(article)


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> Doc:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def diff(current: dict[str, Doc], new: list[Doc]) -> Diff:
    """`current`: event_id -> event of the article's current reading; `new`: the new reading."""
    out = Diff()
    new_ids = set()
    for ev in new:
        new_ids.add(ev["event_id"])
        old = current.get(ev["event_id"])
        if old is None:
            out.added.append(ev["event_id"])
        elif content(old) != content(ev):
            out.changed.append(ev["event_id"])
    out.removed = sorted(set(current) - new_ids)
    return out


def current_readings(received: list[Doc], as_of: str | None = None) -> dict[str, dict[str, Doc]]:
    """article_id -> {event_id: event}: each article's current reading, from events in log order
    (one story is one partition, so an article's events are totally ordered). A plain event
    joins its article's reading (the first copy of an id stands, as in the projection); a
    `reading_replaced` replaces the article's reading with its own events. With `as_of`, only
    what was recorded by then counts. Corrections are editors' business, not a reading's."""
    out: dict[str, dict[str, Doc]] = {}
    for ev in received:
        if as_of is not None and ev["recorded_at"] > as_of:
            continue
        article = article_of(ev)
        if article is None:
            continue
        if ev["event_type"] == READING_TYPE:
            out[article] = {e["event_id"]: e for e in ev["details"]["events"]}
        elif "source" in ev and ev.get("source"):
            out.setdefault(article, {}).setdefault(ev["event_id"], ev)
    return out


# ------------------------------------------------------------------ the projection's plan


@dataclass
class Plan:
    """What to write so that one article's new reading becomes current."""

    insert: list[Doc] = field(default_factory=list)  # new documents (no history yet)
    update: list[tuple[str, Doc, Doc]] = field(default_factory=list)  # (event_id, $set, history record)

    @property
    def empty(self) -> bool:
        return not (self.insert or self.update)


def plan(stored: list[Doc], reading: Doc, make_doc: Callable[[Doc], Doc]) -> Plan:
    """`stored`: the projection's documents of the article (any status); `reading`: a decoded
    `reading_replaced` event; `make_doc(ev)` turns a wire event into a fresh document (sort,
    entry_id, status, history). Idempotent: a reading already applied plans nothing.

    - an event of the new reading without a document is inserted;
    - one whose document differs (content, or it was superseded) is rewritten, and a history
      record keeps the values it replaced, so "as known at" an earlier time undoes it; an
      event an editor corrected or retracted keeps the editor's values;
    - a document of the article that the new reading lacks is marked superseded, linked to
      the reading that replaced it."""
    rid = reading["details"]["reading_id"]
    pub = reading["event_id"]  # this publication of the reading: a redelivery has the same one
    at = reading["recorded_at"]
    by_id = {d["event_id"]: d for d in stored}
    out = Plan()
    new_ids = set()
    for ev in reading["details"]["events"]:
        new_ids.add(ev["event_id"])
        doc = by_id.get(ev["event_id"])
        if doc is None:
            fresh = make_doc(ev)
            fresh["reading"] = rid
            out.insert.append(fresh)
            continue
        if _applied(doc, pub):
            continue
        superseded = doc.get("status") == "superseded"
        if doc.get("status") in EDITED:
            changes = {}
        else:
            changes = {k: copy.deepcopy(ev.get(k)) for k in REWRITABLE if _canon(doc.get(k)) != _canon(ev.get(k))}
        if content({**doc, **changes}) == content(doc) and not superseded:
            continue  # nothing the reading is about differs (recorded_at, version): leave it
        new_status = "active" if superseded or doc.get("status") is None else doc["status"]
        merged = make_doc({**doc, **changes})
        new = {
            **changes,
            "status": new_status,
            "reading": rid,
            "superseded_by": None,
            "sort": merged["sort"],
            "entry_id": merged["entry_id"],
        }
        previous = {k: copy.deepcopy(doc.get(k)) for k in changes}
        previous.update(
            status=doc.get("status", "active"),
            sort=doc.get("sort"),
            entry_id=doc.get("entry_id"),
            reading=doc.get("reading"),
            superseded_by=doc.get("superseded_by"),
        )
        out.update.append((ev["event_id"], new, _record(pub, rid, at, "reread", changes, previous)))
    for doc in stored:
        if doc["event_id"] in new_ids or doc.get("status") == "superseded" or _applied(doc, pub):
            continue
        previous = {"status": doc.get("status", "active"), "superseded_by": doc.get("superseded_by")}
        out.update.append(
            (
                doc["event_id"],
                {"status": "superseded", "superseded_by": rid},
                _record(pub, rid, at, "superseded", {}, previous),
            )
        )
    return out


def _applied(doc: Doc, pub: str) -> bool:
    return any(h.get("change_id") == pub for h in doc.get("history") or ())


def _record(pub: str, rid: str, at: str, kind: str, changes: Doc, previous: Doc) -> Doc:
    return {
        "change_id": pub,
        "kind": kind,
        "recorded_at": at,
        "changes": changes,
        "previous": previous,
        "reading": rid,
        "reason": "a newer reading of the article",
        "editor": None,
    }


# ------------------------------------------------------------------ the write port's switch


def new_document(ev: Doc, reading: Doc) -> Doc:
    """A wire event of a reading as a fresh event document (sort, entry_id, status, history)."""
    doc = {k: v for k, v in ev.items() if k != "_id"}
    doc["log"] = doc.get("log") or reading["log"]
    doc["sort"] = read_model.sort_key(doc)
    doc["entry_id"] = read_model.entry_id_for(doc)
    doc.setdefault("status", "active")
    doc.setdefault("history", [])
    return doc


def switch(stored: list[Doc], reading: Doc) -> Plan:
    """`plan`, stamped with where the switch sits in the log (`reading["log"]`): each document
    it writes gets the reading's offset as change_offset, each history record its position, so
    the live updates (ReadView.changes_since) see the switch. What a store's
    ProjectionBatch.replace_reading applies, inside its batch."""
    out = plan(stored, reading, lambda ev: new_document(ev, reading))
    at = {"partition": reading["log"]["partition"], "offset": reading["log"]["offset"]}
    for doc in out.insert:
        doc["change_offset"] = at["offset"]
    for _, new, record in out.update:
        new["change_offset"], record["log"] = at["offset"], at
    return out


def updated(doc: Doc, new: Doc, record: Doc) -> Doc | None:
    """The document after one of a plan's updates, or None when that publication of the
    reading was applied to it already (a redelivery, or another projector raced it)."""
    if _applied(doc, record["change_id"]):
        return None
    out = {**doc, **copy.deepcopy(new)}
    out["history"] = [*(doc.get("history") or ()), copy.deepcopy(record)]
    return out
