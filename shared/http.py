"""HTTP habits both Flask services share: one error format, body limits, health."""
from __future__ import annotations

import hmac

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from shared.adapters.stores import unavailable_errors


def error(status: int, reason: str, fields: dict | None = None):
    body = {"error": {"status": status, "reason": reason}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return error(exc.code or 500, exc.description or exc.name)

    def _store_unavailable(exc: Exception):
        app.logger.warning("store unavailable: %s", exc)
        response, status = error(503, f"the store is unavailable ({type(exc).__name__}); retry later")
        response.headers["Retry-After"] = "5"
        return response, status

    for kind in unavailable_errors():
        app.register_error_handler(kind, _store_unavailable)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return error(500, "internal error")


def require_api_key(app: Flask, keys: tuple[str, ...]) -> None:
    """Every write (any method but GET/HEAD/OPTIONS) needs a valid X-API-Key."""
    encoded = [k.encode() for k in keys]

    @app.before_request
    def _check_key():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        given = request.headers.get("X-API-Key", "").encode()
        # compare against every key, always, so timing says nothing about which one nearly matched
        ok = False
        for key in encoded:
            ok |= hmac.compare_digest(given, key)
        if not ok:
            reason = "missing X-API-Key header" if not given else "invalid API key"
            if not encoded:
                reason = "writes are disabled: no API keys are configured (STORYLINE_API_KEYS)"
            return error(401, reason)
        return None
