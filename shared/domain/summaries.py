"""A story's summary folded from its event documents: pure, so the incremental path (new
events onto the stored summary) and the full path (every event of the story) agree."""

from __future__ import annotations

from collections import Counter
from typing import Any

SUMMARY_FIELDS = ("event_type", "actor", "target", "occurred_at", "published_at", "source", "recorded_at", "status")


def summarise(story_id: str, evs: list[dict[str, Any]], base: dict[str, Any] | None) -> dict[str, Any]:
    """Fold events into a story summary, starting from `base` (None: from nothing).
    Pure, so the incremental and the full path give the same document."""
    s = base or {
        "_id": story_id,
        "story_id": story_id,
        "title": None,
        "title_published_at": None,
        "participants": [],
        "counts": {},
        "event_count": 0,
        "first_date": None,
        "last_date": None,
        "sources": [],
        "last_recorded_at": None,
    }
    counts = Counter(s.get("counts") or {})
    participants = {p["name"]: dict(p, roles=list(p["roles"])) for p in s.get("participants") or []}
    sources = set(s.get("sources") or [])
    first, last = s.get("first_date"), s.get("last_date")
    title, title_at, recorded = s.get("title"), s.get("title_published_at"), s.get("last_recorded_at")
    active = 0
    for e in evs:
        if e.get("status", "active") == "retracted":
            continue
        active += 1
        counts[e["event_type"]] += 1
        for role, ent in (("actor", e.get("actor")), ("target", e.get("target"))):
            if ent:
                p = participants.setdefault(ent["name"], {"name": ent["name"], "kind": ent["kind"], "roles": []})
                if role not in p["roles"]:
                    p["roles"].append(role)
        day = e.get("occurred_at") or e["published_at"]
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
        sources.add(e["source"]["article_id"])
        if title_at is None or e["published_at"] < title_at:
            title, title_at = e["source"].get("title"), e["published_at"]
        recorded = e["recorded_at"] if recorded is None or e["recorded_at"] > recorded else recorded
    return {
        "_id": story_id,
        "story_id": story_id,
        "title": title,
        "title_published_at": title_at,
        "participants": sorted(participants.values(), key=lambda p: p["name"]),
        "counts": dict(counts),
        "event_count": (s.get("event_count") or 0) + active,
        "first_date": first,
        "last_date": last,
        "sources": sorted(sources),
        "last_recorded_at": recorded,
    }
