"""Ingest use case: article -> findings -> event envelopes -> the log."""
from __future__ import annotations

import hashlib
import re
from typing import Callable

from shared import events
from shared.ports import Record
from services.ingest.extraction import EXTRACTOR_VERSION, extract


def article_id_for(article: dict) -> str:
    return article.get("id") or hashlib.sha256(article["url"].encode()).hexdigest()[:16]


def story_id_for(article: dict) -> str:
    if article.get("story_id"):
        return article["story_id"]
    slug = re.sub(r"[^a-z0-9]+", "-", article["title"].lower()).strip("-")[:60]
    return slug or article_id_for(article)


def events_for(article: dict, recorded_at: str | None = None) -> list[dict]:
    """The envelopes for one validated article (published_at is a datetime)."""
    article_id = article_id_for(article)
    story_id = story_id_for(article)
    published = article["published_at"]
    recorded_at = recorded_at or events.utcnow_iso()
    out = []
    for f in extract(article["title"], article["body"], published):
        out.append({
            "event_id": events.event_id_for(article_id, f.event_type, f.actor["name"], f.char_start),
            "event_type": f.event_type,
            "schema_version": events.SCHEMA_VERSION,
            "story_id": story_id,
            "occurred_at": f.occurred_at,
            "occurred_precision": f.occurred_precision,
            "published_at": published.isoformat().replace("+00:00", "Z"),
            "recorded_at": recorded_at,
            "actor": f.actor,
            "target": f.target,
            "quote": f.quote,
            "summary": f.summary,
            "details": {**f.details, "mentions": f.mentions, "title": article["title"]},
            "source": {"article_id": article_id, "url": article["url"], "outlet": article["outlet"],
                       "title": article["title"], "sentence": f.sentence,
                       "char_start": f.char_start, "char_end": f.char_end},
            "extractor": {"version": EXTRACTOR_VERSION, "confidence": f.confidence},
        })
    return out


def ingest(article: dict, queue: Callable[[list[Record]], list[int]],
           request_id: str = "") -> tuple[str, str, list[dict], list[int]]:
    """Queue the article's events durably, in one transaction (the outbox relay publishes them).
    Returns their queue positions too, so the caller can wait for publication."""
    evs = events_for(article)
    seqs = queue([Record(key=e["story_id"], value=events.encode(e),
                              headers={"request_id": request_id, "event_type": e["event_type"]}) for e in evs])
    return article_id_for(article), story_id_for(article), evs, seqs
