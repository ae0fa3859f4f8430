"""Query service: Flask application factory and its thin routes.

Every answer says how far the projection has read the log (body `freshness` and the
X-Storyline-Position header) and carries a weak ETag made of that position and the request:
while the projection has not moved, If-None-Match gets a 304 without reading any events.
"""

from __future__ import annotations

import hashlib
from datetime import timezone

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from services.query import atom, live, reads, render, schemas
from services.query.grouped import GroupedStories
from shared.config import Settings
from shared.domain import timeline
from shared.domain.timeline import BadCursor, Filters
from shared.http import FastJSON, InvalidParameters, error, health_blueprint, install_error_handlers, query_args
from shared.observability import instrument
from shared.openapi import doc, install_openapi
from shared.ports import ReadStore, ReadView

bp = Blueprint("query", __name__)
_STORIES, _TIMELINE = schemas.StoriesQuery(), schemas.TimelineQuery()
_FILTERS, _TIMELINEJS, _NONE = schemas.EntryFiltersQuery(), schemas.TimelineJSQuery(), schemas.NoQuery()
_TEXT_TYPES = ("text/markdown", "text/plain")
_FRESH_HEADERS = {
    "ETag": "weak ETag: the projection position plus the request",
    "X-Storyline-Position": "how far the projection has read the log (generation; group:topic:partition=next offset)",
}
_DESCRIPTION = (
    "Story timelines projected from the event log. Order: " + timeline.ORDER + ". "
    "`as_of` answers as the timeline was known at a time (ingested by then, later corrections undone); "
    "`since`/`until` filter on event time instead. Every answer carries `freshness` / X-Storyline-Position "
    'and an ETag for If-None-Match. Errors everywhere: {"error": {"status", "reason", "fields"}}.'
)


def _store() -> ReadStore:
    return current_app.extensions["storyline.store"]


def _kept() -> GroupedStories:
    """Grouped stories of this app's store, kept while the projection position stands."""
    return current_app.extensions["storyline.grouped"]


class _Answer:
    """The snapshot this request reads, the projection's position, and the request's ETag.
    The snapshot ends with the request (_end_snapshot)."""

    def __init__(self, variant: str = ""):
        view = _store().view()
        self.v: ReadView = view.__enter__()
        g.storyline_view = view
        fresh = self.fresh = self.v.freshness()
        self.freshness = {
            "generation": fresh.generation,
            "positions": dict(sorted(fresh.positions.items())),
            "position": fresh.position,
        }
        key = "\x1f".join(
            [
                self.freshness["position"],
                request.path,
                variant,
                *sorted(f"{k}={v}" for k, vs in request.args.lists() for v in vs),
            ]
        )
        self.etag = hashlib.sha256(key.encode()).hexdigest()[:32]

    def not_modified(self) -> Response | None:
        if request.if_none_match.contains_weak(self.etag):
            return self.finish(Response(status=304))
        return None

    def finish(self, resp: Response) -> Response:
        resp.set_etag(self.etag, weak=True)
        resp.headers["X-Storyline-Position"] = self.freshness["position"]
        resp.headers["Cache-Control"] = "no-cache"  # reuse only after revalidating
        return resp

    def json(self, body: dict) -> Response:
        return self.finish(jsonify({**body, "freshness": self.freshness}))


def _end_snapshot(exc: BaseException | None) -> None:
    view = g.pop("storyline_view", None)
    if view is not None:
        view.__exit__(None, None, None)


def _filters(args: dict) -> Filters:
    as_of = args.get("as_of")
    if as_of is not None:  # the same form as recorded_at, so the store compares strings
        as_of = as_of.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Filters(
        types=tuple(dict.fromkeys(args.get("types") or ())),
        actor=args.get("actor"),
        since=args.get("since"),
        until=args.get("until"),
        include_retracted=args["include_retracted"],
        as_of=as_of,
    )


def _cursor(args: dict, fingerprint: str, keys: tuple[str, ...]) -> dict | None:
    if not args.get("cursor"):
        return None
    try:
        return timeline.decode_cursor(args["cursor"], fingerprint, keys)
    except BadCursor as exc:
        raise InvalidParameters({"cursor": [str(exc)]}) from None


def _no_story(story_id: str):
    return error(404, f"no story {story_id!r}")


@bp.get("/")
def editor_page():
    return current_app.send_static_file("index.html")


@bp.get("/v1/stories")
@doc(
    "Search stories, newest activity first",
    tags=["stories"],
    query=schemas.StoriesQuery,
    response=schemas.StoriesPageSchema,
    headers=_FRESH_HEADERS,
    conditional=True,
)
def list_stories():
    args = query_args(_STORIES)
    answer = _Answer()
    if (cached := answer.not_modified()) is not None:
        return cached
    fp = hashlib.sha256(
        repr((args.get("q"), (args.get("actor") or "").lower(), args.get("type"))).encode()
    ).hexdigest()[:16]
    after = _cursor(args, fp, ("t", "i"))
    stories, nxt = reads.list_stories(
        answer.v,
        args.get("q"),
        args.get("actor"),
        args.get("type"),
        args["limit"],
        (after["t"], after["i"]) if after else None,
    )
    token = timeline.encode_cursor({"t": nxt[0], "i": nxt[1], "f": fp}) if nxt else None
    return answer.json({"stories": stories, "next_cursor": token})


@bp.get("/v1/stories/<story_id>")
@doc(
    "A story's summary: title, participants with roles, counts by type, first and last dates, sources, "
    "and its lead (who accused whom, who answered, what was filed or deleted, between which dates, how many outlets)",
    tags=["stories"],
    response=schemas.StorySummarySchema,
    headers=_FRESH_HEADERS,
    conditional=True,
    errors=(400, 404),
)
def story_summary(story_id: str):
    query_args(_NONE)
    answer = _Answer()
    if (cached := answer.not_modified()) is not None:
        return cached
    story = reads.story(answer.v, story_id)
    if story is None:
        return _no_story(story_id)
    grouped = reads.grouped(answer.v, story_id, Filters(), _kept(), answer.fresh)
    return answer.json({**story, "sources": reads.articles_of(grouped.documents), "lead": grouped.lead()})


@bp.get("/v1/stories/<story_id>/timeline")
@doc(
    "A story's timeline, one entry per real-world event with every source",
    tags=["timelines"],
    query=schemas.TimelineQuery,
    response=schemas.TimelinePageSchema,
    headers=_FRESH_HEADERS,
    conditional=True,
    errors=(404,),
    description="Order: " + timeline.ORDER + ".",
)
def timeline_page(story_id: str):
    args = query_args(_TIMELINE)
    f = _filters(args)
    answer = _Answer()
    if (cached := answer.not_modified()) is not None:
        return cached
    after = _cursor(args, f.fingerprint(story_id), ("p",))
    story = reads.story(answer.v, story_id)
    if story is None:
        return _no_story(story_id)
    # each entry comes encoded already (kept with the grouped story): the page is a slice
    entries, nxt = reads.entry_page(
        answer.v, story_id, f, after["p"] if after else None, args["limit"], _kept(), answer.fresh
    )
    token = timeline.encode_cursor({"p": nxt, "f": f.fingerprint(story_id)}) if nxt else None
    return answer.json(
        {
            "story_id": story_id,
            "title": story["title"],
            "order": timeline.ORDER,
            "as_of": f.as_of,
            "entries": entries,
            "next_cursor": token,
        }
    )


def _all_entries(story_id: str, answer: _Answer, f: Filters):
    story = reads.story(answer.v, story_id)
    if story is None:
        return None, None
    return story, [e.to_dict() for e in reads.entries(answer.v, story_id, f, _kept(), answer.fresh)]


@bp.get("/v1/stories/<story_id>/narrative")
@doc(
    "The story told as prose (Markdown or plain text by Accept): a lead paragraph, then one paragraph per day in "
    "the timeline's order, each event as a sentence with its quotation and sources, answers linked, "
    "corrections and retractions as lines saying what changed, when and why",
    tags=["timelines"],
    query=schemas.EntryFiltersQuery,
    headers=_FRESH_HEADERS,
    conditional=True,
    errors=(404, 406),
    content={"text/markdown": {"type": "string"}, "text/plain": {"type": "string"}},
)
def narrative(story_id: str):
    args = query_args(_FILTERS)
    f = _filters(args)
    if request.headers.get("Accept"):
        kind = request.accept_mimetypes.best_match(_TEXT_TYPES)
        if kind is None:
            return error(406, "the narrative comes as text/markdown or text/plain")
    else:
        kind = "text/markdown"
    answer = _Answer(variant=kind)
    if (cached := answer.not_modified()) is not None:
        cached.headers["Vary"] = "Accept"
        return cached
    story, entries = _all_entries(story_id, answer, f)
    if story is None:
        return _no_story(story_id)
    write = render.narrative_markdown if kind == "text/markdown" else render.narrative_plain
    resp = answer.finish(
        Response(write(story["title"], story_id, entries, f.as_of), content_type=f"{kind}; charset=utf-8")
    )
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/v1/stories/<story_id>/timelinejs")
@doc(
    "The timeline in TimelineJS's JSON format, to embed as is",
    tags=["timelines"],
    query=schemas.TimelineJSQuery,
    response=schemas.TimelineJSSchema,
    headers=_FRESH_HEADERS,
    conditional=True,
    errors=(404,),
)
def timelinejs(story_id: str):
    args = query_args(_TIMELINEJS)
    f = _filters(args)
    answer = _Answer()
    if (cached := answer.not_modified()) is not None:
        return cached
    story, entries = _all_entries(story_id, answer, f)
    if story is None:
        return _no_story(story_id)
    # freshness travels in the headers only: the body is TimelineJS's format, nothing added
    return answer.finish(jsonify(render.timelinejs(story["title"], story_id, entries, args["group"])))


def create_app(settings: Settings | None = None, store: ReadStore | None = None) -> Flask:
    """Starts nothing and opens nothing but the store (given by the composition root)."""
    if store is None:
        from services.bootstrap import open_store

        store = open_store((settings or Settings.from_env()).store_url)
    app = Flask(__name__)  # serves the editors' page from services/query/static
    app.json = FastJSON(app)  # a timeline page is mostly JSON encoding; orjson keeps key order
    app.extensions["storyline.store"] = store
    app.extensions["storyline.grouped"] = GroupedStories()
    app.teardown_request(_end_snapshot)
    app.register_blueprint(health_blueprint(store.ping, "store"))
    app.register_blueprint(bp)
    app.register_blueprint(atom.bp)
    live.install(app, store, settings or Settings.from_env())  # SSE; its poller starts with the first stream
    install_openapi(app, "Storyline query API", "1", _DESCRIPTION)
    install_error_handlers(app)
    instrument(app, "query")
    return app
