"""The grouped, ordered stories a query process keeps, and how it knows they are still current.

Grouping a story's reports into entries and ordering them needs the whole story, so a
timeline page would otherwise group the story again for every page. A kept story remembers
the projection position it was built at and `token`, the highest `change_offset` among all
the story's documents it read (any status). When the position moves, the store is asked for
the story's documents changed after `token` (ReadView.changes_since: a story lives in one
partition, whose offsets only grow): none means the story is as it was, so the kept one
serves the new position too. When the changes are only new reports, later in the log than the
kept ones, they join the kept grouping (shared.domain.timeline.Grouping.extended) and only the
order is redone; any other change groups the story again. A kept story is never handed to a
request whose snapshot is older than the one it was built from.

A kept story also keeps what its pages need in O(page): each entry's place by entry_id, the
positions for bisecting, and each entry encoded once as JSON (an orjson.Fragment, immutable,
so requests can share it).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.domain.lead import story_lead
from shared.domain.timeline import Entry, Filters, Grouping, entry_shows
from shared.ports import Freshness, ReadView

KEPT = 16  # stories per process
_VIEWS_KEPT = 8  # filtered views per story


class Shown:
    """Some of a story's entries in story order, with paging in O(log n + page)."""

    def __init__(self, entries: list[Entry], places: list[int]):
        self.entries, self.places = entries, places  # places: indices into the story's entries
        self._at = {e.entry_id: n for n, e in enumerate(entries)}
        self._positions = [e.position for e in entries]
        # positions are made of the placement day, the order number and the id; a day known to
        # the month only ("2025-05") can sort out of line, so bisect only when they are in order
        self._sorted = all(a < b for a, b in zip(self._positions, self._positions[1:]))

    def page(self, after: str | None, limit: int) -> tuple[list[int], str | None]:
        """As shared.domain.timeline.page: indices (into `entries`) of the page, and the next position."""
        if after is None:
            start = 0
        else:
            at = self._at.get(after.rsplit("|", 1)[-1])
            if at is not None:
                start = at + 1
            elif self._sorted:
                start = bisect_right(self._positions, after)
            else:
                start = sum(1 for p in self._positions if p <= after)
        end = min(start + limit, len(self.entries))
        more = len(self.entries) - start > limit
        return list(range(start, end)), (self._positions[end - 1] if more else None)


@dataclass
class GroupedStory:
    grouping: Grouping
    entries: list[Entry]
    documents: list[dict[str, Any]]  # every document of the story read to build it, any status
    token: int  # the highest change_offset among `documents` (-1: unknown, never reused)
    freshness: Freshness  # the position it was built at (or last found unchanged at)
    _encoded: list[orjson.Fragment | None] = field(default_factory=list)
    _views: OrderedDict[Hashable, Shown] = field(default_factory=OrderedDict)
    _lead: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._encoded = [None] * len(self.entries)

    def shown(self, f: Filters) -> Shown:
        """The entries `f` shows (entry-level filters: types, actor, since, until)."""
        key = (f.types, (f.actor or "").lower(), f.since, f.until)
        view = self._views.get(key)
        if view is None:
            places = [n for n, e in enumerate(self.entries) if entry_shows(e, f)]
            view = Shown([self.entries[n] for n in places], places)
            self._views[key] = view
            while len(self._views) > _VIEWS_KEPT:
                self._views.popitem(last=False)
        return view

    def encoded(self, n: int) -> orjson.Fragment:
        """Entry n as JSON, encoded once (two threads may both encode it; same bytes)."""
        out = self._encoded[n]
        if out is None:
            out = self._encoded[n] = orjson.Fragment(orjson.dumps(self.entries[n].to_dict()))
        return out

    def lead(self) -> dict[str, Any]:
        """The story's lead from all its entries (meaningful for the unfiltered story)."""
        if self._lead is None:
            self._lead = story_lead([e.to_dict() for e in self.entries])
        return self._lead


def _not_older(now: Freshness, then: Freshness) -> bool:
    return now.generation == then.generation and all(now.positions.get(k, -1) >= v for k, v in then.positions.items())


class GroupedStories:
    def __init__(self, kept: int = KEPT):
        self._kept = kept
        self._stories: OrderedDict[Hashable, GroupedStory] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        view: ReadView,
        story_id: str,
        fresh: Freshness,
        build: Callable[[GroupedStory | None, list[dict[str, Any]]], GroupedStory],
    ) -> GroupedStory:
        """The story for `key` (the story and what shapes its grouping) as of `fresh`, the
        view's position: kept when still current, else built (two threads may both build):
        build(kept, changes) gets the kept story and its documents changed since, when the
        store could say (else None and [])."""
        with self._lock:
            kept = self._stories.get(key)
            if kept is not None:
                self._stories.move_to_end(key)
        changes: list[dict[str, Any]] | None = None
        if kept is not None:
            if kept.freshness == fresh:
                return kept
            if kept.token >= 0 and _not_older(fresh, kept.freshness):
                changes = view.changes_since(story_id, kept.token)
                if not changes:
                    kept.freshness = fresh  # found unchanged here: serves this position and later ones
                    return kept
        story = build(kept if changes else None, changes or [])
        with self._lock:
            current = self._stories.get(key)
            if current is None or _not_older(story.freshness, current.freshness):
                self._stories[key] = story
            while len(self._stories) > self._kept:
                self._stories.popitem(last=False)
        return story
