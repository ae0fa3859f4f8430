"""HTTP habits both Flask services share: one error format, body limits, health."""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


def error(status: int, reason: str, fields: dict | None = None):
    body = {"error": {"status": status, "reason": reason}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return error(500, "internal error")
