"""Service layer of the query side: reads through the ReadStore port, groups with the domain.

The store hands over a story's event documents (filtered, in sort order); grouping them into
entries, ordering and "as known at" are shared.domain.timeline's, so they are the same on
every store.
"""

from __future__ import annotations

from dataclasses import replace

from shared.domain import timeline
from shared.domain.timeline import Entry, Filters
from shared.ports import EventQuery, ReadView, StoryQuery

_SUMMARY_KEYS = ("title", "first_date", "last_date", "last_recorded_at")


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
    """The articles behind a story's events, oldest first."""
    seen: dict[str, dict] = {}
    for ev in view.events(story_id, EventQuery(include_retracted=True)):
        src = ev.get("source") or {}
        if src.get("article_id") and src["article_id"] not in seen:
            seen[src["article_id"]] = {
                "article_id": src["article_id"],
                "url": src.get("url"),
                "outlet": src.get("outlet"),
                "title": src.get("title"),
                "published_at": ev.get("published_at"),
            }
    return sorted(seen.values(), key=lambda a: (a["published_at"] or "", a["article_id"]))


def _known_events(view: ReadView, story_id: str, f: Filters) -> list[dict]:
    """Every visible event of the story, as known at f.as_of: history is undone in memory
    (the current values may differ from those of then), so filters apply after it."""
    assert f.as_of is not None
    docs = view.events(story_id, EventQuery(include_retracted=True, recorded_by=f.as_of))
    known = (timeline.as_known_at(d, f.as_of) for d in docs)
    return [ev for ev in known if ev is not None and timeline.shows(ev, f)]


def entries(view: ReadView, story_id: str, f: Filters) -> list[Entry]:
    """All entries (narrative, TimelineJS)."""
    if f.as_of:
        return timeline.group(_known_events(view, story_id, f))
    return timeline.group(view.events(story_id, event_query(f)))


def entry_page(
    view: ReadView, story_id: str, f: Filters, after: str | None, limit: int
) -> tuple[list[Entry], str | None]:
    if f.as_of:
        return timeline.page(entries(view, story_id, f), after, limit)
    return _store_page(view, story_id, f, after, limit)


def _store_page(view: ReadView, story_id: str, f: Filters, after: str | None, limit: int):
    """One page read from the store in order, in one scan most of the time.

    Relies on the read model's grouping: all events of an entry share the day that
    starts their sort key (read_model.entry_id_for includes the day; an undated entry is
    one event). So an entry is complete once the scan has passed its day, and only
    entries of the cursor's day can have members on an earlier page."""
    shown: set[str] = set()
    if after is not None:  # entries of the cursor's day that an earlier page already showed
        day_start = max(after[:10], f.sort_from or "")
        earlier = view.events(story_id, event_query(f, sort_from=day_start, through=after))
        shown = {d["entry_id"] for d in earlier}
    docs: list[dict] = []
    scanned, want = after, limit + limit // 4 + 8  # slack: the last day's entries may be cut short
    while True:
        batch = view.events(story_id, event_query(f, after=scanned, limit=want))
        docs += batch
        found = timeline.group([d for d in docs if d["entry_id"] not in shown])
        if len(batch) < want:
            return timeline.page(found, after, limit)
        last_day = docs[-1]["sort"][:10]
        complete = [e for e in found if e.position[:10] < last_day]
        if len(complete) > limit:
            return timeline.page(complete, after, limit)
        scanned, want = docs[-1]["sort"], want * 2
