"""`GET /v1/stories/{id}/feed.atom`: a story's entries as an Atom feed (RFC 4287).

Built from the timeline's own entry dicts (timeline.Entry.to_dict), so grouping, order and
corrections are the timeline's. Written with the standard library's ElementTree: Atom needs
a handful of elements, and ElementTree escapes text and attributes; a feed library
(feedgen) would add lxml and dateutil for no gain here.

- Entry `id`: `urn:storyline:<story>:event:<event_id>` of the entry's first-recorded event,
  so it survives re-ingest, rebuilds, further sources and corrections that move the event to
  another date, actor or target (which change the timeline's entry_id).
- `updated`: the latest of its events' ingest times and their corrections' times, so a
  correction or retraction bumps it; `published`: its first ingest time.
- Newest first: by `updated`, then by timeline position, latest first.
- Each source is a `link rel="related"` (its outlet as title) and a line of the content; the
  first source's URL is the entry's `alternate` link. Retracted entries stay in the feed,
  titled "Retracted: ...", so readers that have them learn of the retraction.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

from flask import Blueprint, Response, current_app, request
from marshmallow import fields, validate

from services.query import reads
from services.query.render import entry_date, kind_label
from services.query.schemas import _Strict
from shared.domain.timeline import Filters
from shared.http import error, query_args
from shared.openapi import doc

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)
MEDIA_TYPE = "application/atom+xml"
bp = Blueprint("atom", __name__)


class FeedQuery(_Strict):
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "at most this many entries, newest first"},
    )


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = text
    return node


def entry_times(entry: dict) -> tuple[str, str]:
    """(published, updated): first ingest; latest ingest or correction."""
    recorded = [p["recorded_at"] for p in entry["provenance"] if p.get("recorded_at")]
    changed = [
        c["recorded_at"] for p in entry["provenance"] for c in p.get("corrections") or () if c.get("recorded_at")
    ]
    published = min(recorded) if recorded else "1970-01-01T00:00:00Z"
    return published, max(recorded + changed) if recorded or changed else published


def entry_urn(story_id: str, entry: dict) -> str:
    first = min(entry["provenance"], key=lambda p: (p.get("recorded_at") or "", p["event_id"]))
    return f"urn:storyline:{story_id}:event:{first['event_id']}"


def entry_title(entry: dict) -> str:
    who = (entry.get("actor") or {}).get("name") or "someone"
    target = (entry.get("target") or {}).get("name")
    title = f"{kind_label(entry['event_type']).capitalize()}: {who}" + (f" / {target}" if target else "")
    return ("Retracted: " + title) if entry.get("retracted") else title


def _content(entry: dict) -> str:
    lines = [f"{entry_date(entry)}: {kind_label(entry['event_type'])} by {(entry.get('actor') or {}).get('name')}"]
    if entry.get("summary"):
        lines.append(entry["summary"])
    if entry.get("quote"):
        lines.append(f"\u201c{entry['quote']}\u201d")
    lines.append("Sources:")
    for p in entry["provenance"]:
        lines.append(f"- {p.get('outlet') or 'unknown outlet'}: {p.get('title') or ''} {p.get('url') or ''}".rstrip())
    return "\n".join(lines)


def feed(story: dict, story_id: str, entries: list[dict], self_url: str, page_url: str, limit: int) -> bytes:
    """The Atom document for a story's entry dicts."""
    timed = [(entry_times(e), e) for e in entries]
    timed.sort(key=lambda te: (te[0][1], te[1]["provenance"][0]["event_id"]), reverse=True)
    timed = timed[:limit]
    root = ET.Element(f"{{{ATOM}}}feed")
    _el(root, "id", f"urn:storyline:{story_id}")
    _el(root, "title", story.get("title") or story_id)
    latest = max((t[1] for t, _ in timed), default=None)
    _el(root, "updated", latest or story.get("last_recorded_at") or "1970-01-01T00:00:00Z")
    _el(root, "link", rel="self", href=self_url, type=MEDIA_TYPE)
    _el(root, "link", rel="alternate", href=page_url, type="text/html")
    author = _el(root, "author")
    _el(author, "name", "Storyline")
    _el(root, "generator", "Storyline")
    for (published, updated), e in timed:
        node = _el(root, "entry")
        _el(node, "id", entry_urn(story_id, e))
        _el(node, "title", entry_title(e))
        _el(node, "published", published)
        _el(node, "updated", updated)
        _el(node, "category", term=e["event_type"], label=kind_label(e["event_type"]))
        first = next((p["url"] for p in e["provenance"] if p.get("url")), None)
        _el(node, "link", rel="alternate", href=first or page_url, type="text/html")
        for p in e["provenance"]:
            if p.get("url"):
                _el(node, "link", rel="related", href=p["url"], title=p.get("outlet"))
        if e.get("summary"):
            _el(node, "summary", e["summary"])
        _el(node, "content", _content(e), type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@bp.get("/v1/stories/<story_id>/feed.atom")
@doc(
    "The story's entries as an Atom feed, newest first (corrections update an entry's `updated`)",
    tags=["feeds"],
    query=FeedQuery,
    errors=(404,),
    conditional=True,
    content={MEDIA_TYPE: {"type": "string"}},
    headers={"ETag": "weak ETag: the projection position plus the request"},
)
def story_feed(story_id: str):
    args = query_args(FeedQuery())
    with current_app.extensions["storyline.store"].view() as view:
        fresh = view.freshness()
        position = fresh.position
        etag = hashlib.sha256(f"{position}\x1f{request.full_path}".encode()).hexdigest()[:32]
        if request.if_none_match.contains_weak(etag):
            resp = Response(status=304)
        else:
            story = reads.story(view, story_id)
            if story is None:
                return error(404, f"no story {story_id!r}")
            kept = current_app.extensions.get("storyline.grouped")
            entries = [x.to_dict() for x in reads.entries(view, story_id, Filters(include_retracted=True), kept, fresh)]
            page = f"{request.host_url}#story={story_id}"
            resp = Response(
                feed(story, story_id, entries, request.base_url, page, args["limit"]),
                content_type=f"{MEDIA_TYPE}; charset=utf-8",
            )
    resp.set_etag(etag, weak=True)
    resp.headers["X-Storyline-Position"] = position
    resp.headers["Cache-Control"] = "no-cache"
    return resp
