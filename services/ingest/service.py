"""Ingest use case: article -> findings -> story -> event envelopes -> the log."""

from __future__ import annotations

import hashlib
import re
from typing import Callable

from services.ingest import extractor_variant
from services.ingest.extraction import Finding, extract, extract_many
from services.ingest.story_index import StoryIndex
from shared.domain import events, readings, stories
from shared.ports import Record


def article_id_for(article: dict) -> str:
    return article.get("id") or hashlib.sha256(article["url"].encode()).hexdigest()[:16]


def story_id_for(article: dict) -> str:
    """The story an article names, or a new one from its title (no index consulted)."""
    if article.get("story_id"):
        return article["story_id"]
    slug = re.sub(r"[^a-z0-9]+", "-", article["title"].lower()).strip("-")[:60]
    return slug or article_id_for(article)


def findings_for(article: dict) -> list[Finding]:
    return extractor_variant.adjust(extract(article["title"], article["body"], article["published_at"]))


def findings_for_many(articles: list[dict]) -> list[list[Finding]]:
    """findings_for of several articles, parsed in one batch (what re-extraction runs)."""
    found = extract_many([(a["title"], a["body"], a["published_at"]) for a in articles])
    return [extractor_variant.adjust(f) for f in found]


def extractor_version() -> str:
    return extractor_variant.version()


def assign_story(article: dict, findings: list[Finding], index: StoryIndex) -> str:
    """An explicit story_id wins; an article indexed before keeps its story; otherwise the
    best-matching story (shared.domain.stories), else a new one."""
    article_id = article_id_for(article)
    names = [n for f in findings for n in (f.actor["name"], (f.target or {}).get("name")) if n]
    profile = stories.profile_of(article["title"], article["body"], names, article["published_at"])
    story_id = article.get("story_id") or index.story_of(article_id)
    if not story_id:
        story_id = stories.best_story(profile, index.candidates(profile.published))
    if not story_id:
        story_id = story_id_for(article)
        if index.has_story(story_id):  # same title, different matter: keep the stories apart
            story_id = f"{story_id[:51]}-{article_id[:8]}"
    index.record(article_id, story_id, profile)
    return story_id


def envelopes(article: dict, findings: list[Finding], story_id: str, recorded_at: str | None = None) -> list[dict]:
    """The event envelopes for one validated article (published_at is a datetime)."""
    article_id = article_id_for(article)
    published = article["published_at"]
    recorded_at = recorded_at or events.utcnow_iso()
    version = extractor_version()
    ids = [events.event_id_for(article_id, f.event_type, f.actor["name"], f.char_start) for f in findings]
    out = []
    for f, event_id in zip(findings, ids):
        out.append(
            {
                "event_id": event_id,
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
                "source": {
                    "article_id": article_id,
                    "url": article["url"],
                    "outlet": article["outlet"],
                    "title": article["title"],
                    "sentence": f.sentence,
                    "char_start": f.char_start,
                    "char_end": f.char_end,
                },
                "extractor": {"version": version, "confidence": f.confidence},
                "responds_to": [ids[i] for i in f.responds_to if 0 <= i < len(ids) and ids[i] != event_id],
            }
        )
    return out


def events_for(article: dict, recorded_at: str | None = None) -> list[dict]:
    """Envelopes without a story index: the named story or a new one (what `storyline extract` prints)."""
    return envelopes(article, findings_for(article), story_id_for(article), recorded_at)


def article_received(article: dict, story_id: str, request_id: str, recorded_at: str) -> dict:
    """The validated article as the fact on the article topic (see shared.events)."""
    return {
        "type": events.ARTICLE_TYPE,
        "schema_version": events.ARTICLE_SCHEMA_VERSION,
        "article_id": article_id_for(article),
        "story_id": story_id,
        "title": article["title"],
        "body": article["body"],
        "url": article["url"],
        "outlet": article["outlet"],
        "published_at": article["published_at"].isoformat().replace("+00:00", "Z"),
        "request_id": request_id or None,
        "recorded_at": recorded_at,
    }


def reading_of(article: dict, evs: list[dict], recorded_at: str) -> dict:
    """A whole reading in one `reading_replaced` event (`article`: article_received fields)."""
    rid = readings.reading_id(article["article_id"], extractor_version(), evs)
    return events.reading_event(article, article["story_id"], rid, extractor_version(), evs, recorded_at)


def article_record(received: dict, article_topic: str) -> Record:
    return Record(
        key=received["story_id"],
        value=events.encode_article(received),
        topic=article_topic,
        headers={"request_id": received["request_id"] or "", "event_type": events.ARTICLE_TYPE},
    )


def event_record(ev: dict, request_id: str = "") -> Record:
    return Record(
        key=ev["story_id"], value=events.encode(ev), headers={"request_id": request_id, "event_type": ev["event_type"]}
    )


def ingest(
    article: dict,
    queue: Callable[[list[Record]], list[int]],
    request_id: str = "",
    index: StoryIndex | None = None,
    article_topic: str | None = None,
    would_change: Callable[[dict], bool] | None = None,
) -> tuple[str, str, list[dict], list[int]]:
    """Queue the article (on `article_topic`, when given) and its events durably, in one
    transaction (the outbox relay publishes them). An article the story index knows already
    gets its current reading as one `reading_replaced`, never events beside the old ones, and
    none when `would_change` (services/ingest/projected.py) says the projection holds that
    reading already. The article itself is recorded every time: the article topic is what
    re-extraction reads, and a text may change without changing its events.
    Returns the queue positions too, so the caller can wait for publication."""
    findings = findings_for(article)
    known = index is not None and index.story_of(article_id_for(article)) is not None
    story_id = assign_story(article, findings, index) if index is not None else story_id_for(article)
    recorded_at = events.utcnow_iso()
    evs = envelopes(article, findings, story_id, recorded_at)
    received = article_received(article, story_id, request_id, recorded_at)
    records = [article_record(received, article_topic)] if article_topic else []
    if known:
        reading = reading_of(received, evs, recorded_at)
        if would_change is None or would_change(reading):
            records.append(event_record(reading, request_id))
    else:
        records += [event_record(e, request_id) for e in evs]
    seqs = queue(records)
    return article_id_for(article), story_id, evs, seqs
