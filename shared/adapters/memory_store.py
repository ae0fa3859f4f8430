"""The read model in memory, for unit tests: the same ports and behaviour as the real stores
(tests/test_store_contract.py), in plain dicts. One lock; a batch is undone if it raises."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.domain import read_model
from shared.domain.corrections import apply_change
from shared.domain.summaries import summarise
from shared.ports import EventQuery, Freshness, StoryQuery


@dataclass
class _Generation:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    stories: dict[str, dict[str, Any]] = field(default_factory=dict)
    tracking: dict[str, int] = field(default_factory=dict)


class MemoryStore:
    """Both ports of the read model and ingest's ArticleIndex. Documents go in and come out
    as deep copies, as they would through a database."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._generations: dict[int, _Generation] = {read_model.FIRST_GENERATION: _Generation()}
        self._current = read_model.FIRST_GENERATION
        self._latest = read_model.FIRST_GENERATION
        self._articles: dict[str, tuple[str, list[str], list[str], str]] = {}

    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _g(self, generation: int) -> _Generation:
        return self._generations.setdefault(generation, _Generation())

    def current_generation(self) -> int:
        return self._current

    def ensure_generation(self, generation: int) -> None:
        with self._lock:
            self._g(generation)

    def open_generation(self) -> int:
        with self._lock:
            self._latest = max(self._latest, self._current, *self._generations) + 1
            self._g(self._latest)
            return self._latest

    def switch_generation(self, generation: int) -> None:
        with self._lock:
            self._g(generation)
            self._current = generation

    def drop_generation(self, generation: int) -> None:
        with self._lock:
            self._generations.pop(generation, None)

    def tracked(self, generation: int, key: str) -> int:
        with self._lock:
            return self._g(generation).tracking.get(key, -1)

    def has_event(self, generation: int, event_id: str) -> bool:
        with self._lock:
            return event_id in self._g(generation).events

    @contextlib.contextmanager
    def batch(self, generation: int) -> Iterator[_Batch]:
        with self._lock:
            g = self._g(generation)
            saved = (dict(g.events), dict(g.stories), dict(g.tracking))
            try:
                yield _Batch(g)
            except BaseException:
                g.events, g.stories, g.tracking = saved
                raise

    @contextlib.contextmanager
    def view(self) -> Iterator[_View]:
        with self._lock:
            yield _View(self._current, self._g(self._current))

    # ingest's article index
    def story_of(self, article_id: str) -> str | None:
        with self._lock:
            row = self._articles.get(article_id)
            return row[0] if row else None

    def has_story(self, story_id: str) -> bool:
        with self._lock:
            return any(row[0] == story_id for row in self._articles.values())

    def profiles_between(self, start: str, end: str, limit: int) -> list[tuple[str, list[str], list[str], str]]:
        with self._lock:
            rows = [r for r in self._articles.values() if start <= r[3] <= end]
        return sorted(rows, key=lambda r: r[3], reverse=True)[:limit]

    def record(self, article_id: str, story_id: str, names: list[str], terms: list[str], published: str) -> None:
        with self._lock:
            self._articles[article_id] = (story_id, list(names), list(terms), published)


class _Batch:
    def __init__(self, g: _Generation):
        self.g = g

    def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        new = set()
        for doc in docs:
            if doc["event_id"] not in self.g.events:
                self.g.events[doc["event_id"]] = copy.deepcopy(doc)
                new.add(doc["event_id"])
        return new

    def apply_change(self, change: dict[str, Any], offset: int) -> str | None:
        target = self.g.events.get(change["details"]["event_id"])
        if target is None:
            return None
        changed = apply_change(target, change, offset)
        if changed is not None:
            self.g.events[target["event_id"]] = copy.deepcopy(changed)
        return str(target["story_id"])

    def fold_summaries(self, inserted: list[dict[str, Any]], recompute: set[str]) -> None:
        by_story: dict[str, list[dict[str, Any]]] = {}
        for ev in inserted:
            if ev["story_id"] not in recompute:
                by_story.setdefault(ev["story_id"], []).append(ev)
        for story_id, evs in by_story.items():
            self.g.stories[story_id] = summarise(story_id, evs, copy.deepcopy(self.g.stories.get(story_id)))
        for story_id in recompute:
            evs = [e for e in self.g.events.values() if e["story_id"] == story_id]
            self.g.stories[story_id] = summarise(story_id, evs, None)

    def advance_tracking(self, positions: dict[str, int]) -> None:
        for key, nxt in positions.items():
            self.g.tracking[key] = max(nxt, self.g.tracking.get(key, -1))


class _View:
    def __init__(self, generation: int, g: _Generation):
        self.generation, self.g = generation, g

    def freshness(self) -> Freshness:
        return Freshness(self.generation, dict(self.g.tracking))

    def story(self, story_id: str) -> dict[str, Any] | None:
        doc = self.g.stories.get(story_id)
        return copy.deepcopy(doc) if doc else None

    def stories(self, query: StoryQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        def keep(s: dict[str, Any]) -> bool:
            recorded = s.get("last_recorded_at") or ""
            if query.text:
                text = query.text.lower()
                haystack = [
                    (s.get("title") or "").lower(),
                    s["story_id"].lower(),
                    *(p["name"].lower() for p in s["participants"]),
                ]
                if not any(text in h for h in haystack):
                    return False
            if query.actor and not any(
                p["name"].lower() == query.actor.lower() and "actor" in p["roles"] for p in s["participants"]
            ):
                return False
            if query.event_type and s["counts"].get(query.event_type, 0) <= 0:
                return False
            return not query.after or (recorded, s["story_id"]) < query.after

        ranked = sorted(
            (s for s in self.g.stories.values() if keep(s)),
            key=lambda s: (s.get("last_recorded_at") or "", s["story_id"]),
            reverse=True,
        )
        docs = [copy.deepcopy(s) for s in ranked[: query.limit]]
        more = len(ranked) > query.limit and docs
        return docs, ((docs[-1].get("last_recorded_at") or "", docs[-1]["story_id"]) if more else None)

    def events(self, story_id: str, query: EventQuery) -> list[dict[str, Any]]:
        def keep(e: dict[str, Any]) -> bool:
            return (
                e["story_id"] == story_id
                and (not query.types or e["event_type"] in query.types)
                and (not query.actor or e["actor"]["name"].lower() == query.actor.lower())
                and (not query.sort_from or e["sort"] >= query.sort_from)
                and (not query.sort_below or e["sort"] < query.sort_below)
                and (not query.after or e["sort"] > query.after)
                and (not query.through or e["sort"] <= query.through)
                and (not query.recorded_by or e["recorded_at"] <= query.recorded_by)
                and (query.include_retracted or e["status"] != "retracted")
            )

        found = sorted((e for e in self.g.events.values() if keep(e)), key=lambda e: (e["sort"], e["event_id"]))
        return [copy.deepcopy(e) for e in found[: query.limit]]

    def changed_since(self, since: dict[int, int]) -> list[dict[str, Any]]:
        found = [
            e
            for e in self.g.events.values()
            if e["log"]["partition"] in since and e.get("change_offset", -1) >= since[e["log"]["partition"]]
        ]
        found.sort(key=lambda e: (e["log"]["partition"], e["change_offset"], e["event_id"]))
        return [copy.deepcopy(e) for e in found]

    def changes_since(self, story_id: str, offset: int) -> list[dict[str, Any]]:
        found = [e for e in self.g.events.values() if e["story_id"] == story_id and e.get("change_offset", -1) > offset]
        return [copy.deepcopy(e) for e in sorted(found, key=lambda e: (e["change_offset"], e["event_id"]))]
