"""The soak: the system as deployed, as separate processes, under steady traffic for a set time.

    python -m bench.soak --minutes 20 --rate 6 --kafka h:p,h:p,h:p --mongo h:p   (make soak)

Processes: gunicorn ingest (2 workers, one outbox), two projectors (`storyline project`, one
consumer group) and gunicorn query (2 workers), on a Kafka cluster (topic at replication 3,
min ISR 2) and a MongoDB-wire server. Traffic: several clients post articles at a steady total
rate, readers page timelines, and one projector is restarted (SIGTERM, then started again) midway.

Every minute a row: accepted articles per second, freshness p50/p99 (from an article's 202 to
its events being served by the query service, probed on one article in five), the group's lag,
the outbox depth, and each process's RSS (MiB) and open file descriptors. At the end: lost and
doubled (against the store), copies in Kafka, and each process's RSS and fd growth from minute 5
(for the restarted projector, from two minutes after its restart). Prints figures; asserts nothing,
but exits 1 when something was lost or doubled.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pymongo
import requests

from shared.adapters.kafka_log import KafkaLog
from shared.domain import read_model

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
CORPUS = ROOT / "tests" / "corpus" / "articles.json"  # the project's own articles
API_KEY = "soak-key-0123456789abcdef"
CLIENTS, READERS = 3, 2
ARTICLES_PER_STORY = 10  # stories stay small, so a freshness probe reads one short timeline
WARM_UP_MIN = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(int(q * len(values)), len(values) - 1)]


class Process:
    """One service process (for gunicorn: the master; its workers are read from /proc)."""

    def __init__(self, name: str, argv: list[str], env: dict, logdir: pathlib.Path):
        self.name, self.argv, self.env, self.logdir = name, argv, env, logdir
        self.generation = 0
        self.start()

    def start(self) -> None:
        self.generation += 1
        log = open(self.logdir / f"{self.name}.{self.generation}.log", "wb")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        log.close()
        self.started = time.monotonic()

    def pids(self) -> list[int]:
        """The master and its children (gunicorn workers)."""
        pids = [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as fh:
                pids += [int(p) for p in fh.read().split()]
        except OSError:
            pass
        return pids

    def usage(self) -> tuple[float, int]:
        """RSS in MiB and open fds, summed over the master and its workers."""
        rss_kb, fds = 0, 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as fh:
                    rss_kb += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
                fds += len(os.listdir(f"/proc/{pid}/fd"))
            except (OSError, StopIteration):
                pass
        return rss_kb / 1024, fds

    def stop(self, timeout: float = 40) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class Soak:
    def __init__(self, args):
        self.args = args
        run = uuid.uuid4().hex[:8]
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="storyline-soak-"))
        self.ingest_url = f"http://127.0.0.1:{args.ingest_port or free_port()}"
        self.query_url = f"http://127.0.0.1:{args.query_port or free_port()}"
        self.env = {
            **os.environ,
            "STORYLINE_LOG": f"kafka://{args.kafka}",
            "STORYLINE_STORE": f"mongodb://{args.mongo}/storyline_soak_{run}",
            "STORYLINE_TOPIC": f"storyline.soak.{run}",
            "STORYLINE_PARTITIONS": "6",
            "STORYLINE_GROUP": f"soak-{run}",
            "STORYLINE_REPLICATION_FACTOR": "3",
            "STORYLINE_MIN_INSYNC_REPLICAS": "2",
            "STORYLINE_API_KEYS": API_KEY,
            "STORYLINE_DATA_DIR": str(self.tmp / "ingest"),
            "STORYLINE_PROJECTOR_PORT": "0",
            "STORYLINE_LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": "2",
        }
        self.run_id = run
        self.articles = json.loads(CORPUS.read_text())["articles"]
        self.lock = threading.Lock()
        self.accepted: list[tuple[float, str, list[str]]] = []  # (time, story, event ids)
        self.failures: list[str] = []
        self.freshness: list[tuple[float, float]] = []  # (time seen, seconds)
        self.reads = 0
        self.stopping = threading.Event()
        self.seq = itertools.count()

    # -- processes
    def start_processes(self) -> None:
        gunicorn = str(BIN / "gunicorn")
        self.ingest = Process(
            "ingest",
            [gunicorn, "-c", "deploy/gunicorn/ingest.conf.py"],
            {**self.env, "GUNICORN_BIND": self.ingest_url.removeprefix("http://")},
            self.tmp,
        )
        self.wait_http(f"{self.ingest_url}/readyz", "ingest")  # creates the topic before the projectors join
        self.projectors = [
            Process(f"projector{i}", [str(BIN / "storyline"), "project"], self.env, self.tmp) for i in (1, 2)
        ]
        self.query = Process(
            "query",
            [gunicorn, "-c", "deploy/gunicorn/query.conf.py"],
            {**self.env, "GUNICORN_BIND": self.query_url.removeprefix("http://")},
            self.tmp,
        )
        self.wait_http(f"{self.query_url}/healthz", "query")
        self.processes = [self.ingest, *self.projectors, self.query]

    def wait_http(self, url: str, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"soak: {what} did not answer at {url} (logs in {self.tmp})")

    # -- traffic
    def article(self) -> dict:
        i = next(self.seq)
        a = self.articles[i % len(self.articles)]
        return {
            "id": f"soak-{self.run_id}-{i:06d}",
            "url": f"https://soak.example.test/{self.run_id}/{i}",
            "title": a["title"],
            "body": a["body"],
            "published_at": a["published_at"],
            "outlet": a["outlet"],
            "story_id": f"soak-{self.run_id}-{i // ARTICLES_PER_STORY:05d}",
        }

    def client(self, interval: float, offset: float) -> None:
        session = requests.Session()
        next_at = time.monotonic() + offset
        n = 0
        while not self.stopping.is_set():
            self.stopping.wait(max(next_at - time.monotonic(), 0))
            next_at += interval
            if self.stopping.is_set():
                return
            body = self.article()
            try:
                r = session.post(
                    f"{self.ingest_url}/v1/articles", json=body, headers={"X-API-Key": API_KEY}, timeout=30
                )
            except requests.RequestException as exc:
                self.failures.append(repr(exc)[:200])
                continue
            if r.status_code != 202:
                self.failures.append(f"{r.status_code} {r.text[:200]}")
                continue
            ids = [e["event_id"] for e in r.json()["events"]]
            now = time.monotonic()
            with self.lock:
                self.accepted.append((now, body["story_id"], ids))
            n += 1
            if ids and n % 5 == 0:
                threading.Thread(target=self.probe, args=(body["story_id"], ids, now), daemon=True).start()

    def probe(self, story: str, ids: list[str], accepted_at: float) -> None:
        """Freshness: from the 202 until the query service serves every event of the article."""
        session, want = requests.Session(), set(ids)
        deadline = accepted_at + 120
        while time.monotonic() < deadline:
            try:
                r = session.get(f"{self.query_url}/v1/stories/{story}/timeline", params={"limit": 500}, timeout=10)
                if r.status_code == 200:
                    seen = {p["event_id"] for e in r.json()["entries"] for p in e["provenance"]}
                    if want <= seen:
                        now = time.monotonic()
                        with self.lock:
                            self.freshness.append((now, now - accepted_at))
                        return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        with self.lock:
            self.freshness.append((time.monotonic(), float("inf")))

    def reader(self) -> None:
        """Readers page the stories list and recent timelines, as the editors' page does."""
        session = requests.Session()
        while not self.stopping.is_set():
            try:
                r = session.get(f"{self.query_url}/v1/stories", params={"limit": 20}, timeout=10)
                stories = [s["story_id"] if "story_id" in s else s.get("id") for s in r.json().get("stories", [])]
                for story in random.sample(stories, min(3, len(stories))):
                    cursor = None
                    for _ in range(3):
                        params = {"limit": 20, **({"cursor": cursor} if cursor else {})}
                        page = session.get(
                            f"{self.query_url}/v1/stories/{story}/timeline", params=params, timeout=10
                        ).json()
                        self.reads += 1
                        cursor = page.get("next_cursor")
                        if not cursor:
                            break
            except (requests.RequestException, ValueError, KeyError):
                pass
            self.stopping.wait(0.5)

    # -- observation
    def lag(self) -> int | None:
        try:
            return sum(p.lag for p in self.log.lag(self.env["STORYLINE_GROUP"]).values())
        except Exception:
            return None

    def outbox(self) -> int | None:
        try:
            return requests.get(f"{self.ingest_url}/readyz", timeout=10).json()["outbox"]["queued"]
        except (requests.RequestException, ValueError, KeyError):
            return None

    def run(self) -> int:
        args = self.args
        self.log = KafkaLog(args.kafka, self.env["STORYLINE_TOPIC"], 6, 3, 2)
        self.start_processes()
        print(
            f"soak: {args.minutes} min at {args.rate} articles/s from {CLIENTS} clients, {READERS} readers; "
            f"logs in {self.tmp}",
            flush=True,
        )
        interval = CLIENTS / args.rate
        threads = [
            threading.Thread(target=self.client, args=(interval, i * interval / CLIENTS), daemon=True)
            for i in range(CLIENTS)
        ]
        threads += [threading.Thread(target=self.reader, daemon=True) for _ in range(READERS)]
        for t in threads:
            t.start()
        names = [p.name for p in self.processes]
        print(
            " | ".join(
                ["min", "accepted/s", "fresh p50 s", "fresh p99 s", "lag", "outbox"]
                + [f"{n} MiB" for n in names]
                + [f"{n} fds" for n in names]
            ),
            flush=True,
        )
        t0 = time.monotonic()
        rows: list[dict] = []
        restart_at = max(args.minutes // 2, 1)
        restarted_min = None
        for minute in range(1, args.minutes + 1):
            if minute == restart_at + 1 and restarted_min is None and args.minutes > 1:
                self.projectors[1].stop()  # SIGTERM: finish the batch, commit, leave the group
                self.projectors[1].start()
                restarted_min = minute
            end = t0 + 60 * minute
            while time.monotonic() < end:
                time.sleep(min(1.0, max(end - time.monotonic(), 0)))
            with self.lock:
                acc = sum(1 for t, _, _ in self.accepted if end - 60 <= t < end)
                fresh = [s for t, s in self.freshness if end - 60 <= t < end]
            usage = {p.name: p.usage() for p in self.processes}
            row = {
                "minute": minute,
                "accepted_s": acc / 60,
                "p50": percentile(fresh, 0.5),
                "p99": percentile(fresh, 0.99),
                "lag": self.lag(),
                "outbox": self.outbox(),
                "usage": usage,
            }
            rows.append(row)
            print(self.format_row(row, names), flush=True)
        self.stopping.set()
        for t in threads:
            t.join(40)
        return self.verdict(rows, names, restarted_min)

    @staticmethod
    def format_row(row: dict, names: list[str]) -> str:
        f = lambda v: "-" if v is None else ("inf" if v == float("inf") else f"{v:.2f}")  # noqa: E731
        return " | ".join(
            [
                str(row["minute"]),
                f"{row['accepted_s']:.2f}",
                f(row["p50"]),
                f(row["p99"]),
                str(row["lag"]),
                str(row["outbox"]),
            ]
            + [f"{row['usage'][n][0]:.0f}" for n in names]
            + [str(row["usage"][n][1]) for n in names]
        )

    def verdict(self, rows: list[dict], names: list[str], restarted_min: int | None) -> int:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (self.outbox() != 0 or self.lag() != 0):
            time.sleep(1)
        with self.lock:
            ids = [i for _, _, evs in self.accepted for i in evs]
            fresh = [s for _, s in self.freshness]
        client = pymongo.MongoClient(self.env["STORYLINE_STORE"], serverSelectionTimeoutMS=10000)
        db = client.get_default_database()
        time.sleep(2)
        docs = [d["_id"] for d in db[read_model.events_name(1)].find({}, {"_id": 1})]
        stories = {s["_id"]: s["event_count"] for s in db[read_model.stories_name(1)].find({}, {"event_count": 1})}
        per_story: dict[str, int] = {}
        for d in db[read_model.events_name(1)].find({}, {"story_id": 1}):
            per_story[d["story_id"]] = per_story.get(d["story_id"], 0) + 1
        lost = len(set(ids) - set(docs))
        doubled = (len(docs) - len(set(docs))) + sum(max(stories.get(s, 0) - n, 0) for s, n in per_story.items())
        ends = self.log.end_offsets()
        in_kafka = sum(ends.values())
        for p in self.processes:
            p.stop()
        self.log.close()
        client.drop_database(db.name)
        client.close()
        steady = [r for r in rows if r["minute"] > 1]
        rate = statistics.mean(r["accepted_s"] for r in steady) if steady else rows[-1]["accepted_s"]
        print(
            f"\nsoak: {len(self.accepted)} articles accepted ({rate:.2f}/s after minute 1), {len(set(ids))} events "
            f"expected, {in_kafka} in Kafka, {len(docs)} in the timeline; lost {lost}, doubled {doubled}; "
            f"{len(self.failures)} requests refused; {self.reads} timeline pages read"
        )
        print(
            f"soak: freshness over the run p50 {percentile(fresh, 0.5):.3f} s, p99 {percentile(fresh, 0.99):.3f} s "
            f"({len(fresh)} probes, {sum(1 for s in fresh if s == float('inf'))} never seen within 120 s)"
        )
        print("soak: growth from minute %d to the end (RSS MiB, fds):" % WARM_UP_MIN)
        for n in names:
            first_min = WARM_UP_MIN
            if n == "projector2" and restarted_min is not None and restarted_min + 1 >= WARM_UP_MIN:
                first_min = restarted_min + 2  # a new process: measured from two minutes after its start
            base = next((r for r in rows if r["minute"] == first_min), None)
            if base is None or base is rows[-1]:
                print(f"  {n}: run shorter than the warm-up, no growth figure")
                continue
            (r0, f0), (r1, f1) = base["usage"][n], rows[-1]["usage"][n]
            print(
                f"  {n}: RSS {r0:.0f} -> {r1:.0f} MiB ({(r1 - r0) / r0 * 100:+.1f}%), fds {f0} -> {f1} "
                f"({f1 - f0:+d}) from minute {first_min}"
            )
        if self.failures:
            print(f"soak: first refusals: {self.failures[:3]}")
        return 1 if lost or doubled else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=int, default=20)
    p.add_argument("--rate", type=float, default=6.0, help="articles per second, all clients together")
    p.add_argument("--kafka", required=True, help="bootstrap list of the cluster")
    p.add_argument("--mongo", required=True, help="host:port of the MongoDB-wire server")
    p.add_argument(
        "--ingest-port",
        type=int,
        default=int(os.environ.get("STORYLINE_INGEST_PORT", 0)),
        help="ingest's port (default STORYLINE_INGEST_PORT, else any free port)",
    )
    p.add_argument(
        "--query-port",
        type=int,
        default=int(os.environ.get("STORYLINE_QUERY_PORT", 0)),
        help="query's port (default STORYLINE_QUERY_PORT, else any free port)",
    )
    args = p.parse_args(argv)
    if args.minutes < 1 or args.rate <= 0:
        p.error("--minutes must be at least 1 and --rate above 0")
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
