"""Metrics, request ids and access lines for the HTTP services: `instrument(app, service)`.

Prometheus metrics through prometheus_client. Under gunicorn every worker is its own process,
so deploy/gunicorn/common.py points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the
workers start; each worker then writes its samples there and /metrics merges them. Without
that variable (the embedded `storyline serve`, the projector, tests) the process-wide default
registry is used.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from shared.logs import bind_request_id, current_request_id, unbind_request_id

HTTP_REQUESTS = Counter(
    "storyline_http_requests_total", "HTTP requests answered", ["service", "endpoint", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "storyline_http_request_duration_seconds",
    "Time from request to response",
    ["service", "endpoint", "method", "status"],
)
EVENTS_EXTRACTED = Counter(
    "storyline_ingest_events_extracted_total",
    "Events handed to the log: extracted from articles, or corrections",
    ["kind"],
)
EVENTS_PUBLISHED = Counter(
    "storyline_ingest_events_published_total", "Events the log acknowledged (acks=all)", ["kind"]
)

_QUIET_PATHS = ("/healthz", "/readyz", "/metrics")  # probes and scrapes: access lines at DEBUG only
access_log = logging.getLogger("storyline.access")


def metrics_registry():
    """The registry to expose: merged worker files in multiprocess mode, else this process's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry


def metrics_response() -> Response:
    return Response(generate_latest(metrics_registry()), headers={"Content-Type": CONTENT_TYPE_LATEST})


class InstrumentedLog:
    """The event log as an HTTP service sees it: counts events by kind on their way in, and
    stamps the request id on every record published while serving a request, so whatever
    a request wrote (articles, corrections) can be followed into the projector's logs."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def deliver(self, records) -> list[bool]:
        """The ingest outbox relay's way in: counts what the log acknowledged (request ids were
        stamped when the records were queued)."""
        acked = self._inner.deliver(records)
        for record, ok in zip(records, acked):
            if ok:
                kind = record.headers.get("event_type", "unknown")
                EVENTS_EXTRACTED.labels(kind).inc()
                EVENTS_PUBLISHED.labels(kind).inc()
        return acked

    def publish(self, records) -> None:
        rid = current_request_id()
        if rid:
            records = [
                r if r.headers.get("request_id") else replace(r, headers={**r.headers, "request_id": rid})
                for r in records
            ]
        kinds = [r.headers.get("event_type", "unknown") for r in records]
        for kind in kinds:
            EVENTS_EXTRACTED.labels(kind).inc()
        self._inner.publish(records)
        for kind in kinds:
            EVENTS_PUBLISHED.labels(kind).inc()


def instrument(app: Flask, service: str) -> Flask:
    """Request ids (X-Request-Id in and out), request metrics, one JSON access line, /metrics."""

    def start():
        g.request_started = time.perf_counter()
        g.request_id, g.request_id_token = bind_request_id(request.headers.get("X-Request-Id"))

    def finish(response):
        elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"  # bounded label values
        labels = (service, endpoint, request.method, str(response.status_code))
        HTTP_REQUESTS.labels(*labels).inc()
        HTTP_LATENCY.labels(*labels).observe(elapsed)
        response.headers["X-Request-Id"] = g.get("request_id", "")
        level = logging.DEBUG if request.path in _QUIET_PATHS else logging.INFO
        access_log.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
        return response

    def forget(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                unbind_request_id(token)
            except ValueError:  # set in another context (a server that switched threads); nothing leaks
                pass

    # first, so requests refused by other before_request hooks (401) still get an id and a timing
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)
    app.teardown_request(forget)
    app.add_url_rule("/metrics", "metrics", metrics_response)
    if "storyline.log" in app.extensions and not isinstance(app.extensions["storyline.log"], InstrumentedLog):
        app.extensions["storyline.log"] = InstrumentedLog(app.extensions["storyline.log"])
    return app
