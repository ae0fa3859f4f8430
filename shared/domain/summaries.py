"""A story's summary folded from its event documents: pure, so the incremental path (new
events onto the stored summary) and the full path (every event of the story) agree."""

from __future__ import annotations

from typing import Any

SUMMARY_FIELDS = ("event_type", "actor", "target", "occurred_at", "published_at", "source", "recorded_at", "status")
_NOT_COUNTED = frozenset(("retracted", "superseded"))


def summarise(story_id: str, evs: list[dict[str, Any]], base: dict[str, Any] | None) -> dict[str, Any]:
    """Fold events into a story summary, starting from `base` (None: from nothing).
    Pure, so the incremental and the full path give the same document. It runs for every
    event the projection applies, so the loop keeps to local names and plain dicts."""
    s = base or {}
    counts: dict[str, int] = dict(s.get("counts") or {})
    participants = {p["name"]: dict(p, roles=list(p["roles"])) for p in s.get("participants") or []}
    # (role, name) pairs already recorded: most events repeat an actor the story knows
    seen = {(role, name) for name, p in participants.items() for role in p["roles"]}
    sources = set(s.get("sources") or [])
    first, last = s.get("first_date"), s.get("last_date")
    title, title_at, recorded = s.get("title"), s.get("title_published_at"), s.get("last_recorded_at")
    active = 0
    for e in evs:
        if e.get("status", "active") in _NOT_COUNTED:
            continue
        active += 1
        kind = e["event_type"]
        counts[kind] = counts.get(kind, 0) + 1
        for role in ("actor", "target"):
            ent = e.get(role)
            if ent and (role, ent["name"]) not in seen:
                name = ent["name"]
                seen.add((role, name))
                p = participants.get(name)
                if p is None:
                    p = participants[name] = {"name": name, "kind": ent["kind"], "roles": []}
                p["roles"].append(role)
        published = e["published_at"]
        day = e.get("occurred_at") or published
        if first is None or day < first:
            first = day
        if last is None or day > last:
            last = day
        source = e["source"]
        sources.add(source["article_id"])
        if title_at is None or published < title_at:
            title, title_at = source.get("title"), published
        at = e["recorded_at"]
        if recorded is None or at > recorded:
            recorded = at
    return {
        "_id": story_id,
        "story_id": story_id,
        "title": title,
        "title_published_at": title_at,
        "participants": sorted(participants.values(), key=lambda p: p["name"]),
        "counts": counts,
        "event_count": (s.get("event_count") or 0) + active,
        "first_date": first,
        "last_date": last,
        "sources": sorted(sources),
        "last_recorded_at": recorded,
    }
