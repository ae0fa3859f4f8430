"""Ingest service: Flask application factory."""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, current_app, jsonify

from services.ingest.corrections import bp as corrections_bp
from services.ingest.delivery import await_publication, queue, readiness
from services.ingest.projected import ProjectedReadings
from services.ingest.relay import Relay
from services.ingest.schemas import AcceptedSchema, ArticleSchema
from services.ingest.service import ingest
from services.ingest.story_index import StoreStoryIndex
from shared.config import Settings
from shared.http import error, health_blueprint, install_error_handlers, load_json_object, require_api_key
from shared.logs import current_request_id
from shared.observability import instrument
from shared.openapi import doc, install_openapi
from shared.ports import OutboxUnavailable

bp = Blueprint("ingest", __name__)
_ARTICLE = ArticleSchema()


@bp.post("/v1/articles")
@doc(
    "Ingest an article: its events are extracted, queued durably and published to the log (X-API-Key required)",
    tags=["articles"],
    body=ArticleSchema,
    response=AcceptedSchema,
    status=202,
    errors=(400, 401, 413, 415, 422, 503),
)
def post_article():
    article, refused = load_json_object(_ARTICLE, "article")
    if refused:
        return refused
    request_id = current_request_id() or uuid.uuid4().hex
    try:
        article_id, story_id, evs, seqs = ingest(
            article,
            queue,
            request_id,
            current_app.extensions["storyline.stories"],
            article_topic=current_app.extensions["storyline.article_log"].topic,
            would_change=current_app.extensions["storyline.readings"].would_change,
        )
    except OutboxUnavailable:  # nothing was accepted: say so plainly
        current_app.logger.exception("outbox write failed")
        return error(503, "the outbox is unavailable; the article was not accepted, retry later")
    # (a story index that cannot reach the store answers 503 through the shared store handler)
    return jsonify(
        article_id=article_id, story_id=story_id, events=evs, request_id=request_id, delivery=await_publication(seqs)
    ), 202


def create_app(
    settings: Settings | None = None, log=None, store=None, outbox=None, relay: Relay | None = None, article_log=None
) -> Flask:
    """Assembles the app; starts nothing. app.extensions["storyline.relay"] is the outbox relay
    the requests wake: the composition root (services/bootstrap.py) starts and stops it."""
    settings = settings or Settings.from_env()
    if log is None or store is None or outbox is None or article_log is None:
        from services.bootstrap import open_article_log, open_log, open_outbox, open_store

        log = log or open_log(settings)
        store = store if store is not None else open_store(settings.store_url)
        outbox = outbox or open_outbox(settings)
        article_log = article_log or open_article_log(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["storyline.log"] = log
    app.extensions["storyline.outbox"] = outbox
    app.extensions["storyline.stories"] = StoreStoryIndex(store)
    app.extensions["storyline.readings"] = ProjectedReadings(store, log, outbox, settings.group, settings.topic)
    app.extensions["storyline.article_log"] = article_log
    require_api_key(app, settings.api_keys)
    # ready while the outbox takes articles, even with the log away; the log's state is reported beside it
    app.register_blueprint(health_blueprint(outbox.backlog, "outbox", details=lambda: readiness(outbox, log)))
    app.register_blueprint(bp)
    app.register_blueprint(corrections_bp)
    install_openapi(
        app,
        "Storyline ingest API",
        "1",
        'Articles in, typed events out to the log. Errors everywhere: {"error": {"status", "reason", "fields"}}.',
    )
    install_error_handlers(app)
    instrument(app, "ingest")
    # after instrument(): the relay publishes through the instrumented log, so it is counted
    app.extensions["storyline.relay"] = relay or Relay(outbox, log, routes={article_log.topic: article_log})
    return app
