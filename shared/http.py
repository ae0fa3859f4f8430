"""HTTP habits both Flask services share: one error format, query validation, body limits, health."""

from __future__ import annotations

import hmac
import json
from typing import Callable

import orjson
from flask import Blueprint, Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields
from werkzeug.exceptions import HTTPException

from shared.adapters.stores import unavailable_errors
from shared.openapi import doc


def error(status: int, reason: str, fields: dict | None = None):
    body = {"error": {"status": status, "reason": reason}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


class InvalidParameters(Exception):
    """Query parameters failed their schema: answered 400 with each field and its reason."""

    def __init__(self, messages: dict):
        super().__init__("invalid query parameters")
        self.messages = messages


def query_args(schema: Schema) -> dict:
    """Validate request.args with `schema`. List fields take every repeat of their parameter
    (and comma-separated values); anything else takes one value, so no parameter can turn
    into a list or an object on its way to the store."""
    raw: dict = {}
    for key in request.args:
        values = request.args.getlist(key)
        field = schema.fields.get(key)
        if isinstance(field, ma_fields.List):
            raw[key] = [part for v in values for part in v.split(",") if part]
        elif len(values) > 1:
            raise InvalidParameters({key: ["give this parameter once"]})
        else:
            raw[key] = values[0]
    try:
        return schema.load(raw)
    except ValidationError as exc:
        raise InvalidParameters(exc.messages) from None


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidParameters)
    def _invalid(exc: InvalidParameters):
        names = ", ".join(sorted(exc.messages))
        return error(400, f"invalid query parameter(s): {names}", exc.messages)

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


def json_body() -> tuple[object, str | None]:
    """The request body parsed as JSON, or a reason it cannot be: bytes that are not UTF-8
    and text that is not JSON get different answers."""
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"the body is not valid UTF-8 (byte {exc.start})"
    try:
        payload = json.loads(text)
    except ValueError as exc:
        return None, f"the body is not valid JSON: {exc}"
    try:  # JSON escapes can spell lone surrogates, which no UTF-8 encoder downstream accepts
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, "the body holds a lone surrogate escape (e.g. \\ud800): not valid Unicode text"
    return payload, None


def load_json_object(schema: Schema, noun: str) -> tuple[dict | None, Response | None]:
    """A write's body, checked in order: UTF-8 JSON content type (415), parseable JSON (400),
    an object (400), the schema (422). Returns the loaded data or the error answer."""
    if not request.is_json or request.mimetype_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return None, error(415, f"send the {noun} as UTF-8 JSON (Content-Type: application/json)")
    payload, problem = json_body()
    if problem:
        return None, error(400, problem)
    if not isinstance(payload, dict):
        return None, error(400, "the body must be a JSON object")
    try:
        return schema.load(payload), None
    except ValidationError as exc:
        return None, error(422, f"the {noun} failed validation", exc.messages)


class StatusSchema(Schema):
    status = ma_fields.String(required=True, metadata={"example": "ok"})
    log = ma_fields.String(
        metadata={"description": "ingest: 'reachable' or 'unreachable: <error>' (status 'degraded')"}
    )
    outbox = ma_fields.Dict(
        metadata={"description": "ingest: {queued, oldest_age_s}, events accepted but not yet in the log"}
    )


class FastJSON(DefaultJSONProvider):
    """Flask's JSON answers encoded by orjson, keys in the order they were built."""

    sort_keys = False

    def dumps(self, obj, **kwargs) -> str:
        if kwargs.get("indent") or kwargs.get("sort_keys"):
            return super().dumps(obj, **kwargs)
        # compact, like separators=(",", ":"); marshmallow numbers list items in its error messages
        return orjson.dumps(obj, default=self.default, option=orjson.OPT_NON_STR_KEYS).decode()


def health_blueprint(
    check_ready: Callable[[], object], dependency: str, details: Callable[[], dict] | None = None
) -> Blueprint:
    """/healthz (the process answers) and /readyz (its dependency answers too).
    `check_ready` raises when the dependency is unreachable; `details` adds fields to a ready answer."""
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    @doc(tags=["health"], summary="Liveness: the process answers", response=StatusSchema)
    def healthz():
        return jsonify(status="ok")

    @bp.get("/readyz")
    @doc(tags=["health"], summary=f"Readiness: the {dependency} answers too", response=StatusSchema, errors=(503,))
    def readyz():
        try:
            check_ready()
        except Exception as exc:
            return error(503, f"{dependency} unreachable: {type(exc).__name__}")
        return jsonify({"status": "ready", **(details() if details else {})})

    return bp


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
