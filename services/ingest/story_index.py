"""The story index: which story each ingested article went to, and the profiles to match against.

A small port (StoryIndex) over the store's ArticleIndex (one record per article: story_id,
names, terms, published), which each store adapter keeps in its `story_index` table or collection.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Protocol

from shared.domain.stories import WINDOW_DAYS, Candidate, Profile, merge
from shared.ports import ArticleIndex

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
    """The StoryIndex over the store's ArticleIndex port (SQLite, MongoDB or memory)."""

    def __init__(self, articles: ArticleIndex):
        self._articles = articles

    def story_of(self, article_id: str) -> str | None:
        return self._articles.story_of(article_id)

    def has_story(self, story_id: str) -> bool:
        return self._articles.has_story(story_id)

    def candidates(self, published: datetime) -> list[Candidate]:
        window = timedelta(days=WINDOW_DAYS)
        rows = self._articles.profiles_between(_iso(published - window), _iso(published + window), _MAX_ARTICLES)
        by_story: dict[str, list[Profile]] = defaultdict(list)
        for story_id, names, terms, when in rows:
            at = datetime.fromisoformat(when.replace("Z", "+00:00"))
            by_story[story_id].append(Profile(frozenset(names), frozenset(terms), at))
        return [Candidate(sid, merge(ps)) for sid, ps in sorted(by_story.items())]

    def record(self, article_id: str, story_id: str, profile: Profile) -> None:
        self._articles.record(
            article_id, story_id, sorted(profile.names), sorted(profile.terms), _iso(profile.published)
        )
