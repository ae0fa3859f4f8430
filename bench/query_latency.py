"""Query latency: the timeline endpoint under a real gunicorn against the raw store query.

In one run, on the same data: p50/p99 of GET /v1/stories/<id>/timeline?limit=P for a story of
N events (each its own entry, pages taken in turn through their cursors) served by gunicorn
with a few workers, p50/p99 of the raw store query for the same pages (same filter, sort
and page size, documents decoded: a pymongo find, or a plain sqlite3 SELECT of the JSON
column), their p99 ratio, and requests/s of the stories list with a few clients.

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
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
import requests

from services.bootstrap import open_store
from services.timeline.projection import Projection
from shared.config import Settings
from shared.domain import events, read_model
from shared.ports import EventQuery, Message

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE, ROUNDS, WARMUP, WORKERS, LIST_CLIENTS, LIST_REQUESTS = 50, 400, 40, 3, 4, 600


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


def load(db, n: int, run: str) -> str:
    """One story of n events plus 200 small stories, through the projection code."""
    big = f"bench-{run}"
    evs = [event(i, big, run) for i in range(n)]
    evs += [event(j, f"small-{run}-{j % 200:03d}", run) for j in range(1000)]
    projection = Projection(db, "bench")
    projection.ensure_indexes()
    for start in range(0, len(evs), 500):
        projection.apply(
            projection.prepare(
                [
                    Message("bench", 0, start + k, e["story_id"], events.encode(e), 0)
                    for k, e in enumerate(evs[start : start + 500])
                ]
            )
        )
    return big


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

    db = sqlite3.connect(os.path.join(urlparse(store_url).path, FILE_NAME))
    table = read_model.events_name(generation)

    def sqlite(story: str, after: str | None) -> list[dict]:
        rows = db.execute(
            f"SELECT doc FROM {table} WHERE story_id = ? AND status != 'retracted' AND sort > ? ORDER BY sort LIMIT ?",
            (story, after or "", PAGE),
        ).fetchall()
        return [orjson.loads(d) for (d,) in rows]

    return sqlite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(store_url: str, port: int, logfile) -> subprocess.Popen:
    env = dict(
        os.environ,
        STORYLINE_STORE=store_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_LOGLEVEL="warning",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn/query.conf.py")],
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


def pct(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if p < 100 else max(samples)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    settings = Settings.from_env()
    run = uuid.uuid4().hex[:6]
    db = open_store(settings.store_url)
    story = load(db, n, run)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(ROOT / ".cache" / "bench-query-gunicorn.log", "w") as log:
        proc = start_gunicorn(settings.store_url, port, log)
        try:
            # Walk the pages once to learn each page's cursor, and the raw position it stands for.
            cursors, positions, cursor = [None], [None], None
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

            session = requests.Session()
            service: list[float] = []
            for i in range(WARMUP + ROUNDS):
                c = cursors[i % len(cursors)]
                t = time.perf_counter()
                r = session.get(
                    f"{base}/v1/stories/{story}/timeline",
                    params={"limit": PAGE, **({"cursor": c} if c else {})},
                    timeout=10,
                )
                _ = r.content
                if i >= WARMUP:
                    service.append(time.perf_counter() - t)
                assert r.status_code == 200 and len(r.json()["entries"]) > 0

            raw: list[float] = []
            for i in range(WARMUP + ROUNDS):
                p = positions[i % len(positions)]
                t = time.perf_counter()
                docs = page_of(story, p)
                if i >= WARMUP:
                    raw.append(time.perf_counter() - t)
                assert docs

            def hit(_):
                with requests.Session() as s:
                    for _ in range(LIST_REQUESTS // LIST_CLIENTS):
                        assert s.get(f"{base}/v1/stories", params={"limit": 20}, timeout=10).status_code == 200

            t = time.perf_counter()
            with ThreadPoolExecutor(LIST_CLIENTS) as pool:
                list(pool.map(hit, range(LIST_CLIENTS)))
            list_rps = LIST_REQUESTS / (time.perf_counter() - t)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ms = lambda s: s * 1000  # noqa: E731
    kind = "MongoDB-wire server" if settings.store_url.startswith("mongodb://") else "embedded SQLite"
    print(
        f"store={settings.store_url} ({kind})  gunicorn workers={WORKERS}  story events={n} "
        f"pages={len(cursors)} page size={PAGE} rounds={ROUNDS}"
    )
    print(f"timeline via gunicorn : p50 {ms(pct(service, 50)):7.2f} ms   p99 {ms(pct(service, 99)):7.2f} ms")
    print(f"raw store query       : p50 {ms(pct(raw, 50)):7.2f} ms   p99 {ms(pct(raw, 99)):7.2f} ms")
    print(f"ratio p99(service)/p99(raw): {pct(service, 99) / pct(raw, 99):.2f}  (target <= 3)")
    print(f"stories list          : {list_rps:7.0f} requests/s  ({LIST_CLIENTS} clients, limit=20, {200 + 1} stories)")


if __name__ == "__main__":
    main()
