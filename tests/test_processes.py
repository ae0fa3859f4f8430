"""The services as an operator runs them: separate processes on the REAL servers.

Ingest under gunicorn (2 workers, deploy/gunicorn/ingest.conf.py), query under gunicorn, and
two `storyline project` processes in one consumer group. Articles go in over HTTP; one
projector is stopped with SIGTERM (it exits 0 and leaves the group) and the other takes its
partitions; more articles follow, one of them in flight while ingest itself gets SIGTERM.
Every event id of the 202 answers must then appear exactly once in the query timelines, the
surviving projector's lag gauge must fall to zero, and one request id must be traceable from
the ingest log to a projector log.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import pymongo
import pymongo.errors
import pytest
import requests
from conftest import API_KEY, real_env
from kafka import KafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
N_BEFORE, N_AFTER = 10, 10  # articles posted before and after the first projector stops


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric_samples(url: str) -> list:
    text = requests.get(f"{url}/metrics", timeout=10).text
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def metric_total(url: str, name: str, **labels) -> float:
    return sum(
        s.value for s in metric_samples(url) if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def json_lines(path: pathlib.Path) -> list[dict]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


class Stack:
    """Processes with their logs in files; everything is killed in close()."""

    def __init__(self, tmp: pathlib.Path, env: dict):
        self.tmp = tmp
        self.env = {**os.environ, **env}
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "wb") as out:
            proc = subprocess.Popen(argv, env={**self.env, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> pathlib.Path:
        return self.tmp / f"{name}.log"

    def tails(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n).read_text(errors='replace')[-2500:]}" for n in self.procs)

    def wait_until(self, pred, timeout: float, what, step: float = 0.2):
        """Poll pred until truthy; `what` (text, or a callable giving text) names it when time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = pred()
                if value:
                    return value
            except (requests.RequestException, pymongo.errors.PyMongoError):
                pass
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() not in (None, 0)}
            assert not dead, f"processes died {dead}:\n{self.tails()}"
            time.sleep(step)
        pytest.fail(f"timed out waiting for {what() if callable(what) else what}:\n{self.tails()}")

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def articles(base: list[dict], tag: str, n: int) -> list[dict]:
    out = []
    for i in range(n):
        a = base[i % len(base)]
        out.append(
            {
                "id": f"{tag}-{i:03d}",
                "url": f"https://news.example.test/{tag}/{i}",
                "title": a["title"],
                "outlet": a["outlet"],
                "published_at": a["published_at"],
                "body": a["body"],
                "story_id": f"{tag}-story-{i % 6}",
            }
        )
    return out


def post(url: str, article: dict, request_id: str | None = None) -> requests.Response:
    headers = {"X-API-Key": API_KEY} | ({"X-Request-Id": request_id} if request_id else {})
    r = requests.post(f"{url}/v1/articles", json=article, headers=headers, timeout=30)
    assert r.status_code == 202, r.text
    return r


def post_in_flight_then_terminate(port: int, article: dict, request_id: str, proc: subprocess.Popen) -> dict:
    """Send half a request, SIGTERM gunicorn, send the rest: the answer must still come."""
    body = json.dumps(article).encode()
    head = (
        f"POST /v1/articles HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-API-Key: {API_KEY}\r\nX-Request-Id: {request_id}\r\n"
        f"Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body[:40])
        time.sleep(1.0)  # a worker has taken the connection and waits for the rest of the body
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # the master is shutting down; the worker must still finish this request
        sock.sendall(body[40:])
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    status_line, _, rest = raw.partition(b"\r\n")
    headers, _, payload = rest.partition(b"\r\n\r\n")
    assert b" 202 " in status_line, raw[:500]
    assert f"x-request-id: {request_id}".encode() in headers.lower()
    return json.loads(payload)


def timeline_ids(query_url: str) -> Counter:
    """Every event id in every story timeline the query service serves, with its count."""
    stories = _all_pages(f"{query_url}/v1/stories", "stories", {"limit": 200})
    seen: Counter = Counter()
    for story in stories:
        for entry in _all_pages(f"{query_url}/v1/stories/{story['story_id']}/timeline", "entries", {"limit": 500}):
            seen.update(p["event_id"] for p in entry["provenance"])
    return seen


def _all_pages(url: str, key: str, params: dict) -> list[dict]:
    out, cursor = [], None
    while True:
        r = requests.get(url, params=params | ({"cursor": cursor} if cursor else {}), timeout=10)
        r.raise_for_status()
        body = r.json()
        out += body[key]
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def wait_projected(stack: Stack, query_url: str, sent: list[str], timeout: float = 120) -> None:
    missing: set[str] = set(sent)

    def done() -> bool:
        missing.intersection_update(set(sent) - set(timeline_ids(query_url)))
        return not missing

    stack.wait_until(
        done, timeout, lambda: f"{len(missing)} of {len(sent)} events to be projected, e.g. {sorted(missing)[:3]}"
    )


def group_members(bootstrap: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        (info,) = admin.describe_consumer_groups([group])
        return len(info.members)
    finally:
        admin.close()


def test_services_as_separate_processes(tmp_path, corpus, capsys):
    env = real_env() | {
        "STORYLINE_API_KEYS": API_KEY,
        "STORYLINE_LAG_INTERVAL_SECONDS": "3",
        "STORYLINE_LOG_LEVEL": "INFO",
    }
    bootstrap = env["STORYLINE_LOG"].removeprefix("kafka://")
    run = env["STORYLINE_GROUP"].rsplit("-", 1)[-1]
    ports = {name: free_port() for name in ("ingest", "query", "proj_a", "proj_b")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    stack = Stack(tmp_path, env)
    mongo = pymongo.MongoClient(env["STORYLINE_STORE"], serverSelectionTimeoutMS=5000)
    try:
        for name in ("ingest", "query"):
            metrics_dir = tmp_path / f"metrics-{name}"
            metrics_dir.mkdir()
            stack.start(
                name,
                [str(BIN / "gunicorn"), "--config", str(ROOT / f"deploy/gunicorn/{name}.conf.py")],
                GUNICORN_BIND=f"127.0.0.1:{ports[name]}",
                WEB_CONCURRENCY="2",
                PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            )
        for name in ("ingest", "query"):
            stack.wait_until(
                lambda n=name: requests.get(f"{urls[n]}/readyz", timeout=5).status_code == 200,
                90,
                f"{name} to be ready",
            )

        # -- a backlog before any projector runs; one article carries a request id to trace
        trace_id = f"trace-{run}"
        sent: list[str] = []
        answers = []
        for i, article in enumerate(articles(corpus["articles"], f"before-{run}", N_BEFORE)):
            r = post(urls["ingest"], article, trace_id if i == 3 else None)
            answers.append(r)
            sent += [e["event_id"] for e in r.json()["events"]]
        assert answers[3].headers["X-Request-Id"] == trace_id == answers[3].json()["request_id"]
        generated = {r.headers["X-Request-Id"] for i, r in enumerate(answers) if i != 3}
        assert len(generated) == N_BEFORE - 1 and all(generated), "each request without an id gets its own"
        traced_events = [e["event_id"] for e in answers[3].json()["events"]]
        assert traced_events and len(set(sent)) == len(sent) > N_BEFORE

        lag = subprocess.run(
            [str(BIN / "storyline"), "lag", "--json"], env=stack.env, capture_output=True, text=True, timeout=60
        )
        assert lag.returncode == 0, lag.stderr
        backlog = json.loads(lag.stdout)
        # Nothing committed yet: every offset is lag. The relay's transactions each end with a
        # commit marker, which takes an offset of its own, so the lag covers every event and
        # the markers between them: it is the sum of the end offsets, at least one per event.
        assert backlog["total_lag"] == sum(p["end"] for p in backlog["partitions"]) >= len(sent), backlog
        assert all(p["committed"] is None for p in backlog["partitions"])

        # -- two projectors in one group
        for name in ("proj_a", "proj_b"):
            stack.start(name, [str(BIN / "storyline"), "project"], STORYLINE_PROJECTOR_PORT=str(ports[name]))
        # Each projector reads the group's lag once before it consumes and then every few seconds;
        # scrape each as soon as its listener answers to catch that first reading. The one that
        # started consuming second read it before anyone consumed, so it saw a backlog.
        first_lag: dict[str, float] = {}

        def first_readings() -> bool:
            for name in ("proj_a", "proj_b"):
                if name not in first_lag:
                    try:
                        first_lag[name] = metric_total(urls[name], "storyline_consumer_lag")
                    except requests.ConnectionError:
                        pass
            return len(first_lag) == 2

        stack.wait_until(first_readings, 60, "both projectors' listeners", step=0.05)
        assert max(first_lag.values()) > 0, first_lag
        for name in ("proj_a", "proj_b"):
            stack.wait_until(
                lambda n=name: requests.get(f"{urls[n]}/readyz", timeout=10).status_code == 200, 60, f"{name} ready"
            )
        wait_projected(stack, urls["query"], sent)
        stack.wait_until(lambda: group_members(bootstrap, env["STORYLINE_GROUP"]) == 2, 60, "both in the group")

        # -- SIGTERM one projector: it finishes, commits, leaves the group, exits 0
        proj_a = stack.procs["proj_a"]
        proj_a.send_signal(signal.SIGTERM)
        assert proj_a.wait(60) == 0, f"projector A exited {proj_a.returncode}:\n{stack.tails()}"
        a_lines = json_lines(stack.log("proj_a"))
        assert any(line["message"].startswith("Leaving consumer group") for line in a_lines), (
            f"projector A did not leave its group:\n{stack.tails()}"
        )
        assert any(line["message"].startswith("projector stopped") for line in a_lines), (
            f"projector A did not log its stop:\n{stack.tails()}"
        )
        stack.wait_until(lambda: group_members(bootstrap, env["STORYLINE_GROUP"]) == 1, 60, "A to be gone")
        stack.wait_until(
            lambda: metric_total(urls["proj_b"], "storyline_projector_assigned_partitions") == 3,
            60,
            "B to take every partition",
        )

        # -- more articles, and one in flight while ingest is told to stop
        for article in articles(corpus["articles"], f"after-{run}", N_AFTER):
            sent += [e["event_id"] for e in post(urls["ingest"], article).json()["events"]]
        posts = N_BEFORE + N_AFTER
        assert (
            metric_total(urls["ingest"], "storyline_http_requests_total", endpoint="/v1/articles", status="202")
            == posts
        ), "both workers' requests counted"
        assert metric_total(urls["ingest"], "storyline_ingest_events_published_total") == len(sent)
        last = articles(corpus["articles"], f"inflight-{run}", 1)[0]
        answer = post_in_flight_then_terminate(ports["ingest"], last, f"inflight-{run}", stack.procs["ingest"])
        sent += [e["event_id"] for e in answer["events"]]
        assert stack.procs["ingest"].wait(40) == 0, (
            f"ingest exited {stack.procs['ingest'].returncode}:\n{stack.tails()}"
        )

        # -- nothing lost, nothing doubled
        wait_projected(stack, urls["query"], sent)
        seen = timeline_ids(urls["query"])
        doubled = {eid: n for eid, n in seen.items() if n != 1}
        assert not doubled, f"events shown more than once: {list(doubled.items())[:5]}"
        assert set(seen) == set(sent), f"unexpected events: {sorted(set(seen) - set(sent))[:5]}"
        assert len(sent) == len(set(sent))
        with capsys.disabled():  # the figures, visible with or without -s
            print(
                f"\nprocesses | articles {posts + 1} | events {len(sent)} | lost 0 | doubled 0 | "
                f"in-flight request answered 202 after SIGTERM",
                flush=True,
            )

        # -- the survivor's lag gauge falls to zero on every partition
        def lag_is_zero():
            lags = [s for s in metric_samples(urls["proj_b"]) if s.name == "storyline_consumer_lag"]
            return len(lags) == 3 and all(s.value == 0 for s in lags)

        stack.wait_until(lag_is_zero, 60, "B's lag gauge to reach zero")
        assert metric_total(urls["proj_b"], "storyline_projector_events_applied_total") > 0

        # -- one request id, followed from ingest to the projector that applied its events
        ingest_hits = [line for line in json_lines(stack.log("ingest")) if line.get("request_id") == trace_id]
        assert any(line["service"] == "ingest" and line.get("status") == 202 for line in ingest_hits), (
            f"no ingest line with request id {trace_id}:\n{stack.tails()}"
        )
        projector_hits = [
            line
            for name in ("proj_a", "proj_b")
            for line in json_lines(stack.log(name))
            if line.get("request_id") == trace_id
        ]
        assert projector_hits, f"no projector line with request id {trace_id}:\n{stack.tails()}"
        assert all(line["service"] == "timeline" for line in projector_hits)
        assert {e for line in projector_hits for e in line["event_ids"]} == set(traced_events)

        # -- the rest stop cleanly too
        for name in ("proj_b", "query"):
            stack.procs[name].send_signal(signal.SIGTERM)
        for name in ("proj_b", "query"):
            assert stack.procs[name].wait(60) == 0, f"{name} exited {stack.procs[name].returncode}:\n{stack.tails()}"
    finally:
        stack.close()
        try:
            mongo.drop_database(mongo.get_default_database().name)
        finally:
            mongo.close()
