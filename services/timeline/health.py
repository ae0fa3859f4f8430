"""What operators see of a running projector: /healthz, /readyz and /metrics on a small
HTTP listener, the projector's metrics, and one log line per request id it applies.

The consumer group's lag is read from the log every few seconds on a thread of its own (it
costs broker round trips, so it is not done per batch). Every replica reports the lag of
the whole group, so dashboards take max() over replicas.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

from flask import Flask, jsonify
from prometheus_client import Counter, Gauge
from werkzeug.serving import make_server

from shared.config import ConfigError
from shared.http import error, install_error_handlers
from shared.observability import metrics_response

EVENTS_APPLIED = Counter(
    "storyline_projector_events_applied_total",
    "Log records the projector applied and committed (rate() gives events/s)",
)
DEAD_LETTERS = Counter(
    "storyline_projector_dead_letters_total", "Records the projection could not use and set aside as dead letters"
)
CONSUMER_LAG = Gauge(
    "storyline_consumer_lag", "Records in the log not yet committed by the consumer group", ["topic", "partition"]
)
LOG_END_OFFSET = Gauge(
    "storyline_log_end_offset", "Offset the next record of the partition will get", ["topic", "partition"]
)
ASSIGNED = Gauge("storyline_projector_assigned_partitions", "Partitions this projector holds in its group")

log = logging.getLogger("storyline.timeline")
STALL_LIMIT_S = 120.0  # longer than the longest backoff (10 s) plus a slow batch


class ProjectorMonitor:
    def __init__(self, projector, event_log, db, group: str, lag_interval_s: float = 5.0):
        self.projector = projector
        self.event_log = event_log
        self.db = db
        self.group = group
        self.lag_interval_s = lag_interval_s
        self._stopping = threading.Event()
        self._dead_seen = 0
        self._server = None
        self._threads: list[threading.Thread] = []
        projector.on_batch_applied = self.batch_applied

    # -- the projector's hook, called on its own thread after each committed batch
    def batch_applied(self, batch) -> None:
        EVENTS_APPLIED.inc(len(batch))
        dead = self.projector.dead_lettered
        if dead > self._dead_seen:
            DEAD_LETTERS.inc(dead - self._dead_seen)
            self._dead_seen = dead
        by_request: dict[str, list] = {}
        for msg in batch:
            by_request.setdefault(msg.headers.get("request_id") or "", []).append(msg)
        for request_id, msgs in by_request.items():
            log.info(
                "applied %d events",
                len(msgs),
                extra={
                    "request_id": request_id or None,
                    "group": self.group,
                    "event_ids": [_event_id(m.value) for m in msgs],
                    "stories": sorted({m.key for m in msgs if m.key}),
                    "positions": [f"{m.partition}:{m.offset}" for m in msgs],
                },
            )

    # -- consumer lag
    def refresh_lag(self) -> None:
        try:
            lags = self.event_log.lag(self.group)
            ASSIGNED.set(len(self.projector.consumer.assignment()))
        except Exception as exc:  # a missed refresh only leaves the previous figures in place
            log.warning("could not read the consumer lag: %s: %s", type(exc).__name__, exc)
            return
        for (topic, partition), lag in lags.items():
            CONSUMER_LAG.labels(topic, str(partition)).set(lag.lag)
            LOG_END_OFFSET.labels(topic, str(partition)).set(lag.end)

    def _refresh_forever(self) -> None:
        while not self._stopping.wait(self.lag_interval_s):
            self.refresh_lag()

    # -- the listener
    def app(self) -> Flask:
        app = Flask("storyline.timeline.health")

        @app.get("/healthz")
        def healthz():
            if self.projector.stopping.is_set():
                return error(503, "the projector is stopping")
            # A loop that hangs (a write that never returns) is not alive, even if the
            # process is; a store outage is not that: the loop keeps turning with backoff.
            stalled = time.monotonic() - self.projector.heartbeat
            if stalled > STALL_LIMIT_S:
                return error(503, f"the consumer loop has not turned for {stalled:.0f} s")
            return jsonify(status="ok")

        @app.get("/readyz")
        def readyz():
            if self.projector.stopping.is_set():
                return error(503, "the projector is stopping")
            try:
                self.event_log.ping()
            except Exception as exc:
                return error(503, f"event log unreachable: {type(exc).__name__}")
            try:
                self.db.ping()
            except Exception as exc:
                return error(503, f"store unreachable: {type(exc).__name__}")
            return jsonify(status="ready")

        app.add_url_rule("/metrics", "metrics", metrics_response)
        install_error_handlers(app)
        return app

    def start(self, port: int, host: str = "0.0.0.0") -> int:
        """Take the first lag reading, then serve and refresh in the background; returns the port."""
        self.refresh_lag()
        # bound here, not by werkzeug, which answers a taken port with sys.exit instead of an error
        try:
            sock = socket.create_server((host, port))
        except OSError as exc:
            raise ConfigError(f"STORYLINE_PROJECTOR_PORT={port}: cannot listen: {exc.strerror}") from None
        with sock:
            self._server = make_server(host, sock.getsockname()[1], self.app(), threaded=True, fd=sock.fileno())
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="projector-http", daemon=True),
            threading.Thread(target=self._refresh_forever, name="projector-lag", daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self._server.socket.getsockname()[1]

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
        for t in self._threads:
            t.join(timeout=10)


def _event_id(value: bytes) -> str | None:
    try:
        return json.loads(value).get("event_id")
    except (ValueError, AttributeError):
        return None
