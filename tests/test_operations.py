"""What operators rely on: request ids, metrics, the projector's listener, `storyline lag`,
configuration errors. Each runs on the embedded backend and on the real servers."""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests
from conftest import API_KEY, real_env
from prometheus_client.parser import text_string_to_metric_families

from services.bootstrap import open_log
from shared.config import Settings
from shared.domain import events
from shared.ports import Record

STORYLINE = str(pathlib.Path(sys.executable).with_name("storyline"))


def metrics(url: str) -> list:
    r = requests.get(f"{url}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return [s for fam in text_string_to_metric_families(r.text) for s in fam.samples]


def total(samples, name: str, **labels) -> float:
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def backend_env(backend: str, tmp_path) -> dict:
    env = {
        "STORYLINE_DATA_DIR": str(tmp_path / "data"),
        "STORYLINE_PARTITIONS": "3",
        "STORYLINE_PROJECTOR_PORT": "0",
        "STORYLINE_GROUP": f"ops-{uuid.uuid4().hex[:8]}",
    }
    if backend == "real":
        env.update(real_env())
    return env


def cli(*args, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [STORYLINE, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **env}
    )


@pytest.fixture(scope="module")
def template_event(seed) -> dict:
    """One valid envelope to vary: the first event of the seed article that passes the contract."""
    from services.ingest.schemas import ArticleSchema
    from services.ingest.service import events_for

    article = ArticleSchema().load(seed_article(seed))
    for e in events_for(article):
        try:
            events.decode(events.encode(e))
        except ValueError:
            continue
        return e
    pytest.fail("the seed article gave no event that passes the contract")


def seed_article(seed, **extra) -> dict:
    return {k: seed[k] for k in ("url", "title", "outlet", "published_at", "body")} | {"story_id": "ops"} | extra


# ------------------------------------------------------------------ HTTP: request ids and metrics


def test_request_id_is_echoed_or_made(system, seed):
    given = f"ops-{uuid.uuid4().hex}"
    r = requests.post(
        f"{system.ingest_url}/v1/articles",
        json=seed_article(seed),
        timeout=30,
        headers={"X-API-Key": API_KEY, "X-Request-Id": given},
    )
    assert r.status_code == 202
    assert r.headers["X-Request-Id"] == given == r.json()["request_id"]

    # an id that is not a plain token is not carried into logs and headers: a fresh one is made
    r = requests.post(
        f"{system.ingest_url}/v1/articles",
        json=seed_article(seed),
        timeout=30,
        headers={"X-API-Key": API_KEY, "X-Request-Id": "two words\tand a tab"},
    )
    assert r.status_code == 202
    assert (
        re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"]) and r.json()["request_id"] == r.headers["X-Request-Id"]
    )

    # refused requests carry one too, and so do reads
    r = requests.post(f"{system.ingest_url}/v1/articles", json=seed_article(seed), timeout=30)
    assert r.status_code == 401 and r.headers["X-Request-Id"]
    r = requests.get(f"{system.query_url}/v1/stories", headers={"X-Request-Id": "read-1"}, timeout=10)
    assert r.headers["X-Request-Id"] == "read-1"


def test_request_id_travels_in_the_log_headers_of_whatever_a_request_wrote(system, seed):
    article = requests.post(
        f"{system.ingest_url}/v1/articles",
        json=seed_article(seed),
        timeout=30,
        headers={"X-API-Key": API_KEY, "X-Request-Id": "article-req-1"},
    )
    assert article.status_code == 202
    target = article.json()["events"][0]
    r = requests.post(
        f"{system.ingest_url}/v1/corrections",
        timeout=30,
        headers={"X-API-Key": API_KEY, "X-Request-Id": "correction-req-1"},
        json={
            "story_id": target["story_id"],
            "event_id": target["event_id"],
            "action": "retract",
            "reason": "wrong person",
            "editor": "desk",
        },
    )
    assert r.status_code == 202, r.text
    by_request: dict[str, set] = {}
    for m in system.log.read():
        by_request.setdefault(m.headers.get("request_id"), set()).add(m.headers.get("event_type"))
    assert by_request["article-req-1"] == {e["event_type"] for e in article.json()["events"]}
    assert by_request["correction-req-1"] == {"event_retracted"}


def test_metrics_count_requests_and_events(system, seed):
    before = metrics(system.ingest_url)
    accepted = requests.post(
        f"{system.ingest_url}/v1/articles", json=seed_article(seed), timeout=30, headers={"X-API-Key": API_KEY}
    )
    assert accepted.status_code == 202
    assert (
        requests.post(
            f"{system.ingest_url}/v1/articles", json={"title": "x"}, timeout=30, headers={"X-API-Key": API_KEY}
        ).status_code
        == 422
    )
    assert requests.get(f"{system.query_url}/v1/stories/ops/timeline", timeout=10).status_code in (200, 404)
    assert requests.get(f"{system.query_url}/no/such/path", timeout=10).status_code == 404
    after = metrics(system.query_url)  # one process here: both services share the registry

    def delta(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    post = {"service": "ingest", "endpoint": "/v1/articles", "method": "POST"}
    assert delta("storyline_http_requests_total", **post, status="202") == 1
    assert delta("storyline_http_requests_total", **post, status="422") == 1
    assert delta("storyline_http_request_duration_seconds_count", **post, status="202") == 1
    assert delta("storyline_http_request_duration_seconds_sum", **post, status="202") > 0
    # path parameters are not labels: one series per route, and one for every unknown path
    timeline_route = {"service": "query", "endpoint": "/v1/stories/<story_id>/timeline"}
    assert delta("storyline_http_requests_total", **timeline_route) == 1
    assert delta("storyline_http_requests_total", service="query", endpoint="unmatched", status="404") == 1
    kinds: dict[str, int] = {}
    for e in accepted.json()["events"]:
        kinds[e["event_type"]] = kinds.get(e["event_type"], 0) + 1
    assert kinds
    for kind, n in kinds.items():
        assert delta("storyline_ingest_events_extracted_total", kind=kind) == n
        assert delta("storyline_ingest_events_published_total", kind=kind) == n


# ------------------------------------------------------------------ storyline lag


@pytest.fixture(params=["embedded", "real"])
def backend(request):
    return request.param


def test_lag_command_reports_end_committed_and_lag(backend, tmp_path, template_event):
    env = backend_env(backend, tmp_path)
    settings = Settings.from_env(env)
    log = open_log(settings)
    try:
        evs = [dict(template_event, event_id=f"lag-event-{i:04d}", story_id=f"lag-story-{i % 7}") for i in range(30)]
        log.publish([Record(key=e["story_id"], value=events.encode(e)) for e in evs])
        # read everything back as the group, then commit about half of each partition
        consumer = log.consumer(settings.group)
        per_partition: dict[int, int] = {}
        deadline = time.monotonic() + 60
        while sum(per_partition.values()) < len(evs) and time.monotonic() < deadline:
            for m in consumer.poll(timeout_ms=500):
                per_partition[m.partition] = per_partition.get(m.partition, 0) + 1
        assert sum(per_partition.values()) == len(evs)
        committed = {p: n // 2 for p, n in per_partition.items()}
        consumer.commit({(settings.topic, p): o for p, o in committed.items()})
        consumer.close()
    finally:
        log.close()

    out = cli("lag", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["group"] == settings.group and report["topic"] == settings.topic
    rows = {r["partition"]: r for r in report["partitions"]}
    assert sorted(rows) == [0, 1, 2]
    for p in range(3):
        end = per_partition.get(p, 0)
        want_committed = committed.get(p)
        assert rows[p]["end"] == end
        assert rows[p]["committed"] == want_committed
        assert rows[p]["lag"] == end - (want_committed or 0)
    assert report["total_lag"] == sum(n - n // 2 for n in per_partition.values())

    # a group that never committed lags by everything; the table says the same as the JSON
    out = cli("lag", "--group", "nobody-" + uuid.uuid4().hex[:6], env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1].split() == ["total", str(len(evs))]
    assert all(line.split()[2] == "-" for line in lines[2:-1])


def test_lag_command_says_when_the_log_is_unreachable(tmp_path):
    out = cli("lag", env={"STORYLINE_LOG": "kafka://127.0.0.1:1", "STORYLINE_DATA_DIR": str(tmp_path)})
    assert out.returncode == 1
    assert "cannot read offsets from kafka://127.0.0.1:1" in out.stderr


# ------------------------------------------------------------------ the projector's listener


def _wait(pred, timeout: float, what: str, proc: subprocess.Popen, log_path: pathlib.Path, last=dict):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except requests.RequestException:
            pass
        assert proc.poll() is None, f"projector exited {proc.returncode}:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} (last seen {last()}):\n{log_path.read_text()[-3000:]}")


def test_projector_listener_metrics_and_clean_stop(backend, tmp_path, template_event):
    env = backend_env(backend, tmp_path) | {"STORYLINE_LAG_INTERVAL_SECONDS": "1"}
    settings = Settings.from_env(env)
    log = open_log(settings)
    good = [dict(template_event, event_id=f"probe-event-{i:04d}", story_id=f"probe-story-{i % 4}") for i in range(12)]
    try:
        log.publish(
            [Record(key=e["story_id"], value=events.encode(e), headers={"request_id": "probe-req"}) for e in good]
            + [Record(key="probe-story-0", value=b'{"not": "an event"}')]
        )
    finally:
        log.close()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path / "projector.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [STORYLINE, "project"],
            env={**os.environ, **env, "STORYLINE_PROJECTOR_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(
            lambda: requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}, 60, "healthz", proc, log_path
        )
        _wait(lambda: requests.get(f"{url}/readyz", timeout=10).status_code == 200, 60, "readyz", proc, log_path)

        want = {
            "storyline_projector_events_applied_total": len(good) + 1,
            "storyline_projector_dead_letters_total": 1,
            "storyline_consumer_lag": 0,
            "storyline_log_end_offset": len(good) + 1,
            "storyline_projector_assigned_partitions": 3,
        }
        seen: dict = {}

        def settled():
            m = metrics(url)
            seen.update({name: total(m, name) for name in want})
            seen["lag series"] = sum(1 for s in m if s.name == "storyline_consumer_lag")
            return seen == want | {"lag series": 3}

        _wait(settled, 90, f"the projector's metrics to settle at {want}", proc, log_path, lambda: seen)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log_path.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    # one JSON object per line, every line, with the fields a log pipeline indexes on
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message", "service", "request_id"} <= set(line), line
        assert line["service"] == "timeline"
    applied = [line for line in lines if line["request_id"] == "probe-req"]
    assert sorted(e for line in applied for e in line["event_ids"]) == sorted(e["event_id"] for e in good)
    assert lines[-1]["message"].startswith("projector stopped")

    # what the stopped projector committed is what `storyline lag` reads back: nothing left
    out = cli("lag", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total_lag"] == 0


# ------------------------------------------------------------------ configuration errors


@pytest.mark.parametrize(
    "var,value",
    [
        ("STORYLINE_PROJECTOR_PORT", "http"),
        ("STORYLINE_PROJECTOR_PORT", "70000"),
        ("STORYLINE_LOG_LEVEL", "LOUD"),
        ("STORYLINE_LAG_INTERVAL_SECONDS", "0"),
    ],
)
def test_bad_operations_settings_name_the_variable(tmp_path, var, value):
    out = cli("project", env={"STORYLINE_DATA_DIR": str(tmp_path), var: value})
    assert out.returncode == 2
    assert var in out.stderr


def test_projector_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = cli("project", env={"STORYLINE_DATA_DIR": str(tmp_path), "STORYLINE_PROJECTOR_PORT": str(port)})
    assert out.returncode == 2
    assert f"STORYLINE_PROJECTOR_PORT={port}" in out.stderr and "cannot listen" in out.stderr
