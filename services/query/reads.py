"""Service layer of the query side: reads the current read-model generation.

Queries stay simple for any MongoDB-wire server: find with equality, $in, $ne, $gt/$lt on
strings, an escaped case-insensitive $regex, sort and limit; no aggregation pipelines.
Every value that reaches a query is a validated string, never a client-built document.
"""
from __future__ import annotations

import threading

from shared.domain import read_model, timeline
from shared.domain.timeline import Entry, Filters

_EVENT_FIELDS = {"_id": 0}
_PUNCTUATION = set("\\^$.|?*+()[]{}-/#&~!\"%',:;<=>@`")


def regex_literal(text: str) -> str:
    """`text` as a regular expression matching itself, for PCRE, RE2 and Python alike."""
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def _exact_ci(text: str) -> dict:
    return {"$regex": f"^{regex_literal(text)}$", "$options": "i"}


class Reads:
    """One per app. Makes sure the indexes its queries need exist on each generation it reads."""

    def __init__(self, db):
        self.db = db
        self._indexed: set[int] = set()
        self._lock = threading.Lock()

    def collections(self) -> read_model.Collections:
        c = read_model.current(self.db)
        if c.generation not in self._indexed:
            with self._lock:
                if c.generation not in self._indexed:
                    self.ensure_indexes(c)
                    self._indexed.add(c.generation)
        return c

    @staticmethod
    def ensure_indexes(c: read_model.Collections) -> None:
        """Idempotent: create_index is a no-op when the index exists."""
        c.events.create_index([("story_id", 1), ("sort", 1)])      # timeline pages
        c.stories.create_index([("last_recorded_at", -1), ("_id", -1)])  # newest activity first
        # Open the tracking collection now too: the embedded store (litemongo) can fail when two
        # threads open one collection file for the first time at once (UNIQUE constraint on info.key).
        c.tracking.find_one({"_id": ""})

    # ------------------------------------------------------------ freshness

    @staticmethod
    def freshness(c: read_model.Collections) -> dict:
        positions = {d["_id"]: int(d.get("next_offset", 0)) for d in c.tracking.find({})}
        ordered = dict(sorted(positions.items()))
        text = f"g{c.generation}" + "".join(f";{k}={v}" for k, v in ordered.items())
        return {"generation": c.generation, "positions": ordered, "position": text}

    # ------------------------------------------------------------ stories

    @staticmethod
    def _story_defaults(doc: dict) -> dict:
        """The documented summary fields only (the projector may keep working fields of its
        own), with defaults for those a MongoDB-wire server dropped as null."""
        out = {"story_id": doc.get("story_id") or doc.get("_id")}
        for key in ("title", "first_date", "last_date", "last_recorded_at"):
            out[key] = doc.get(key)
        for key, default in (("participants", list), ("counts", dict), ("sources", list)):
            out[key] = doc.get(key) if doc.get(key) is not None else default()
        out["event_count"] = doc.get("event_count", sum(out["counts"].values()))
        return out

    def list_stories(self, c, q: str | None, actor: str | None, event_type: str | None, limit: int,
                     after: tuple[str, str] | None) -> tuple[list[dict], tuple[str, str] | None]:
        """Newest activity first (last_recorded_at, then story id, both descending)."""
        clauses: list[dict] = []
        if q:
            words = {"$regex": regex_literal(q), "$options": "i"}
            clauses.append({"$or": [{"title": words}, {"participants.name": words}, {"story_id": words}]})
        if actor:
            clauses.append({"participants": {"$elemMatch": {"name": _exact_ci(actor), "roles": "actor"}}})
        if event_type:
            clauses.append({f"counts.{event_type}": {"$gt": 0}})  # event_type is one of EVENT_TYPES
        if after:
            recorded, story_id = after
            clauses.append({"$or": [{"last_recorded_at": {"$lt": recorded}},
                                    {"last_recorded_at": recorded, "_id": {"$lt": story_id}}]})
        query = {"$and": clauses} if clauses else {}
        docs = list(c.stories.find(query).sort([("last_recorded_at", -1), ("_id", -1)]).limit(limit + 1))
        more = len(docs) > limit
        stories = [self._story_defaults(d) for d in docs[:limit]]
        last = stories[-1] if stories else None
        return stories, ((last["last_recorded_at"] or "", last["story_id"]) if more and last else None)

    def story(self, c, story_id: str, fields: tuple[str, ...] = ()) -> dict | None:
        doc = c.stories.find_one({"_id": story_id}, {k: 1 for k in fields} or None)
        return self._story_defaults(doc) if doc else None

    def articles(self, c, story_id: str) -> list[dict]:
        """The articles behind a story's events, oldest first."""
        seen: dict[str, dict] = {}
        for ev in c.events.find({"story_id": story_id}, {"source": 1, "published_at": 1}):
            src = ev.get("source") or {}
            if src.get("article_id") and src["article_id"] not in seen:
                seen[src["article_id"]] = {"article_id": src["article_id"], "url": src.get("url"),
                                           "outlet": src.get("outlet"), "title": src.get("title"),
                                           "published_at": ev.get("published_at")}
        return sorted(seen.values(), key=lambda a: (a["published_at"] or "", a["article_id"]))

    # ------------------------------------------------------------ timelines

    @staticmethod
    def event_query(story_id: str, f: Filters) -> dict:
        """The store's side of timeline.shows (as_of aside: history has to be undone first)."""
        q: dict = {"story_id": story_id}
        if f.types:
            q["event_type"] = {"$in": list(f.types)}
        if f.actor:
            q["actor.name"] = _exact_ci(f.actor)
        bounds = {}
        if f.sort_from:
            bounds["$gte"] = f.sort_from
        if f.sort_below:
            bounds["$lt"] = f.sort_below
        if bounds:
            q["sort"] = bounds
        if not f.include_retracted:
            q["status"] = {"$ne": "retracted"}
        return q

    def _known_events(self, c, story_id: str, f: Filters) -> list[dict]:
        """Every visible event of the story, as known at f.as_of: history is undone in memory
        (the current values may differ from those of then), so filters apply after it."""
        docs = c.events.find({"story_id": story_id, "recorded_at": {"$lte": f.as_of}}, _EVENT_FIELDS)
        known = (timeline.as_known_at(timeline.with_defaults(d), f.as_of) for d in docs)
        return [ev for ev in known if ev is not None and timeline.shows(ev, f)]

    def entries(self, c, story_id: str, f: Filters) -> list[Entry]:
        """All entries (narrative, TimelineJS)."""
        if f.as_of:
            return timeline.group(self._known_events(c, story_id, f))
        docs = c.events.find(self.event_query(story_id, f), _EVENT_FIELDS)
        return timeline.group([timeline.with_defaults(d) for d in docs])

    def entry_page(self, c, story_id: str, f: Filters, after: str | None,
                   limit: int) -> tuple[list[Entry], str | None]:
        if f.as_of:
            return timeline.page(self.entries(c, story_id, f), after, limit)
        return self._store_page(c, story_id, f, after, limit)

    def _store_page(self, c, story_id, f, after, limit):
        """One page read from the store in order, in one scan most of the time.

        Relies on the read model's grouping: all events of an entry share the day that
        starts their sort key (read_model.entry_id_for includes the day; an undated entry is
        one event). So an entry is complete once the scan has passed its day, and only
        entries of the cursor's day can have members on an earlier page."""
        base = self.event_query(story_id, f)
        bounds = base.get("sort", {})
        shown: set[str] = set()
        if after is not None:  # entries of the cursor's day that an earlier page already showed
            day_start = max(after[:10], bounds.get("$gte", ""))
            earlier = {**base, "sort": {**bounds, "$gte": day_start, "$lte": after}}
            shown = {d["entry_id"] for d in c.events.find(earlier, {"entry_id": 1, "_id": 0})}
        docs: list[dict] = []
        scanned, want = after, limit + limit // 4 + 8  # slack: the last day's entries may be cut short
        while True:
            scan = {**base, "sort": {**bounds, "$gt": scanned}} if scanned is not None else base
            batch = list(c.events.find(scan, _EVENT_FIELDS).sort("sort", 1).limit(want))
            docs += batch
            entries = timeline.group([timeline.with_defaults(d) for d in docs if d["entry_id"] not in shown])
            if len(batch) < want:
                return timeline.page(entries, after, limit)
            last_day = docs[-1]["sort"][:10]
            complete = [e for e in entries if e.position[:10] < last_day]
            if len(complete) > limit:
                return timeline.page(complete, after, limit)
            scanned, want = docs[-1]["sort"], want * 2
