"""Ingest service: Flask application factory."""
from __future__ import annotations

import uuid

from flask import Blueprint, Flask, current_app, jsonify, request
from marshmallow import ValidationError

from shared.bootstrap import Settings, open_log, open_outbox
from shared.http import error, install_error_handlers, require_api_key
from shared.ports import OutboxUnavailable
from services.ingest.corrections import bp as corrections_bp
from services.ingest.schemas import ArticleSchema
from services.ingest.delivery import await_publication, queue
from services.ingest.relay import Relay
from services.ingest.service import ingest

bp = Blueprint("ingest", __name__)
_ARTICLE = ArticleSchema()


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    # Ingest takes articles while the outbox can be written, even with the log down; the
    # log's state and the outbox depth are reported beside it.
    try:
        queued, oldest = current_app.extensions["storyline.outbox"].backlog()
    except Exception as exc:
        return error(503, f"outbox unavailable: {type(exc).__name__}")
    outbox = {"queued": queued, "oldest_age_s": None if oldest is None else round(oldest, 3)}
    try:
        current_app.extensions["storyline.log"].ping()
    except Exception as exc:
        return jsonify(status="degraded", log=f"unreachable: {type(exc).__name__}", outbox=outbox)
    return jsonify(status="ready", log="reachable", outbox=outbox)


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
        article_id, story_id, evs, seqs = ingest(article, queue, request_id)
    except OutboxUnavailable:  # nothing was accepted: say so plainly
        current_app.logger.exception("outbox write failed")
        return error(503, "the outbox is unavailable; the article was not accepted, retry later")
    return jsonify(article_id=article_id, story_id=story_id, events=evs, request_id=request_id,
                   delivery=await_publication(seqs)), 202


def create_app(settings: Settings | None = None, log=None, outbox=None) -> Flask:
    """Also starts this process's outbox relay (app.extensions["storyline.relay"]; stop() it)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["storyline.log"] = log or open_log(settings)
    app.extensions["storyline.outbox"] = outbox or open_outbox(settings)
    app.extensions["storyline.relay"] = Relay(app.extensions["storyline.outbox"], app.extensions["storyline.log"]).start()
    require_api_key(app, settings.api_keys)
    app.register_blueprint(bp)
    app.register_blueprint(corrections_bp)
    install_error_handlers(app)
    return app
