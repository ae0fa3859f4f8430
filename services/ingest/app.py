"""Ingest service: Flask application factory."""
from __future__ import annotations

import uuid

from flask import Blueprint, Flask, current_app, jsonify, request
from marshmallow import ValidationError

from shared.bootstrap import Settings, open_log, open_store
from shared.http import error, install_error_handlers, require_api_key
from services.ingest.corrections import bp as corrections_bp
from services.ingest.schemas import ArticleSchema
from services.ingest.service import ingest
from services.ingest.story_index import StoreStoryIndex

bp = Blueprint("ingest", __name__)
_ARTICLE = ArticleSchema()


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    try:
        current_app.extensions["storyline.log"].ping()
    except Exception as exc:
        return error(503, f"event log unreachable: {type(exc).__name__}")
    return jsonify(status="ready")


@bp.post("/v1/articles")
def post_article():
    if not request.is_json:
        return error(415, "send the article as JSON (Content-Type: application/json)")
    payload = request.get_json(silent=True)
    if payload is None:
        return error(400, "the body is not valid JSON")
    if not isinstance(payload, dict):
        return error(400, "the body must be a JSON object")
    try:
        article = _ARTICLE.load(payload)
    except ValidationError as exc:
        return error(422, "the article failed validation", exc.messages)
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    try:
        article_id, story_id, evs = ingest(article, current_app.extensions["storyline.log"], request_id,
                                       current_app.extensions["storyline.stories"])
    except Exception:  # the log (or the story index) refused: nothing was accepted, say so plainly
        current_app.logger.exception("publish failed")
        return error(503, "the event log or story index is unavailable; the article was not accepted, retry later")
    return jsonify(article_id=article_id, story_id=story_id, events=evs, request_id=request_id), 202


def create_app(settings: Settings | None = None, log=None, store=None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["storyline.log"] = log or open_log(settings)
    app.extensions["storyline.stories"] = StoreStoryIndex(store if store is not None else open_store(settings.store_url))
    require_api_key(app, settings.api_keys)
    app.register_blueprint(bp)
    app.register_blueprint(corrections_bp)
    install_error_handlers(app)
    return app
