"""Structured logs: one JSON object per line, with the service and the request id on every line.

The request id lives in a context variable: the HTTP layer sets it per request, and code that
works on behalf of a request it did not receive (the projector applying an event) passes
`extra={"request_id": ...}` instead. Either way it lands in the `request_id` field, so one
article can be followed from ingest through the log to the projector.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("storyline_request_id", default=None)
# A caller's id is echoed into logs and Kafka headers, so only a short, plain token is taken as given.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(given: str | None) -> tuple[str, contextvars.Token]:
    """Use the caller's id when it is acceptable, a fresh one otherwise; returns it and a reset token."""
    rid = given if given and _ACCEPTABLE_ID.fullmatch(given) else uuid.uuid4().hex
    return rid, _request_id.set(rid)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


class StorylineJsonFormatter(JsonFormatter):
    """time, level, logger, message, service, request_id, then whatever `extra` carried."""

    def __init__(self, service: str):
        super().__init__(
            ["levelname", "name", "message", "request_id"],
            rename_fields={"levelname": "level", "name": "logger"},
            static_fields={"service": service},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict) -> dict:
        return {"time": log_data.pop("time", None), **log_data}


def json_handler(service: str, stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(StorylineJsonFormatter(service))
    handler.addFilter(_RequestIdFilter())
    return handler


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger through one JSON handler on stderr (replaces earlier handlers)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(json_handler(service))
    root.setLevel(level)
    # kafka-python logs every socket connect at INFO; group joins and assignments stay visible
    logging.getLogger("kafka.conn").setLevel(max(logging.WARNING, root.level))
    # werkzeug's own request lines would repeat the JSON access lines of shared.observability
    logging.getLogger("werkzeug").setLevel(max(logging.WARNING, root.level))
