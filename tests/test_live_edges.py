"""The edges of a live stream's life: the process stopping, and a client going away.

The query app built at the composition root on the embedded SQLite store, served by
werkzeug's threaded server in this process and by gunicorn's gthread worker (the production
server, deploy/gunicorn/query.conf.py) as a subprocess; no Kafka, no MongoDB. The delivery of
changes is tests/test_live.py's, on both backends.
"""

from __future__ import annotations

import http.client
import logging
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time

import pytest
from werkzeug.serving import make_server

from services import bootstrap
from shared.config import Settings

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUNICORN = pathlib.Path(sys.executable).with_name("gunicorn")


class Reader:
    """One SSE GET on a raw connection: the event names it has read, and whether it ended."""

    def __init__(self, host: str, port: int, path: str):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream"})
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.names: list[str] = []
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.resp.read()
            self.ended.set()

    def _read(self):
        try:
            while line := self.resp.readline():
                if line.startswith(b"event:"):
                    self.names.append(line[6:].strip().decode())
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # hung up by the test
        self.ended.set()

    def wait_for(self, name: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while name not in self.names:
            assert time.monotonic() < deadline, (name, self.names)
            time.sleep(0.02)

    def hang_up(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


def _env(tmp_path, **extra) -> dict:
    return {"STORYLINE_DATA_DIR": str(tmp_path / "data"), "STORYLINE_SSE_POLL_SECONDS": "0.05"} | extra


class InProcess:
    """The query role built by bootstrap.build, under werkzeug's threaded server."""

    def __init__(self, env: dict):
        self.parts = bootstrap.build(Settings.from_env(env), roles=("query",))
        self.server = make_server("127.0.0.1", 0, self.parts.query_app(), threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.parts.stop()


class Gunicorn:
    """`gunicorn -c deploy/gunicorn/query.conf.py`, one gthread worker."""

    def __init__(self, env: dict, tmp_path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = tmp_path / "gunicorn.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(GUNICORN), "--config", str(ROOT / "deploy/gunicorn/query.conf.py")],
                env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()[-3000:]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture(params=["werkzeug", "gunicorn"])
def one_slot(request, tmp_path):
    """A query service that lets one live stream in; heartbeats at the default 15 s."""
    env = _env(tmp_path, STORYLINE_SSE_MAX_CLIENTS="1")
    served = InProcess(env) if request.param == "werkzeug" else Gunicorn(env, tmp_path)
    yield served
    served.close()


def test_a_client_that_hangs_up_frees_its_slot_well_before_the_heartbeat(one_slot):
    first = Reader("127.0.0.1", one_slot.port, "/v1/events")
    assert first.status == 200
    first.wait_for("ready")
    refused = Reader("127.0.0.1", one_slot.port, "/v1/events")
    assert refused.status == 503  # the one slot is taken
    first.hang_up()
    started, status = time.monotonic(), 503
    while status == 503 and time.monotonic() - started < 6:  # the heartbeat would be at 15 s
        time.sleep(0.2)
        again = Reader("127.0.0.1", one_slot.port, "/v1/events")
        status = again.status
    assert status == 200, f"the slot was still taken {time.monotonic() - started:.1f}s after the client left"
    again.wait_for("ready")
    again.hang_up()


def test_stop_ends_open_streams_and_the_poller_before_the_store_closes(tmp_path, caplog):
    served = InProcess(_env(tmp_path))
    stream = Reader("127.0.0.1", served.port, "/v1/events")
    stream.wait_for("ready")
    caplog.set_level(logging.WARNING)
    served.server.shutdown()
    served.parts.stop()
    time.sleep(0.5)  # ten poll intervals: a poller still running would have tried the closed store
    assert not [r for r in caplog.records if "poll failed" in r.getMessage()], caplog.text
    assert not [t for t in threading.enumerate() if t.name == "sse-poller"]
    assert stream.ended.wait(5), "the open stream outlived the system's stop"
