"""Query latency: the timeline endpoint against the raw store query, at equal footing.

In one run, on the same data: a story of N events (each its own entry), its pages taken in
turn through their cursors, GET /v1/stories/<id>/timeline?limit=P, compared two ways with
the raw store query for the same pages (same filter, sort and page size, documents decoded:
a pymongo find, or a plain sqlite3 SELECT of the JSON column):

- through the transport: the service under gunicorn (a few workers) against the raw query
  answered by a bare WSGI function under the same gunicorn settings (bench/raw_page_app.py),
  both over HTTP from this process, keep-alive;
- in process: the service's WSGI app called with the environ gunicorn would hand it (built
  beforehand; the body read to the end) against the raw query in this process.

Each ratio is p99(service)/p99(raw) at equal footing; the target is <= 3 for both. The
service over HTTP against the raw query in process is printed too, with /healthz over HTTP,
which is the least that ratio can be (the transport alone). After a warm-up that is not
measured, each round takes one of each request of its phase in turn, so noise on the shared
machine falls on all alike; the in-process phase runs after the HTTP one, so the servers'
leftover work (access lines, sockets) does not land on it. Last, the first page after the
projection moves: on another story, then on this one; and the stories list's requests/s.

The read model is written by the projection code itself (Projection.prepare/apply), so the service
reads exactly what production writes. On either store:
  STORYLINE_STORE=mongodb://127.0.0.1:27018/storyline_bench python -m bench.query_latency [N]
  STORYLINE_STORE=file:///tmp/somewhere python -m bench.query_latency [N]
(`make bench-query` runs both: the embedded store, then the test MongoDB-wire server.)
"""

from __future__ import annotations

import os
import pathlib
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
import requests
from werkzeug.test import EnvironBuilder

from services.bootstrap import build, open_store
from services.timeline.projection import Projection
from shared.config import Settings
from shared.domain import events, read_model
from shared.ports import EventQuery, Message

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE, ROUNDS, WARMUP, WORKERS, LIST_CLIENTS, LIST_REQUESTS, MOVES = 50, 400, 40, 3, 4, 600, 5


def event(i: int, story: str, run: str) -> dict:
    day = f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"
    sentence = f"Person {i % 40} said something about the matter on day {i}."
    return {
        "event_id": f"{run}-{story}-{i:06d}",
        "event_type": events.EVENT_TYPES[i % len(events.EVENT_TYPES)],
        "schema_version": events.SCHEMA_VERSION,
        "story_id": story,
        "occurred_at": day if i % 10 else None,
        "occurred_precision": "day" if i % 10 else None,
        "published_at": f"{day}T{i % 24:02d}:00:00Z",
        "recorded_at": events.utcnow_iso(),
        "actor": {"name": f"Person {i % 40}", "kind": "person"},
        "target": {"name": "The Ministry", "kind": "organisation"},
        "quote": None,
        "summary": f"Person {i % 40}: {sentence}",
        "details": {"cue": "said"},
        "source": {
            "article_id": f"art-{i // 5}",
            "url": f"https://news.example.test/{i // 5}",
            "outlet": "Bench",
            "title": f"Story {story}",
            "sentence": sentence,
            "char_start": 0,
            "char_end": len(sentence),
        },
        "extractor": {"version": "bench", "confidence": 0.8},
        "responds_to": [],
    }


def project(projection: Projection, evs: list[dict], offset: int) -> int:
    """Project `evs` from log offset `offset` on, 500 a batch; returns the next offset."""
    for start in range(0, len(evs), 500):
        projection.apply(
            projection.prepare(
                [
                    Message("bench", 0, offset + start + k, e["story_id"], events.encode(e), 0)
                    for k, e in enumerate(evs[start : start + 500])
                ]
            )
        )
    return offset + len(evs)


def load(db, n: int, run: str) -> tuple[str, Projection, int]:
    """One story of n events plus 200 small stories, through the projection code; the story,
    the projection and the next log offset."""
    big = f"bench-{run}"
    evs = [event(i, big, run) for i in range(n)]
    evs += [event(j, f"small-{run}-{j % 200:03d}", run) for j in range(1000)]
    projection = Projection(db, "bench")
    projection.ensure_indexes()
    return big, projection, project(projection, evs, 0)


def raw_page(store_url: str, generation: int):
    """The plainest query of the store for one page: (story, after sort or None) -> documents."""
    if store_url.startswith("mongodb://"):
        from shared.adapters.mongo_store import open_database

        coll = open_database(store_url)[read_model.events_name(generation)]

        def mongo(story: str, after: str | None) -> list[dict]:
            query = {"story_id": story, "status": {"$ne": "retracted"}} | ({"sort": {"$gt": after}} if after else {})
            return list(coll.find(query, {"_id": 0}).sort("sort", 1).limit(PAGE))

        return mongo
    import sqlite3
    from urllib.parse import urlparse

    from shared.adapters.sqlite_store import FILE_NAME

    path = os.path.join(urlparse(store_url).path, FILE_NAME)
    table = read_model.events_name(generation)
    local = threading.local()  # one connection per thread (the raw page app serves from threads)

    def sqlite(story: str, after: str | None) -> list[dict]:
        if getattr(local, "db", None) is None:
            local.db = sqlite3.connect(path)
        rows = local.db.execute(
            f"SELECT doc FROM {table} WHERE story_id = ? AND status != 'retracted' AND sort > ? ORDER BY sort LIMIT ?",
            (story, after or "", PAGE),
        ).fetchall()
        return [orjson.loads(d) for (d,) in rows]

    return sqlite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(store_url: str, port: int, logfile, app: str | None = None, **env: str) -> subprocess.Popen:
    """The query service (or `app`, a WSGI path) under deploy/gunicorn/query.conf.py."""
    env = dict(
        os.environ,
        STORYLINE_STORE=store_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_LOGLEVEL="warning",
        **env,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn/query.conf.py"), *([app] if app else [])],
        cwd=ROOT,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not become ready; see the log")


def page_environ(story: str, cursor: str | None) -> dict:
    """The WSGI environ of one timeline page request, as a server hands it to the app."""
    query = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
    return EnvironBuilder(path=f"/v1/stories/{story}/timeline", query_string=query).get_environ()


def call_wsgi(app, environ: dict) -> bytes:
    """The app's answer to `environ`, read to the end (what a server does with it)."""
    status: list[str] = []
    body = app.wsgi_app(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        out = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    assert status[0].startswith("200"), status
    return out


def pct(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if p < 100 else max(samples)


def timed(samples: list[float], call, *args) -> object:
    t = time.perf_counter()
    out = call(*args)
    samples.append(time.perf_counter() - t)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    settings = Settings.from_env()
    run = uuid.uuid4().hex[:6]
    db = open_store(settings.store_url)
    story, projection, offset = load(db, n, run)
    port, raw_port = free_port(), free_port()
    base, raw_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{raw_port}"
    with open(ROOT / ".cache" / "bench-query-gunicorn.log", "w") as log:
        proc = start_gunicorn(settings.store_url, port, log)
        raw_proc = None
        try:
            # Walk the pages once to learn each page's cursor, and the raw position it stands for.
            cursors, cursor = [None], None
            while True:
                body = requests.get(
                    f"{base}/v1/stories/{story}/timeline",
                    timeout=10,
                    params={"limit": PAGE, **({"cursor": cursor} if cursor else {})},
                ).json()
                cursor = body["next_cursor"]
                if not cursor:
                    break
                cursors.append(cursor)
            with db.view() as view:
                sorts = [d["sort"] for d in view.events(story, EventQuery())]
                generation = view.generation
            page_of = raw_page(settings.store_url, generation)
            positions = [None] + [sorts[PAGE * k - 1] for k in range(1, len(cursors))]
            assert len(sorts) == n, (len(sorts), n)
            raw_proc = start_gunicorn(
                settings.store_url, raw_port, log, "bench.raw_page_app:app", BENCH_GENERATION=str(generation)
            )

            session, raw_session = requests.Session(), requests.Session()

            def service_page(c: str | None) -> None:
                r = session.get(
                    f"{base}/v1/stories/{story}/timeline",
                    params={"limit": PAGE, **({"cursor": c} if c else {})},
                    timeout=10,
                )
                assert r.status_code == 200 and len(r.json()["entries"]) > 0

            def raw_http_page(p: str | None) -> None:
                r = raw_session.get(
                    f"{raw_base}/page", params={"story": story, **({"after": p} if p else {})}, timeout=10
                )
                assert r.status_code == 200 and len(r.json()) > 0

            def floor() -> None:
                assert session.get(f"{base}/healthz", timeout=10).status_code == 200

            # Warm-up (not measured), then rounds that take each kind of request in turn, so a
            # noisy moment of the machine falls on all of them alike.
            service: list[float] = []
            raw_http: list[float] = []
            healthz: list[float] = []
            for i in range(WARMUP + ROUNDS):
                if i == WARMUP:
                    service, raw_http, healthz = [], [], []
                timed(service, service_page, cursors[i % len(cursors)])
                timed(raw_http, raw_http_page, positions[i % len(positions)])
                timed(healthz, floor)

            # In process: the service's WSGI app as gunicorn calls it, beside the raw query.
            app = build(settings, roles=("query",), store=db).query_app()
            in_app: list[float] = []
            raw: list[float] = []
            for i in range(WARMUP + ROUNDS):
                if i == WARMUP:
                    in_app, raw = [], []
                environ = page_environ(story, cursors[i % len(cursors)])
                body = timed(in_app, call_wsgi, app, environ)
                assert orjson.loads(body)["entries"]
                assert timed(raw, page_of, story, positions[i % len(positions)])

            # The first page after the projection moves: on another story (the story is kept:
            # a changes_since read), then on this story itself (it is grouped again).
            moved_other: list[float] = []
            moved_this: list[float] = []
            for k in range(MOVES):
                offset = project(projection, [event(n + 1000 + k, f"small-{run}-000", run)], offset)
                timed(moved_other, service_page, None)
                offset = project(projection, [event(n + k, story, run)], offset)
                timed(moved_this, service_page, None)

            def hit(_):
                with requests.Session() as s:
                    for _ in range(LIST_REQUESTS // LIST_CLIENTS):
                        assert s.get(f"{base}/v1/stories", params={"limit": 20}, timeout=10).status_code == 200

            t = time.perf_counter()
            with ThreadPoolExecutor(LIST_CLIENTS) as pool:
                list(pool.map(hit, range(LIST_CLIENTS)))
            list_rps = LIST_REQUESTS / (time.perf_counter() - t)
        finally:
            for p_ in (proc, raw_proc):
                if p_ is not None:
                    p_.terminate()
                    p_.wait(timeout=30)
    ms = lambda s: s * 1000  # noqa: E731
    fig = lambda s: f"p50 {ms(pct(s, 50)):7.2f} ms   p99 {ms(pct(s, 99)):7.2f} ms"  # noqa: E731
    kind = "MongoDB-wire server" if settings.store_url.startswith("mongodb://") else "embedded SQLite"
    print(
        f"store={settings.store_url} ({kind})  gunicorn workers={WORKERS}  story events={n} "
        f"pages={len(cursors)} page size={PAGE} rounds={ROUNDS} (after {WARMUP} unmeasured)"
    )
    print("through the transport (HTTP, keep-alive, the same gunicorn settings):")
    print(f"  timeline via gunicorn   : {fig(service)}")
    print(f"  raw query via gunicorn  : {fig(raw_http)}   (bench/raw_page_app.py: the same query, bare WSGI)")
    print(
        f"  ratio p99(service)/p99(raw query via gunicorn): {pct(service, 99) / pct(raw_http, 99):.2f}  (target <= 3)"
    )
    print("in process (no transport):")
    print(f"  timeline, the WSGI app  : {fig(in_app)}")
    print(f"  raw store query         : {fig(raw)}")
    print(f"  ratio p99(service)/p99(raw query): {pct(in_app, 99) / pct(raw, 99):.2f}  (target <= 3)")
    print("across footings, for the record:")
    print(f"  /healthz via gunicorn   : {fig(healthz)}   (the transport alone)")
    print(
        f"  ratio p99(service via gunicorn)/p99(raw query in process): {pct(service, 99) / pct(raw, 99):.2f};"
        f"  p99(/healthz)/p99(raw query in process): {pct(healthz, 99) / pct(raw, 99):.2f} (the least the first can be)"
    )
    print(
        f"first page after a move  : another story max {ms(max(moved_other)):7.2f} ms, "
        f"this story max {ms(max(moved_this)):7.2f} ms  ({MOVES} moves each)"
    )
    print(
        f"stories list              : {list_rps:7.0f} requests/s  ({LIST_CLIENTS} clients, limit=20, {200 + 1} stories)"
    )


if __name__ == "__main__":
    main()
