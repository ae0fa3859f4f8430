"""How many concurrent SSE clients one query replica holds with delivery p99 under 1 s.

One replica = the shipped deploy/gunicorn/query.conf.py (gthread; WEB_CONCURRENCY workers,
STORYLINE_QUERY_THREADS threads each, STORYLINE_SSE_MAX_CLIENTS streams per worker) against a
MongoDB-wire server. For each load level, N clients (one asyncio loop in this process, raw
sockets) open `GET /v1/stories/{id}/events` spread over a few stories; then this process writes
ROUNDS batches through the projection code itself (Projection.prepare/apply, so the service
reads what production writes), one new event per story per batch, and every client must
receive every event of its story. Delivery latency = the client's receipt minus the moment
the batch's write (tracking record included) returned. Prints per level: clients, refused
(503, retried), deliveries, missing, p50/p99/max; then the largest level with p99 < 1 s.
It asserts nothing.

  STORYLINE_STORE=mongodb://127.0.0.1:27018/storyline_bench_sse python -m bench.sse [LEVELS]
(`make bench-sse` starts the test servers, runs this, and stops them.)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

import requests

from bench.query_latency import ROOT, event, free_port
from services.bootstrap import open_store
from services.timeline.projection import Projection
from shared.config import Settings
from shared.domain import events
from shared.ports import Message

STORIES, ROUNDS, GAP_S, PARTITIONS = 4, 15, 0.5, 3
GROUP, TOPIC = "bench-sse", "bench.sse"


class Writer:
    """Appends one event per story per round to the read model, as the projector would."""

    def __init__(self, db, run: str):
        self.projection = Projection(db, GROUP)
        self.projection.ensure_indexes()
        self.run, self.offsets, self.n = run, [0] * PARTITIONS, 0
        self.applied: dict[str, float] = {}

    def story(self, s: int) -> str:
        return f"sse-{self.run}-{s}"

    def write_round(self) -> None:
        batch = []
        for s in range(STORIES):
            ev = event(self.n, self.story(s), self.run)
            ev["event_id"] = f"{self.run}-{self.n:07d}"
            self.n += 1
            p = s % PARTITIONS
            batch.append(Message(TOPIC, p, self.offsets[p], ev["story_id"], events.encode(ev), 0))
            self.offsets[p] += 1
        self.projection.apply(self.projection.prepare(batch))
        done = time.time()
        for m in batch:
            self.applied[json.loads(m.value)["event_id"]] = done


async def client(
    port: int, story: str, ready: asyncio.Event, latencies: list, writer: Writer, stats: dict, stop: asyncio.Event
) -> None:
    while True:
        reader, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        w.write(f"GET /v1/stories/{story}/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
        await w.drain()
        status = (await reader.readline()).decode()
        if " 200 " in status:
            break
        stats["refused"] += 1  # 503: this worker is full; reconnect as EventSource would
        w.close()
        await asyncio.sleep(0.2)
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # headers
    event_name = None
    try:
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=1.0)
            except asyncio.TimeoutError:
                continue
            if not line:
                break
            text = line.decode().strip()
            # chunked transfer: size lines are hex numbers; events are the other lines
            if text.startswith("event: "):
                event_name = text[7:]
                if event_name == "ready":
                    ready.set()
            elif text.startswith("data: ") and event_name == "entry_added":
                now = time.time()
                eid = json.loads(text[6:])["event_id"]
                applied = writer.applied.get(eid)
                if applied is not None:
                    latencies.append(now - applied)
    finally:
        w.close()


def pct(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if len(samples) > 1 else samples[0]


async def level(port: int, n: int, writer: Writer) -> dict:
    latencies: list[float] = []
    stats = {"refused": 0}
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(n)]
    tasks = [
        asyncio.create_task(client(port, writer.story(i % STORIES), readies[i], latencies, writer, stats, stop))
        for i in range(n)
    ]
    t = time.monotonic()
    try:  # beyond the replica's limit some clients keep being refused: go on with those connected
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=30)
    except asyncio.TimeoutError:
        pass
    connect_s = time.monotonic() - t
    connected = sum(r.is_set() for r in readies)
    for _ in range(ROUNDS):
        await asyncio.to_thread(writer.write_round)
        await asyncio.sleep(GAP_S)
    await asyncio.sleep(2.0)  # stragglers
    stop.set()
    for task, ready in zip(tasks, readies):
        if not ready.is_set():
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    expected = connected * ROUNDS
    lat = sorted(latencies)
    return {
        "clients": n,
        "connected": connected,
        "refused_then_retried": stats["refused"],
        "connect_s": round(connect_s, 2),
        "deliveries": len(lat),
        "missing": expected - len(lat),
        "p50_ms": round(pct(lat, 50) * 1000, 1) if lat else None,
        "p99_ms": round(pct(lat, 99) * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
    }


def start_replica(store_url: str, port: int, logfile) -> subprocess.Popen:
    env = dict(os.environ, STORYLINE_STORE=store_url, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_LOGLEVEL="warning")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn/query.conf.py")],
        cwd=ROOT,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not become ready; see .cache/bench-sse-gunicorn.log")


def main() -> None:
    levels = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "50,100,200,300,400").split(",")]
    settings = Settings.from_env()
    if not settings.store_url.startswith("mongodb://"):
        raise SystemExit("set STORYLINE_STORE=mongodb://host:port/db (a MongoDB-wire server)")
    run = uuid.uuid4().hex[:6]
    db = open_store(settings.store_url)
    writer = Writer(db, run)
    writer.write_round()  # the stories exist before anyone subscribes
    port = free_port()
    os.environ.update(STORYLINE_GROUP=GROUP, STORYLINE_TOPIC=TOPIC, STORYLINE_SSE_HEARTBEAT_SECONDS="5")
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    os.environ["WEB_CONCURRENCY"] = str(workers)
    import runpy

    conf = runpy.run_path(str(ROOT / "deploy/gunicorn/query.conf.py"))
    per_worker = conf["sse_max_clients"]
    print(
        f"query replica: gunicorn {conf['worker_class']}, {workers} workers x {conf['threads']} threads, "
        f"at most {per_worker} streams per worker ({workers * per_worker} per replica); "
        f"{STORIES} stories, {ROUNDS} rounds of one event per story every {GAP_S} s",
        flush=True,
    )
    with open(ROOT / ".cache" / "bench-sse-gunicorn.log", "w") as log:
        proc = start_replica(settings.store_url, port, log)
        try:
            results = []
            for n in levels:
                r = asyncio.run(level(port, n, writer))
                r["load_avg_1m"] = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy it was
                results.append(r)
                print(json.dumps(r), flush=True)
                # the server notices closed streams at its next write (heartbeat: 5 s here); let them go
                time.sleep(6)
            ok = [
                r["clients"]
                for r in results
                if r["p99_ms"] is not None
                and r["p99_ms"] < 1000
                and r["missing"] == 0
                and r["connected"] == r["clients"]
            ]
            print(
                f"holds {max(ok) if ok else 0} concurrent SSE clients with delivery p99 < 1 s and none missing "
                f"(levels tried: {', '.join(map(str, levels))})"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
