"""Service layer of the query side: reads through the ReadStore port, groups with the domain.

The store hands over a story's event documents (filtered, in sort order); grouping them into
entries, ordering and "as known at" are shared.domain.timeline's, so they are the same on
every store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import orjson

from services.query.grouped import GroupedStories, GroupedStory
from shared.domain import timeline
from shared.domain.timeline import Entry, Filters
from shared.ports import EventQuery, Freshness, ReadView, StoryQuery

_SUMMARY_KEYS = ("title", "first_date", "last_date", "last_recorded_at")
_OFF_TIMELINE = ("retracted", "superseded")  # event statuses the default timeline leaves out


def story_summary(doc: dict) -> dict:
    """The documented summary fields only (the projector keeps working fields of its own)."""
    out = {"story_id": doc["story_id"], **{k: doc.get(k) for k in _SUMMARY_KEYS}}
    out.update(
        participants=doc.get("participants") or [], counts=doc.get("counts") or {}, sources=doc.get("sources") or []
    )
    out["event_count"] = doc.get("event_count", sum(out["counts"].values()))
    return out


def event_query(f: Filters, **page) -> EventQuery:
    """The store's side of timeline.shows (as_of aside: history has to be undone first);
    `page` narrows it (after, through, limit, a later sort_from)."""
    q = EventQuery(
        types=f.types,
        actor=f.actor,
        sort_from=f.sort_from,
        sort_below=f.sort_below,
        include_retracted=f.include_retracted,
    )
    return replace(q, **page)


def list_stories(
    view: ReadView, q: str | None, actor: str | None, event_type: str | None, limit: int, after: tuple[str, str] | None
) -> tuple[list[dict], tuple[str, str] | None]:
    """Newest activity first (last_recorded_at, then story id, both descending)."""
    docs, nxt = view.stories(StoryQuery(text=q, actor=actor, event_type=event_type, after=after, limit=limit))
    return [story_summary(d) for d in docs], nxt


def story(view: ReadView, story_id: str) -> dict | None:
    doc = view.story(story_id)
    return story_summary(doc) if doc else None


_EVERY_DOCUMENT = EventQuery(include_retracted=True, include_superseded=True)


def _visible(docs: list[dict], f: Filters) -> list[dict]:
    """The documents the story is grouped from: current readings, retracted ones if asked;
    with as_of, each as known then (history undone in memory, since the current values may
    differ from those of then; recorded later: left out), so the status filter applies after it."""
    known: Iterable[dict | None] = (timeline.as_known_at(d, f.as_of) for d in docs) if f.as_of else docs
    return [
        ev
        for ev in known
        if ev is not None and ev["status"] != "superseded" and (f.include_retracted or ev["status"] != "retracted")
    ]


def _token(docs: list[dict]) -> int:
    """The highest change_offset; -1 (never reused, always rebuilt) unless every document says
    when it last changed."""
    offsets = [d.get("change_offset") for d in docs]
    return (
        max((o for o in offsets if isinstance(o, int)), default=-1) if all(isinstance(o, int) for o in offsets) else -1
    )


def _build(
    view: ReadView, story_id: str, f: Filters, fresh: Freshness, kept: GroupedStory | None, changes: list[dict]
) -> GroupedStory:
    if kept is not None and not f.as_of:
        # Only new reports, later in the log than the kept ones: they join the kept grouping
        # (timeline.Grouping.extended), the rest is not matched again; only the order is redone.
        known = {d["event_id"] for d in kept.documents}
        if all(d["event_id"] not in known for d in changes):
            grouping = kept.grouping.extended(_visible(changes, f))
            if grouping is not None:
                docs = sorted(kept.documents + changes, key=lambda d: (d["sort"], d["event_id"]))
                return GroupedStory(grouping, grouping.entries(), docs, _token(docs), fresh)
    # every document, whatever its status: the token must cover the hidden ones too, or their
    # change would look like a change of the story every time (and the as-of view needs them)
    docs = view.events(story_id, _EVERY_DOCUMENT)
    grouping = timeline.Grouping(_visible(docs, f))
    return GroupedStory(grouping, grouping.entries(), docs, _token(docs), fresh)


def grouped(
    view: ReadView, story_id: str, f: Filters, kept: GroupedStories | None = None, fresh: Freshness | None = None
) -> GroupedStory:
    """The story's entries in causal order, all of them (filters on entries: GroupedStory.shown).
    Matching reports into entries and ordering them look at the whole story (an answer reported
    later can move an undated entry), so the story is grouped whole. With `kept` (one per app:
    one store), the grouped story is kept while the story does not change (services.query.grouped);
    `fresh` is the view's freshness when the caller has read it already."""
    fresh = fresh or view.freshness()
    if kept is None:
        return _build(view, story_id, f, fresh, None, [])
    key = (fresh.generation, story_id, f.include_retracted, f.as_of)
    return kept.get(key, view, story_id, fresh, lambda story, changes: _build(view, story_id, f, fresh, story, changes))


def entries(
    view: ReadView, story_id: str, f: Filters, kept: GroupedStories | None = None, fresh: Freshness | None = None
) -> list[Entry]:
    """The story's entries in causal order, then filtered (see `grouped`)."""
    return grouped(view, story_id, f, kept, fresh).shown(f).entries


def entry_page(
    view: ReadView,
    story_id: str,
    f: Filters,
    after: str | None,
    limit: int,
    kept: GroupedStories | None = None,
    fresh: Freshness | None = None,
) -> tuple[list[orjson.Fragment], str | None]:
    """One page of the filtered entries, each as encoded JSON, and the position to continue from."""
    story = grouped(view, story_id, f, kept, fresh)
    shown = story.shown(f)
    chosen, nxt = shown.page(after, limit)
    return [story.encoded(shown.places[n]) for n in chosen], nxt


def articles(view: ReadView, story_id: str) -> list[dict]:
    """Every article the story's events came from (see articles_of)."""
    return articles_of(view.events(story_id, EventQuery(include_retracted=True, include_superseded=True)))


def articles_of(docs: list[dict]) -> list[dict]:
    """Every article the story's event documents (all statuses, in sort order) came from,
    oldest first, with its state for editors: `current` while some of its events are on the
    timeline, `retracted` when an editor retracted each of them, `superseded` when its newest
    reading found none (every event it had was replaced: shared.domain.readings). An article
    stays listed in every state: it was ingested into this story, and an editor checking a
    story's sources must see it. `events`: how many of its events the timeline shows."""
    by_article: dict[str, list[dict]] = {}
    for ev in docs:
        article_id = (ev.get("source") or {}).get("article_id")
        if article_id:
            by_article.setdefault(article_id, []).append(ev)
    out = []
    for article_id, evs in by_article.items():
        shown = [e for e in evs if e.get("status") not in _OFF_TIMELINE]
        live = [e for e in evs if e.get("status") != "superseded"]
        # the current reading's source, when there is one (a newer reading may retitle the article)
        ev = (live or evs)[0]
        src = ev["source"]
        out.append(
            {
                "article_id": article_id,
                "url": src.get("url"),
                "outlet": src.get("outlet"),
                "title": src.get("title"),
                "published_at": ev.get("published_at"),
                "state": "current" if shown else ("retracted" if live else "superseded"),
                "events": len(shown),
            }
        )
    return sorted(out, key=lambda a: (a["published_at"] or "", a["article_id"]))
