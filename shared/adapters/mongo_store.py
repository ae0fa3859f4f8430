"""The read model on a MongoDB-wire server (pymongo).

Collections per generation g: timeline_events_g{g} (`_id` = event_id), stories_g{g}
(`_id` = story_id), tracking_g{g} (`_id` = tracking key, {next_offset}); projection_meta
holds the readers' pointer and the generation counter; story_index is ingest's article
index. A projection batch runs in a transaction when the server is a replica set; on a
standalone server its writes go in order, tracking last, so a crash replays harmlessly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure

from shared.domain import read_model, readings
from shared.domain.corrections import apply_change
from shared.domain.summaries import SUMMARY_FIELDS, summarise
from shared.ports import EventQuery, Freshness, StoryQuery

META = "projection_meta"
ARTICLES = "story_index"
_CHUNK = 1000
_DUPLICATE_KEY = 11000
_T = TypeVar("_T")
_PUNCTUATION = set("\\^$.|?*+()[]{}-/#&~!\"%',:;<=>@`")
# Fields of the contract that are null by default; some MongoDB-wire servers do not store a
# null, so documents are completed on the way out (this adapter's concern, nobody else's).
_NULLABLE = ("occurred_at", "occurred_precision", "target", "quote")


def regex_literal(text: str) -> str:
    """`text` as a regular expression matching itself, for PCRE, RE2 and Python alike."""
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def _exact_ci(text: str) -> dict[str, str]:
    return {"$regex": f"^{regex_literal(text)}$", "$options": "i"}


def _event_out(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("_id", None)
    for key in _NULLABLE:
        doc.setdefault(key, None)
    return doc


def _story_out(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("_id", None)
    for key in ("title", "title_published_at", "first_date", "last_date", "last_recorded_at"):
        doc.setdefault(key, None)
    return doc


def _chunks(items: list[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def open_database(url: str) -> Database[Any]:
    import pymongo

    # retryWrites=false: MongoDB-wire servers without replica sets reject retryable writes.
    # Short server selection: with the store away a request fails in ~2 s with a clear
    # error (the services answer 503) instead of hanging; the projector retries with backoff.
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(
        url,
        retryWrites=False,
        serverSelectionTimeoutMS=2000,
        connectTimeoutMS=3000,
        socketTimeoutMS=30000,
        tz_aware=False,
        appname="storyline",
    )
    return client.get_default_database("storyline")


class MongoStore:
    """Both ports of the read model (ProjectionStore, ReadStore) and ingest's ArticleIndex."""

    def __init__(self, db: Database[Any]):
        self.db = db
        self._ready: set[int] = set()
        self._transactions: bool | None = None
        self._articles_ready = False

    def ping(self) -> None:
        self.db.command("ping")

    def close(self) -> None:
        self.db.client.close()

    def _coll(self, kind: str, generation: int) -> Any:
        names = {
            "events": read_model.events_name,
            "stories": read_model.stories_name,
            "tracking": read_model.tracking_name,
        }
        return self.db[names[kind](generation)]

    # ------------------------------------------------------------ generations

    def current_generation(self) -> int:
        doc = self.db[META].find_one({"_id": "current"})
        return int(doc["generation"]) if doc else read_model.FIRST_GENERATION

    def ensure_generation(self, generation: int) -> None:
        if generation in self._ready:
            return
        self._coll("events", generation).create_index([("story_id", 1), ("sort", 1)])
        self._coll("events", generation).create_index([("log.partition", 1), ("change_offset", 1)])
        self._coll("stories", generation).create_index([("last_recorded_at", -1), ("_id", -1)])
        self._ready.add(generation)

    def _generations_in(self) -> list[int]:
        prefix = read_model.events_name(0)[:-1]
        return [
            int(n[len(prefix) :])
            for n in self.db.list_collection_names()
            if n.startswith(prefix) and n[len(prefix) :].isdigit()
        ]

    def open_generation(self) -> int:
        doc = self.db[META].find_one({"_id": "latest"}) or {"generation": 0}
        new = max([self.current_generation(), doc["generation"], *self._generations_in()]) + 1
        self.db[META].replace_one({"_id": "latest"}, {"_id": "latest", "generation": new}, upsert=True)
        self.ensure_generation(new)
        return new

    def switch_generation(self, generation: int) -> None:
        self.db[META].replace_one({"_id": "current"}, {"_id": "current", "generation": generation}, upsert=True)

    def drop_generation(self, generation: int) -> None:
        for kind in ("events", "stories", "tracking"):
            self._coll(kind, generation).drop()
        self._ready.discard(generation)

    # ------------------------------------------------------------ projection side

    def tracked(self, generation: int, key: str) -> int:
        doc = self._coll("tracking", generation).find_one({"_id": key})
        return int(doc["next_offset"]) if doc else -1

    def has_event(self, generation: int, event_id: str) -> bool:
        return self._coll("events", generation).find_one({"_id": event_id}, {"_id": 1}) is not None

    def _offers_transactions(self) -> bool:
        if self._transactions is None:
            try:
                hello = self.db.client.admin.command("hello")
                self._transactions = bool(hello.get("setName")) and "logicalSessionTimeoutMinutes" in hello
            except OperationFailure:
                self._transactions = False
        return self._transactions

    @contextlib.contextmanager
    def batch(self, generation: int) -> Iterator[_Batch]:
        self.ensure_generation(generation)
        if not self._offers_transactions():
            yield _Batch(self, generation, None)
            return
        with self.db.client.start_session() as session, session.start_transaction():
            yield _Batch(self, generation, session)

    # ------------------------------------------------------------ read side

    @contextlib.contextmanager
    def view(self) -> Iterator[_View]:
        generation = self.current_generation()
        self.ensure_generation(generation)
        yield _View(self, generation)

    # ------------------------------------------------------------ ingest's article index

    @property
    def _articles(self) -> Any:
        coll = self.db[ARTICLES]
        if not self._articles_ready:  # on first use, so a service boots while the store is starting
            coll.create_index([("published", 1)])
            coll.create_index([("story_id", 1)])
            self._articles_ready = True
        return coll

    def story_of(self, article_id: str) -> str | None:
        doc = self._articles.find_one({"_id": article_id}, {"story_id": 1})
        return doc["story_id"] if doc else None

    def has_story(self, story_id: str) -> bool:
        return self._articles.find_one({"story_id": story_id}, {"_id": 1}) is not None

    def profiles_between(self, start: str, end: str, limit: int) -> list[tuple[str, list[str], list[str], str]]:
        docs = (
            self._articles.find(
                {"published": {"$gte": start, "$lte": end}}, {"story_id": 1, "names": 1, "terms": 1, "published": 1}
            )
            .sort("published", -1)
            .limit(limit)
        )
        return [(d["story_id"], d["names"], d["terms"], d["published"]) for d in docs]

    def record(self, article_id: str, story_id: str, names: list[str], terms: list[str], published: str) -> None:
        self._articles.replace_one(
            {"_id": article_id},
            {"_id": article_id, "story_id": story_id, "names": names, "terms": terms, "published": published},
            upsert=True,
        )


class _Batch:
    def __init__(self, store: MongoStore, generation: int, session: Any):
        self.events = store._coll("events", generation)
        self.stories = store._coll("stories", generation)
        self.tracking = store._coll("tracking", generation)
        self.session = session
        self._wrote = False  # whether this batch has written yet (see insert_new)

    def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        # Plain inserts: a server inserts far faster than it upserts (SecantusDB: twice as
        # fast). An id already stored fails alone and is left out of the answer; that is
        # all a redelivery costs on a standalone server. In a transaction, though, any write
        # error aborts the whole transaction, so when a batch opens with inserts (as the
        # projection's do) they are sent as they are, and only if one of them was stored
        # already is the transaction started again and the stored ids read first. Redelivery
        # is rare, so a batch seldom pays that read.
        unique: dict[str, dict[str, Any]] = {}
        for d in docs:
            unique.setdefault(d["event_id"], d)  # a repeated id: the first one counts, as with an upsert
        if self.session is None:
            return self._insert(unique)
        if not self._wrote:
            try:
                return self._insert(unique)
            except BulkWriteError as exc:
                if any(e.get("code") != _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise
                self.session.abort_transaction()
                self.session.start_transaction()
        for chunk in _chunks(list(unique)):
            for d in self.events.find({"_id": {"$in": chunk}}, {"_id": 1}, session=self.session):
                del unique[d["_id"]]
        return self._insert(unique)

    def _insert(self, docs: dict[str, dict[str, Any]]) -> set[str]:
        """Insert docs (by event id); the ids inserted. Outside a transaction an id stored
        already (by an earlier delivery, or another projector meanwhile) is skipped."""
        self._wrote = True
        new = set(docs)
        ids = list(docs)
        for chunk in _chunks(ids):
            try:
                self.events.bulk_write(
                    [InsertOne({"_id": event_id, **docs[event_id]}) for event_id in chunk],
                    ordered=False,
                    session=self.session,
                )
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if self.session is not None or any(e.get("code") != _DUPLICATE_KEY for e in errors):
                    raise
                new.difference_update(chunk[e["index"]] for e in errors)
        return new

    def apply_change(self, change: dict[str, Any], offset: int) -> str | None:
        self._wrote = True
        target = self.events.find_one({"_id": change["details"]["event_id"]}, session=self.session)
        if target is None:
            return None
        changed = apply_change(_event_out(dict(target)), change, offset)
        if changed is not None:
            # The guard makes a change a no-op if another projector applied it meanwhile.
            self.events.replace_one(
                {"_id": target["_id"], "history.change_id": {"$ne": change["event_id"]}}, changed, session=self.session
            )
        return str(target["story_id"])

    def replace_reading(self, reading: dict[str, Any]) -> str:
        self._wrote = True
        stored = [
            _event_out(d)
            for d in self.events.find(
                {"story_id": reading["story_id"], "source.article_id": reading["details"]["article_id"]},
                session=self.session,
            )
        ]
        plan = readings.switch(stored, reading)
        ops: list[Any] = [UpdateOne({"_id": d["event_id"]}, {"$setOnInsert": d}, upsert=True) for d in plan.insert]
        # The guard makes a redelivered reading a no-op even if two projectors race.
        ops += [
            UpdateOne(
                {"_id": event_id, "history.change_id": {"$ne": record["change_id"]}},
                {"$set": new, "$push": {"history": record}},
            )
            for event_id, new, record in plan.update
        ]
        for chunk in _chunks(ops):
            self.events.bulk_write(chunk, ordered=True, session=self.session)
        return str(reading["story_id"])

    def fold_summaries(self, inserted: list[dict[str, Any]], recompute: set[str]) -> None:
        self._wrote = True
        by_story: dict[str, list[dict[str, Any]]] = {}
        for ev in inserted:
            if ev["story_id"] not in recompute:
                by_story.setdefault(ev["story_id"], []).append(ev)
        ops = []
        if by_story:
            existing = {
                s["_id"]: _story_out(s)
                for s in self.stories.find({"_id": {"$in": list(by_story)}}, session=self.session)
            }
            for story_id, evs in by_story.items():
                ops.append(ReplaceOne({"_id": story_id}, summarise(story_id, evs, existing.get(story_id)), upsert=True))
        for story_id in recompute:
            evs = [
                _event_out(e)
                for e in self.events.find(
                    {"story_id": story_id}, dict.fromkeys(SUMMARY_FIELDS, 1), session=self.session
                )
            ]
            ops.append(ReplaceOne({"_id": story_id}, summarise(story_id, evs, None), upsert=True))
        for chunk in _chunks(ops):
            self.stories.bulk_write(chunk, ordered=True, session=self.session)

    def advance_tracking(self, positions: dict[str, int]) -> None:
        self._wrote = True
        if positions:
            self.tracking.bulk_write(
                [UpdateOne({"_id": k}, {"$max": {"next_offset": v}}, upsert=True) for k, v in positions.items()],
                ordered=True,
                session=self.session,
            )


class _View:
    def __init__(self, store: MongoStore, generation: int):
        self.generation = generation
        self.events_coll = store._coll("events", generation)
        self.stories_coll = store._coll("stories", generation)
        self.tracking_coll = store._coll("tracking", generation)

    def freshness(self) -> Freshness:
        return Freshness(self.generation, {d["_id"]: int(d.get("next_offset", 0)) for d in self.tracking_coll.find({})})

    def story(self, story_id: str) -> dict[str, Any] | None:
        doc = self.stories_coll.find_one({"_id": story_id})
        return _story_out(doc) if doc else None

    def stories(self, query: StoryQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        clauses: list[dict[str, Any]] = []
        if query.text:
            words = {"$regex": regex_literal(query.text), "$options": "i"}
            clauses.append({"$or": [{"title": words}, {"participants.name": words}, {"story_id": words}]})
        if query.actor:
            clauses.append({"participants": {"$elemMatch": {"name": _exact_ci(query.actor), "roles": "actor"}}})
        if query.event_type:
            clauses.append({f"counts.{query.event_type}": {"$gt": 0}})  # event_type is one of EVENT_TYPES
        if query.after:
            recorded, story_id = query.after
            clauses.append(
                {
                    "$or": [
                        {"last_recorded_at": {"$lt": recorded}},
                        {"last_recorded_at": recorded, "_id": {"$lt": story_id}},
                    ]
                }
            )
        found = self.stories_coll.find({"$and": clauses} if clauses else {})
        docs = [_story_out(d) for d in found.sort([("last_recorded_at", -1), ("_id", -1)]).limit(query.limit + 1)]
        more = len(docs) > query.limit
        docs = docs[: query.limit]
        return docs, ((docs[-1]["last_recorded_at"] or "", docs[-1]["story_id"]) if more and docs else None)

    def events(self, story_id: str, query: EventQuery) -> list[dict[str, Any]]:
        q: dict[str, Any] = {"story_id": story_id}
        if query.types:
            q["event_type"] = {"$in": list(query.types)}
        if query.actor:
            q["actor.name"] = _exact_ci(query.actor)
        bounds: dict[str, str] = {}
        for op, value in (("$gte", query.sort_from), ("$lt", query.sort_below), ("$lte", query.through)):
            if value:
                bounds[op] = value
        if query.after:
            bounds["$gt"] = max(query.after, bounds.get("$gt", ""))
        if bounds:
            q["sort"] = bounds
        if query.recorded_by:
            q["recorded_at"] = {"$lte": query.recorded_by}
        if query.statuses is not None:
            q["status"] = {"$in": list(query.statuses)}
        found = self.events_coll.find(q).sort([("sort", 1), ("_id", 1)])
        if query.limit is not None:
            found = found.limit(query.limit)
        return [_event_out(d) for d in found]

    def changed_since(self, since: dict[int, int]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for partition, offset in sorted(since.items()):
            found = self.events_coll.find({"log.partition": partition, "change_offset": {"$gte": offset}})
            out += [_event_out(d) for d in found.sort([("change_offset", 1), ("_id", 1)])]
        return out

    def changes_since(self, story_id: str, offset: int) -> list[dict[str, Any]]:
        found = self.events_coll.find({"story_id": story_id, "change_offset": {"$gt": offset}})
        return [_event_out(d) for d in found.sort([("change_offset", 1), ("_id", 1)])]


def unavailable_errors() -> tuple[type[Exception], ...]:
    return (ConnectionFailure,)  # covers AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError
