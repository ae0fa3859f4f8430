"""Service layer of the query side: reads through the ReadStore port, groups with the domain.

The store hands over a story's event documents (filtered, in sort order); grouping them into
entries, ordering and "as known at" are shared.domain.timeline's, so they are the same on
every store.
"""

from __future__ import annotations

from dataclasses import replace

from services.query.grouped import GroupedStories
from shared.domain import timeline
from shared.domain.timeline import Entry, Filters
from shared.ports import EventQuery, ReadView, StoryQuery

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


def articles(view: ReadView, story_id: str) -> list[dict]:
    """Every article the story's events came from, oldest first, with its state for editors:
    `current` while some of its events are on the timeline, `retracted` when an editor
    retracted each of them, `superseded` when its newest reading found none (every event it
    had was replaced: shared.domain.readings). An article stays listed in every state: it was
    ingested into this story, and an editor checking a story's sources must see it.
    `events`: how many of its events the timeline shows."""
    docs = view.events(story_id, EventQuery(include_retracted=True, include_superseded=True))
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


def _known_events(view: ReadView, story_id: str, f: Filters) -> list[dict]:
    """Every event of the story as known at f.as_of: history is undone in memory (the current
    values may differ from those of then), so the retracted filter applies after it."""
    assert f.as_of is not None
    # superseded too: a reading replaced after as_of was the current one then
    docs = view.events(story_id, EventQuery(include_retracted=True, include_superseded=True, recorded_by=f.as_of))
    known = (timeline.as_known_at(d, f.as_of) for d in docs)
    return [
        ev
        for ev in known
        if ev is not None and ev["status"] != "superseded" and (f.include_retracted or ev["status"] != "retracted")
    ]


def entries(view: ReadView, story_id: str, f: Filters, kept: GroupedStories | None = None) -> list[Entry]:
    """The story's entries in causal order, then filtered. Matching reports into entries and
    ordering them look at the whole story (an answer reported later can move an undated
    entry), so the store gives all the story's visible events and filters apply to entries.
    With `kept` (one per app: one store), the grouped story is kept while the projection stays
    where it was (services.query.grouped)."""

    def build() -> list[Entry]:
        if f.as_of:
            return timeline.group(_known_events(view, story_id, f))
        return timeline.group(view.events(story_id, EventQuery(include_retracted=f.include_retracted)))

    if kept is None:
        grouped = build()
    else:
        fresh = view.freshness()
        key = (fresh.generation, tuple(sorted(fresh.positions.items())), story_id, f.include_retracted, f.as_of)
        grouped = kept.get(key, build)
    return [e for e in grouped if timeline.entry_shows(e, f)]


def entry_page(
    view: ReadView, story_id: str, f: Filters, after: str | None, limit: int, kept: GroupedStories | None = None
) -> tuple[list[Entry], str | None]:
    return timeline.page(entries(view, story_id, f, kept), after, limit)
