"""The projection: events -> timeline documents, one code path for every store.

Exactly-once effect from at-least-once delivery:
- event documents are upserted by event_id with $setOnInsert, so a repeat never
  overwrites (a newer state only ever comes from a correction, which is guarded by its
  own change id);
- a tracking record per partition, written after the batch, lets a restarted projector
  skip what it applied before it could commit to Kafka;
- story summaries are advanced incrementally from the events a batch inserted. When a
  batch meets an event that was already there (a redelivery after a crash), the summary of
  that story is recomputed from its events instead, since the crash may have landed
  between the event write and the summary write.

The document shapes are defined in shared/domain/read_model.py.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pymongo import ReplaceOne, UpdateOne

from shared.domain import events, read_model
from shared.ports import Message

_CHUNK = 200  # bounded bulk_write batches keep MongoDB-wire servers responsive
_SUMMARY_FIELDS = {"event_type": 1, "actor": 1, "target": 1, "occurred_at": 1, "published_at": 1,
                   "source": 1, "recorded_at": 1, "status": 1}


@dataclass
class DeadLetter:
    """A message the projection cannot apply, with where it came from and why."""
    message: Message
    reason: str


@dataclass
class Prepared:
    """A batch sorted into what to apply and what to set aside."""
    findings: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)


class Projection:
    def __init__(self, db, group: str, generation: int | None = None):
        self.db = db
        self.group = group
        self.fixed_generation = generation
        self.c = read_model.Collections(db, generation or read_model.current_generation(db))

    def generation_moved(self) -> bool:
        return self.fixed_generation is None and read_model.current_generation(self.db) != self.c.generation

    def refresh_generation(self) -> bool:
        """Follow the readers' pointer (unless pinned); True when it moved."""
        if self.fixed_generation is not None:
            return False
        g = read_model.current_generation(self.db)
        if g == self.c.generation:
            return False
        self.c = read_model.Collections(self.db, g)
        self.ensure_indexes()
        return True

    def ensure_indexes(self) -> None:
        self.c.events.create_index([("story_id", 1), ("sort", 1)])

    def tracked(self, topic: str, partition: int) -> int:
        """Next offset to apply for a partition, from the tracking record (-1 when none)."""
        doc = self.c.tracking.find_one({"_id": f"{self.group}:{topic}:{partition}"})
        return doc["next_offset"] if doc else -1

    # -- step 1: decode, no writes ---------------------------------------------------------
    def prepare(self, batch: list[Message], pending: Prepared | None = None) -> Prepared:
        """`pending`: a batch prepared earlier whose write may not have landed yet; a
        correction may name one of its events."""
        out = Prepared()
        skip_below: dict[tuple[str, int], int] = {}
        batch_ids: set[str] = set()
        pending_ids = {ev["event_id"] for ev in pending.findings} if pending else set()
        for msg in batch:
            tp = (msg.topic, msg.partition)
            if tp not in skip_below:
                skip_below[tp] = self.tracked(*tp)
            out.positions[tp] = msg.offset + 1
            if msg.offset < skip_below[tp]:
                continue  # applied before a crash that happened ahead of the commit
            try:
                ev = events.decode(msg.value)
            except ValueError as exc:
                out.dead.append(DeadLetter(msg, str(exc)[:2000]))
                continue
            ev["log"] = {"partition": msg.partition, "offset": msg.offset, "timestamp_ms": msg.timestamp_ms}
            if ev["event_type"] in events.CHANGE_TYPES:
                target = ev["details"]["event_id"]
                if target not in batch_ids and target not in pending_ids and self.c.events.find_one({"_id": target}, {"_id": 1}) is None:
                    out.dead.append(DeadLetter(msg, f"{ev['event_type']}: no event {target} in the timeline"))
                    continue
                out.changes.append(ev)
            else:
                if ev["event_id"] in batch_ids:
                    continue  # a second copy within one batch: the first stands, and counts once
                ev["sort"] = read_model.sort_key(ev)
                ev["entry_id"] = read_model.entry_id_for(ev)
                ev["status"], ev["history"] = "active", []
                ev["change_offset"] = msg.offset  # later, its latest correction's offset (live updates)
                out.findings.append(ev)
                batch_ids.add(ev["event_id"])
        return out

    # -- step 2: write ---------------------------------------------------------------------
    def apply(self, prepared: Prepared) -> None:
        """Write a prepared batch, then its tracking records."""
        redelivered: set[str] = set()
        inserted: list[dict] = []
        for i in range(0, len(prepared.findings), _CHUNK):
            chunk = prepared.findings[i:i + _CHUNK]
            result = self.c.events.bulk_write(
                [UpdateOne({"_id": ev["event_id"]}, {"$setOnInsert": ev}, upsert=True) for ev in chunk],
                ordered=True)
            # By id, not by index: not every pymongo-compatible store numbers them alike.
            upserted = set((result.upserted_ids or {}).values())
            for ev in chunk:
                if ev["event_id"] in upserted:
                    inserted.append(ev)
                else:
                    redelivered.add(ev["story_id"])
        changed_stories = {self._apply_change(change) for change in prepared.changes} - {None}
        self._advance_summaries(inserted, redelivered | changed_stories)
        for (topic, partition), nxt in prepared.positions.items():
            self.c.tracking.update_one({"_id": f"{self.group}:{topic}:{partition}"},
                                       {"$max": {"next_offset": nxt}}, upsert=True)

    def _apply_change(self, change: dict) -> str | None:
        """Correct or retract one event; the history keeps what each change replaced.
        Returns the story touched, or None when the event to change is unknown."""
        d = change["details"]
        target = self.c.events.find_one({"_id": d["event_id"]})
        if target is None:
            return None
        if any(h.get("change_id") == change["event_id"] for h in target.get("history", [])):
            return target["story_id"]  # applied before
        retract = change["event_type"] == "event_retracted"
        changes = {} if retract else dict(d.get("changes") or {})
        previous = {k: target.get(k) for k in changes}
        previous["status"] = target.get("status", "active")
        new = {**changes, "status": "retracted" if retract else "corrected",
               "change_offset": max(change["log"]["offset"], target.get("change_offset", -1))}
        merged = {**target, **changes}
        new["sort"] = read_model.sort_key(merged)
        new["entry_id"] = read_model.entry_id_for(merged)
        previous.update(sort=target.get("sort"), entry_id=target.get("entry_id"))
        record = {"change_id": change["event_id"], "kind": "retracted" if retract else "corrected",
                  "recorded_at": change["recorded_at"], "changes": changes, "previous": previous,
                  "reason": d.get("reason"), "editor": change["actor"]["name"] if change.get("actor") else None,
                  "log": {"partition": change["log"]["partition"], "offset": change["log"]["offset"]}}
        # The $ne guard makes a redelivered change a no-op even if two projectors race.
        self.c.events.update_one({"_id": target["_id"], "history.change_id": {"$ne": change["event_id"]}},
                                 {"$set": new, "$push": {"history": record}})
        return target["story_id"]

    def _advance_summaries(self, inserted: list[dict], recompute: set[str]) -> None:
        by_story: dict[str, list[dict]] = {}
        for ev in inserted:
            if ev["story_id"] not in recompute:
                by_story.setdefault(ev["story_id"], []).append(ev)
        ops = []
        if by_story:
            existing = {s["_id"]: s for s in self.c.stories.find({"_id": {"$in": list(by_story)}})}
            for story_id, evs in by_story.items():
                ops.append(ReplaceOne({"_id": story_id}, summarise(story_id, evs, existing.get(story_id)),
                                      upsert=True))
        for story_id in recompute:
            evs = list(self.c.events.find({"story_id": story_id}, _SUMMARY_FIELDS))
            ops.append(ReplaceOne({"_id": story_id}, summarise(story_id, evs, None), upsert=True))
        for i in range(0, len(ops), _CHUNK):
            self.c.stories.bulk_write(ops[i:i + _CHUNK], ordered=True)


def summarise(story_id: str, evs: list[dict], base: dict | None) -> dict:
    """Fold events into a story summary, starting from `base` (None: from nothing).
    Pure, so the incremental and the full path give the same document."""
    s = base or {"_id": story_id, "story_id": story_id, "title": None, "title_published_at": None,
                 "participants": [], "counts": {}, "event_count": 0, "first_date": None,
                 "last_date": None, "sources": [], "last_recorded_at": None}
    counts = Counter(s.get("counts") or {})
    participants = {p["name"]: dict(p, roles=list(p["roles"])) for p in s.get("participants") or []}
    sources = set(s.get("sources") or [])
    first, last = s.get("first_date"), s.get("last_date")
    title, title_at, recorded = s.get("title"), s.get("title_published_at"), s.get("last_recorded_at")
    active = 0
    for e in evs:
        if e.get("status", "active") == "retracted":
            continue
        active += 1
        counts[e["event_type"]] += 1
        for role, ent in (("actor", e.get("actor")), ("target", e.get("target"))):
            if ent:
                p = participants.setdefault(ent["name"], {"name": ent["name"], "kind": ent["kind"], "roles": []})
                if role not in p["roles"]:
                    p["roles"].append(role)
        day = e.get("occurred_at") or e["published_at"]
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
        sources.add(e["source"]["article_id"])
        if title_at is None or e["published_at"] < title_at:
            title, title_at = e["source"].get("title"), e["published_at"]
        recorded = e["recorded_at"] if recorded is None or e["recorded_at"] > recorded else recorded
    return {"_id": story_id, "story_id": story_id, "title": title, "title_published_at": title_at,
            "participants": sorted(participants.values(), key=lambda p: p["name"]),
            "counts": dict(counts), "event_count": (s.get("event_count") or 0) + active,
            "first_date": first, "last_date": last, "sources": sorted(sources), "last_recorded_at": recorded}
