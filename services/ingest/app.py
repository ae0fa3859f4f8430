"""Ingest service: Flask application factory."""
from __future__ import annotations

import uuid

from flask import Blueprint, Flask, current_app, jsonify, request
from marshmallow import ValidationError

from shared.bootstrap import Settings, open_log, open_store
from shared.http import error, health_blueprint, install_error_handlers, require_api_key
from shared.logs import current_request_id
from shared.observability import instrument
from shared.openapi import doc, install_openapi
from services.ingest.corrections import bp as corrections_bp
from services.ingest.schemas import AcceptedSchema, ArticleSchema
from services.ingest.service import ingest
from services.ingest.story_index import StoreStoryIndex

bp = Blueprint("ingest", __name__)
_ARTICLE = ArticleSchema()


@bp.post("/v1/articles")
@doc("Ingest an article: its events are extracted and published to the log (X-API-Key required)",
     tags=["articles"], body=ArticleSchema, response=AcceptedSchema, status=202, errors=(400, 401, 413, 415, 422, 503))
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
    request_id = current_request_id() or uuid.uuid4().hex
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
    app.register_blueprint(health_blueprint(app.extensions["storyline.log"].ping, "event log"))
    app.register_blueprint(bp)
    app.register_blueprint(corrections_bp)
    install_openapi(app, "Storyline ingest API", "1", "Articles in, typed events out to the log. "
                    "Errors everywhere: {\"error\": {\"status\", \"reason\", \"fields\"}}.")
    install_error_handlers(app)
    instrument(app, "ingest")
    return app
