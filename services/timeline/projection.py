"""The projection: events -> timeline documents, one code path for every store.

Exactly-once effect from at-least-once delivery: event documents are upserted by
event_id with $setOnInsert (a repeat never overwrites), and a tracking record per
partition, written after the batch, lets a restarted projector skip what it applied.
"""
from __future__ import annotations

from collections import Counter

from pymongo import UpdateOne

from shared import events, read_model
from shared.ports import Message

DEAD_LETTERS = "dead_letters"
_CHUNK = 200  # bounded bulk_write batches keep MongoDB-wire servers responsive


class Projection:
    dead_lettered = 0  # dead letters set aside since start, read by the projector's metrics

    def __init__(self, db, group: str, generation: int | None = None):
        self.db = db
        self.group = group
        self.fixed_generation = generation
        self.c = read_model.Collections(db, generation or read_model.current_generation(db))

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

    def apply(self, batch: list[Message]) -> dict[tuple[str, int], int]:
        """Apply a batch; return the next offset per partition, safe to commit."""
        positions: dict[tuple[str, int], int] = {}
        ops, dead, stories = [], [], set()
        skip_below: dict[tuple[str, int], int] = {}
        for msg in batch:
            tp = (msg.topic, msg.partition)
            if tp not in skip_below:
                skip_below[tp] = self.tracked(*tp)
            positions[tp] = msg.offset + 1
            if msg.offset < skip_below[tp]:
                continue  # applied before a crash that happened ahead of the commit
            try:
                ev = events.decode(msg.value)
            except ValueError as exc:
                dead.append({"_id": f"{msg.topic}:{msg.partition}:{msg.offset}", "topic": msg.topic,
                             "partition": msg.partition, "offset": msg.offset, "reason": str(exc)[:2000],
                             "key": msg.key, "value": msg.value.decode("utf-8", "replace")})
                continue
            ev["log"] = {"partition": msg.partition, "offset": msg.offset, "timestamp_ms": msg.timestamp_ms}
            ev["sort"] = read_model.sort_key(ev)
            ev["entry_id"] = read_model.entry_id_for(ev)
            ev["status"], ev["history"] = "active", []
            ops.append(UpdateOne({"_id": ev["event_id"]}, {"$setOnInsert": ev}, upsert=True))
            stories.add(ev["story_id"])
        for i in range(0, len(ops), _CHUNK):
            self.c.events.bulk_write(ops[i:i + _CHUNK], ordered=True)
        for d in dead:
            self.db[DEAD_LETTERS].update_one({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True)
        self.dead_lettered += len(dead)
        for story_id in stories:
            self._summarise(story_id)
        for (topic, partition), nxt in positions.items():
            self.c.tracking.update_one({"_id": f"{self.group}:{topic}:{partition}"},
                                         {"$max": {"next_offset": nxt}}, upsert=True)
        return positions

    def _summarise(self, story_id: str) -> None:
        evs = list(self.c.events.find({"story_id": story_id},
                                        {"event_type": 1, "actor": 1, "target": 1, "occurred_at": 1,
                                         "published_at": 1, "source": 1, "recorded_at": 1}))
        counts = Counter(e["event_type"] for e in evs)
        participants: dict[str, dict] = {}
        for e in evs:
            for role, ent in (("actor", e.get("actor")), ("target", e.get("target"))):
                if ent:
                    p = participants.setdefault(ent["name"], {"name": ent["name"], "kind": ent["kind"], "roles": []})
                    if role not in p["roles"]:
                        p["roles"].append(role)
        dates = sorted(e.get("occurred_at") or e["published_at"] for e in evs)
        first_title = min(evs, key=lambda e: e["published_at"])["source"].get("title") if evs else None
        self.c.stories.replace_one({"_id": story_id}, {
            "_id": story_id, "story_id": story_id, "title": first_title,
            "participants": sorted(participants.values(), key=lambda p: p["name"]),
            "counts": dict(counts), "event_count": len(evs),
            "first_date": dates[0] if dates else None, "last_date": dates[-1] if dates else None,
            "sources": sorted({e["source"]["article_id"] for e in evs}),
            "last_recorded_at": max(e["recorded_at"] for e in evs) if evs else None,
        }, upsert=True)
