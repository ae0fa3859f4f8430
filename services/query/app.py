"""Query service: Flask application factory."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request

from shared.bootstrap import Settings, open_store
from shared.http import error, install_error_handlers
from shared.observability import instrument
from shared import read_model

bp = Blueprint("query", __name__)
_HIDDEN = {"_id": 0, "sort": 0}
_NULLABLE = ("occurred_at", "occurred_precision", "target", "quote")


def _db():
    return current_app.extensions["storyline.store"]


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    try:
        _db().list_collection_names()
    except Exception as exc:
        return error(503, f"store unreachable: {type(exc).__name__}")
    return jsonify(status="ready")


@bp.get("/v1/stories")
def list_stories():
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        return error(400, "limit must be a whole number", {"limit": ["not a number"]})
    if not 1 <= limit <= 500:
        return error(400, "limit must be between 1 and 500", {"limit": ["out of range"]})
    # newest activity first; the store sorts and limits, so a large newsroom is not loaded whole
    stories = list(read_model.current(_db()).stories.find({}, {"_id": 0}).sort("last_recorded_at", -1).limit(limit))
    return jsonify(stories=stories)


@bp.get("/v1/stories/<story_id>/timeline")
def timeline(story_id: str):
    story = read_model.current(_db()).stories.find_one({"_id": str(story_id)}, {"_id": 0})
    if story is None:
        return error(404, f"no story {story_id!r}")
    entries = list(read_model.current(_db()).events.find({"story_id": str(story_id)}, _HIDDEN | {"log": 0}).sort("sort", 1))
    for e in entries:
        # Some MongoDB-wire servers drop null fields on upsert; the contract keeps them.
        for key in _NULLABLE:
            e.setdefault(key, None)
        e["dated"] = e["occurred_at"] is not None
    return jsonify(story=story, order="occurred_at (undated after dated on the publication day), "
                                     "published_at, log position", events=entries)


def create_app(settings: Settings | None = None, store=None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json.sort_keys = False
    app.extensions["storyline.store"] = store if store is not None else open_store(settings.store_url)
    app.register_blueprint(bp)
    install_error_handlers(app)
    instrument(app, "query")
    return app
