"""The story index: which story each ingested article went to, and the profiles to match against.

A small port (StoryIndex) with one adapter over the store (pymongo API, real or embedded).
Ingest owns the `story_index` collection: one document per article,
{_id: article_id, story_id, names, terms, published}.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Protocol

from shared.domain.stories import WINDOW_DAYS, Candidate, Profile, merge

COLLECTION = "story_index"
_MAX_ARTICLES = 5000  # bound on the articles read per match; newest first


class StoryIndex(Protocol):
    def story_of(self, article_id: str) -> str | None:
        """The story an already indexed article went to."""
    def has_story(self, story_id: str) -> bool: ...
    def candidates(self, published: datetime) -> list[Candidate]:
        """The stories with an article published within the match window."""
    def record(self, article_id: str, story_id: str, profile: Profile) -> None: ...


def _iso(dt: datetime) -> str:
    # Zero-padded year by hand: strftime("%Y") gives "382" for 382 on glibc, which breaks
    # both the string order the window query relies on and parsing it back.
    dt = dt.astimezone(timezone.utc)
    return f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}Z"


class StoreStoryIndex:
    def __init__(self, db):
        self._db = db
        self._coll = None

    @property
    def coll(self):
        # indexes on first use, so a service boots while the store is still starting
        if self._coll is None:
            coll = self._db[COLLECTION]
            coll.create_index([("published", 1)])
            coll.create_index([("story_id", 1)])
            self._coll = coll
        return self._coll

    def story_of(self, article_id: str) -> str | None:
        doc = self.coll.find_one({"_id": article_id}, {"story_id": 1})
        return doc["story_id"] if doc else None

    def has_story(self, story_id: str) -> bool:
        return self.coll.find_one({"story_id": story_id}, {"_id": 1}) is not None

    def candidates(self, published: datetime) -> list[Candidate]:
        window = timedelta(days=WINDOW_DAYS)
        docs = self.coll.find({"published": {"$gte": _iso(published - window), "$lte": _iso(published + window)}},
                              {"story_id": 1, "names": 1, "terms": 1, "published": 1}
                              ).sort("published", -1).limit(_MAX_ARTICLES)
        by_story: dict[str, list[Profile]] = defaultdict(list)
        for d in docs:
            when = datetime.fromisoformat(d["published"].replace("Z", "+00:00"))
            by_story[d["story_id"]].append(Profile(frozenset(d["names"]), frozenset(d["terms"]), when))
        return [Candidate(sid, merge(ps)) for sid, ps in sorted(by_story.items())]

    def record(self, article_id: str, story_id: str, profile: Profile) -> None:
        self.coll.replace_one({"_id": article_id},
                              {"_id": article_id, "story_id": story_id, "names": sorted(profile.names),
                               "terms": sorted(profile.terms), "published": _iso(profile.published)},
                              upsert=True)
