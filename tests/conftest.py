"""Fixtures: the whole system on a backend, reached only through HTTP.

`system`: ingest, projector and query on real sockets; its `real` variant runs the Kafka and
MongoDB adapters against the servers that `make test` starts (STORYLINE_TEST_KAFKA,
STORYLINE_TEST_MONGO); they are required, never skipped. Tests of what the adapters do
(delivery, stored values, the projection) use it.

`api`: the same composition root on the embedded log and the memory store, reached through
Flask's test clients (no sockets, no servers): the fast tier's fixture for what the HTTP layer
alone decides (schemas, 4xx shapes, authentication, the OpenAPI documents).
"""

from __future__ import annotations

import json
import os
import pathlib
import threading
import time
import uuid

import pytest
import requests
from werkzeug.serving import make_server

from services import bootstrap
from shared.adapters.stores import open_store
from shared.config import Settings

API_KEY = "test-key-0123456789abcdef"
NEXT_API_KEY = "test-key-rotated-in-0123456789"
CORPUS = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "articles.json"


@pytest.fixture(scope="session")
def corpus():
    return json.loads(CORPUS.read_text())


@pytest.fixture(scope="session")
def seed(corpus):
    return next(a for a in corpus["articles"] if a["id"] == "seed")


def real_env() -> dict:
    kafka, mongo = os.environ.get("STORYLINE_TEST_KAFKA"), os.environ.get("STORYLINE_TEST_MONGO")
    if not kafka or not mongo:
        pytest.fail(
            "STORYLINE_TEST_KAFKA and STORYLINE_TEST_MONGO are not set: run the suite with `make test`, "
            "which starts the real servers"
        )
    run = uuid.uuid4().hex[:8]
    return {
        "STORYLINE_LOG": f"kafka://{kafka}",
        "STORYLINE_STORE": f"mongodb://{mongo}/storyline_test_{run}",
        "STORYLINE_TOPIC": f"storyline.test.{run}",
        "STORYLINE_PARTITIONS": "3",
        "STORYLINE_GROUP": f"timeline-test-{run}",
        # projector subprocesses run side by side: each lets the system pick its listener port
        "STORYLINE_PROJECTOR_PORT": "0",
    }


class System:
    """Ingest, projector and query running in this process on free ports, built at the
    composition root like `storyline serve`."""

    def __init__(self, env: dict):
        self.env = env
        self.settings = Settings.from_env(env)
        self.parts = bootstrap.build(self.settings)
        self.log, self.store, self.projector = self.parts.log, self.parts.store, self.parts.projector
        self.ingest = self.parts.ingest_app()
        self._servers = [
            make_server("127.0.0.1", 0, self.ingest, threaded=True),
            make_server("127.0.0.1", 0, self.parts.query_app(), threaded=True),
        ]
        self.ingest_url = f"http://127.0.0.1:{self._servers[0].server_port}"
        self.query_url = f"http://127.0.0.1:{self._servers[1].server_port}"
        self.parts.start(monitor_host="127.0.0.1")
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in self._servers]
        for t in self._threads:
            t.start()

    def post(self, article: dict) -> requests.Response:
        return requests.post(f"{self.ingest_url}/v1/articles", json=article, timeout=30, headers={"X-API-Key": API_KEY})

    def timeline(self, story_id: str, want: int, timeout: float = 30.0, **params) -> dict:
        """Poll the query service until the story's timeline cites `want` events (or time runs out)."""
        deadline, body = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            r = requests.get(f"{self.query_url}/v1/stories/{story_id}/timeline", params=params, timeout=10)
            if r.status_code == 200:
                body = r.json()
                if sum(len(e["provenance"]) for e in body["entries"]) >= want:
                    return body
            time.sleep(0.2)
        return body or {"entries": []}

    def close(self):
        for s in self._servers:
            s.shutdown()
        self.parts.stop()


class Api:
    """Ingest, relay, projector and query built by bootstrap.build, without servers: requests go
    through each app's Flask test client."""

    def __init__(self, env: dict, roles: tuple[str, ...] = bootstrap.ROLES):
        self.settings = Settings.from_env(env)
        self.parts = bootstrap.build(self.settings, roles, store=open_store("memory:"))
        self.parts.start(monitor_host="127.0.0.1")
        self.ingest = self.parts.ingest_app().test_client()
        self.query = self.parts.query_app().test_client()

    def post(self, article, key: str | None = API_KEY, **headers):
        return self.ingest.post("/v1/articles", json=article, headers=({"X-API-Key": key} if key else {}) | headers)

    def timeline(self, story_id: str, want: int, timeout: float = 30.0) -> dict:
        """Poll until the story's timeline cites `want` events (or time runs out)."""
        deadline, body = time.monotonic() + timeout, {"entries": []}
        while time.monotonic() < deadline:
            r = self.query.get(f"/v1/stories/{story_id}/timeline")
            if r.status_code == 200:
                body = r.get_json()
                if sum(len(e["provenance"]) for e in body["entries"]) >= want:
                    break
            time.sleep(0.05)
        return body

    def close(self):
        self.parts.stop()


def api_env(directory, **extra: str) -> dict:
    return {
        "STORYLINE_DATA_DIR": str(directory),
        "STORYLINE_PARTITIONS": "3",
        "STORYLINE_PROJECTOR_PORT": "0",
        "STORYLINE_API_KEYS": f"{API_KEY},{NEXT_API_KEY}",
    } | extra


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    one = Api(api_env(tmp_path_factory.mktemp("api")))
    yield one
    one.close()


@pytest.fixture(params=["embedded", "real"])
def system(request, tmp_path):
    env = {
        "STORYLINE_DATA_DIR": str(tmp_path / "data"),
        "STORYLINE_PARTITIONS": "3",
        "STORYLINE_PROJECTOR_PORT": "0",
        "STORYLINE_API_KEYS": f"{API_KEY},{NEXT_API_KEY}",
    }
    if request.param == "real":
        env.update(real_env())
    sys_ = System(env)
    yield sys_
    sys_.close()
