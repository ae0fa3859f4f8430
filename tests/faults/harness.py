"""What the fault scenarios share: a rig on the real servers (topic, store, group, projector
processes), the verdict (lost, doubled, where each event sits in the log), ingest in process or
under gunicorn, a TCP proxy that can cut a link, and the table row.

Each row: `scenario | articles accepted | events expected | events in Kafka | events in the
timeline | lost | doubled | seconds to recover` where events in Kafka counts the records in the
topic that a reader sees (read_committed, as every reader in Storyline: copies included, records of
an aborted transaction not), and seconds to recover runs from the end of the fault (for a SIGKILLed
leader, from the kill: the cluster should not need the node back) until every accepted event is
in the timeline.
"""

from __future__ import annotations

import contextlib
import copy
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
from collections import Counter

import pymongo
import pymongo.errors
import pytest
import requests
from conftest import API_KEY, real_env
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition
from werkzeug.serving import make_server

from services.bootstrap import open_log
from services.ingest.app import create_app as ingest_app
from shared.config import Settings
from shared.domain import events, read_model
from shared.ports import Record

ROOT = pathlib.Path(__file__).resolve().parents[2]
STORYLINE = ROOT / ".venv" / "bin" / "storyline"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SERVERS = ROOT / "tools" / "servers.sh"
OUTPUT = ROOT / "tests" / "output" / "faults.txt"
SCALE = float(os.environ.get("STORYLINE_FAULT_SCALE", "1"))
HEADER = (
    "scenario | articles accepted | events expected | events in Kafka | events in the timeline | lost | doubled"
    " | seconds to recover"
)
_header_written = False


def report(
    capsys, scenario: str, articles, expected: int, in_kafka, projected: int, lost: int, doubled: int, recover="-"
) -> None:
    """One row of the fault table, printed and appended to tests/output/faults.txt."""
    global _header_written
    if not _header_written:  # once per pytest run, whichever fault module runs first
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(HEADER + "\n")
        _header_written = True
    if isinstance(recover, float):
        recover = f"{recover:.1f}"
    row = f"{scenario} | {articles} | {expected} | {in_kafka} | {projected} | {lost} | {doubled} | {recover}"
    with OUTPUT.open("a") as fh:
        fh.write(row + "\n")
    with capsys.disabled():  # visible with or without -s
        print(f"\n{row}", flush=True)


def make_events(template: dict, n: int, tag: str, stories: int = 40) -> list[dict]:
    out = []
    for i in range(n):
        ev = copy.deepcopy(template)
        ev["event_id"] = f"fault-{tag}-{i:06d}"
        ev["story_id"] = f"fault-story-{tag}-{i % stories:03d}"
        out.append(ev)
    return out


def records_for(evs: list[dict]) -> list[Record]:
    return [Record(key=e["story_id"], value=events.encode(e), headers={"event_type": e["event_type"]}) for e in evs]


def on_cluster() -> bool:
    """make faults points STORYLINE_TEST_KAFKA at the three-node cluster (STORYLINE_TEST_CLUSTER)."""
    cluster = os.environ.get("STORYLINE_TEST_CLUSTER")
    return bool(cluster) and cluster == os.environ.get("STORYLINE_TEST_KAFKA")


REPLICATED = {"STORYLINE_REPLICATION_FACTOR": "3", "STORYLINE_MIN_INSYNC_REPLICAS": "2"}


class Rig:
    """One topic/db/group on the real servers, plus projector subprocesses. `bootstrap` puts
    the rig on a cluster other than STORYLINE_TEST_KAFKA, replicated 3 ways with min ISR 2."""

    def __init__(self, tmp_path: pathlib.Path, partitions: int, bootstrap: str | None = None, store: str = "mongodb"):
        self.env = real_env() | {"STORYLINE_PARTITIONS": str(partitions)}
        if store == "embedded":  # the projector processes share one data dir; the test reads it over HTTP
            self.env |= {"STORYLINE_STORE": "embedded", "STORYLINE_DATA_DIR": str(tmp_path / "store-data")}
        if bootstrap:
            self.env["STORYLINE_LOG"] = f"kafka://{bootstrap}"
        if bootstrap or on_cluster():
            self.env |= REPLICATED
        self.settings = Settings.from_env(self.env)
        self.partitions = partitions
        self.bootstrap = self.env["STORYLINE_LOG"].removeprefix("kafka://")
        self.log = open_log(self.settings)
        self.log.ensure_topic()
        self.tmp = tmp_path
        self.view = (
            StoreView(self.settings.store_url)
            if store == "mongodb"
            else QueryView(self.env, tmp_path, self.settings.group, self.settings.topic)
        )
        self.procs: list[subprocess.Popen] = []
        self.tps = [TopicPartition(self.settings.topic, p) for p in range(partitions)]

    # -- projector processes
    def start_projector(self, **env) -> subprocess.Popen:
        n = len(self.procs)
        out = open(self.tmp / f"projector{n}.log", "wb")
        proc = subprocess.Popen(
            [str(STORYLINE), "project"],
            env={**os.environ, **self.env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=self.tmp,
        )
        out.close()
        self.procs.append(proc)
        return proc

    def wait_joined(self) -> None:
        """Until every projector process has partitions assigned (it is consuming). Read from
        their logs: kafka-python's describe_consumer_groups cannot parse Kafka 4.1's answer."""

        def joined():
            return all(
                "newly assigned partitions" in (self.tmp / f"projector{i}.log").read_text(errors="replace")
                for i in range(len(self.procs))
            )

        self.wait_until(joined, 60, "the projector(s) to be assigned partitions", 0.3)

    def logs(self) -> str:
        return "\n".join(
            f"--- projector{i}\n" + (self.tmp / f"projector{i}.log").read_text(errors="replace")[-3000:]
            for i in range(len(self.procs))
        )

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        self.log.close()
        self.view.close()

    # -- observations
    def count(self) -> int:
        return self.view.count()

    def have(self, event_ids: list[str]) -> int:
        """How many of these events the timeline holds."""
        return self.view.have(event_ids)

    def wait_projected(self, event_ids: list[str], timeout: float, what: str) -> float:
        """Until the timeline holds all these events; returns the seconds it took."""
        t0 = time.monotonic()
        self.wait_until(lambda: self.have(event_ids) >= len(set(event_ids)), timeout, what, 0.2)
        return time.monotonic() - t0

    def committed_ends(self) -> dict[int, int]:
        """Per partition, the offset after the last committed record (the adapter's end_offsets):
        where tracking and the group's commits stand once everything is applied. The log end lies
        past it by the commit marker, and by any aborted records."""
        return self.log.end_offsets()

    def end_offsets(self) -> dict[int, int]:
        c = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            return {tp.partition: o for tp, o in c.end_offsets(self.tps).items()}
        finally:
            c.close()

    def start_offsets(self) -> dict[int, int]:
        c = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            return {tp.partition: o for tp, o in c.beginning_offsets(self.tps).items()}
        finally:
            c.close()

    def tracking(self) -> dict[int, int]:
        return self.view.tracking(self.settings.group, self.settings.topic, self.partitions)

    def committed(self) -> dict[int, int]:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            got = admin.list_consumer_group_offsets(self.settings.group)
        finally:
            admin.close()
        return {tp.partition: om.offset for tp, om in got.items() if tp.topic == self.settings.topic}

    def caught_up(self, end: dict[int, int]) -> bool:
        want = {p: o for p, o in end.items() if o > 0}
        tr = self.tracking()
        if any(tr.get(p) != o for p, o in want.items()):
            return False
        cm = self.committed()
        return all(cm.get(p) == o for p, o in want.items())

    def wait_until(self, pred, timeout: float, what: str, step: float = 0.2):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if pred():
                    return
            except pymongo.errors.PyMongoError:
                pass  # the MongoDB-wire server can stall under the projector's write load; poll again
            for p in self.procs:
                assert p.poll() in (None, 0, -signal.SIGKILL, -signal.SIGTERM), f"projector died:\n{self.logs()}"
            time.sleep(step)
        pytest.fail(f"timed out waiting for {what}:\n{self.logs()}")

    def wait_caught_up(self, timeout: float = 90.0) -> None:
        end = self.committed_ends()
        self.wait_until(lambda: self.caught_up(end), timeout, "tracking and commits to reach the log end", 0.3)

    def log_positions(self) -> dict[str, list[tuple[int, int]]]:
        """event_id -> every (partition, offset) it occupies in the log, read back without a group."""
        end = self.end_offsets()
        c = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, isolation_level="read_committed")
        try:
            c.assign(self.tps)
            c.seek_to_beginning(*self.tps)
            seen: dict[str, list[tuple[int, int]]] = {}
            deadline = time.monotonic() + 30
            while any(c.position(tp) < end[tp.partition] for tp in self.tps):
                assert time.monotonic() < deadline, "could not read the topic back"
                for tp, recs in c.poll(timeout_ms=500).items():
                    for r in recs:
                        seen.setdefault(events.decode(r.value)["event_id"], []).append((tp.partition, r.offset))
            return seen
        finally:
            c.close()

    # -- the verdict
    def verify(self, capsys, scenario: str, sent_ids: list[str], articles="-", recover="-") -> None:
        end = self.committed_ends()
        docs = self.view.documents()
        projected = len(docs)
        distinct = {d["_id"] for d in docs}
        lost = len(set(sent_ids) - distinct)
        per_story = Counter(d["story_id"] for d in docs)
        summaries = self.view.summaries()
        # doubled: extra documents per event id, plus events a story summary counts more than once
        doubled = (projected - len(distinct)) + sum(max(summaries.get(s, 0) - n, 0) for s, n in per_story.items())
        positions = self.log_positions()
        in_kafka = sum(len(places) for places in positions.values())  # what a reader sees, copies included
        report(capsys, scenario, articles, len(set(sent_ids)), in_kafka, projected, lost, doubled, recover)

        assert lost == 0, f"{lost} events lost, e.g. {sorted(set(sent_ids) - distinct)[:5]}"
        assert projected == len(distinct), "an event has more than one document"
        assert projected == len(set(sent_ids)), "store holds events that were not sent"
        assert all(d["event_id"] == d["_id"] for d in docs)
        # Applied once: tracking and committed offsets equal the log end, per partition.
        want = {p: o for p, o in end.items() if o > 0}
        assert {p: o for p, o in self.tracking().items() if p in want} == want, "tracking != log end offsets"
        assert {p: o for p, o in self.committed().items() if p in want} == want, "committed != log end offsets"
        # First write wins: every document carries the position of its event's first copy in the log.
        wrong = [d["_id"] for d in docs if (d["log"]["partition"], d["log"]["offset"]) != min(positions[d["_id"]])]
        assert not wrong, f"{len(wrong)} documents were overwritten by a later copy, e.g. {wrong[:5]}"
        # Story summaries count each event once.
        assert summaries == dict(per_story), "story summaries disagree with the projected events"
        assert doubled == 0

    def log_order_per_story(self) -> dict[str, list[str]]:
        """story_id -> its event ids in log order (one story lives in one partition)."""
        positions = self.log_positions()
        stories = {}
        for event_id, places in sorted(positions.items(), key=lambda kv: min(kv[1])):
            stories.setdefault(self._story_of[event_id], []).append(event_id)
        return stories

    def verify_log_once_in_order(self, posted: list[dict], copies_allowed: bool = False) -> None:
        """Each event in the log exactly once (or, with copies_allowed, at least once, its first
        copy counting); per story, in the order the articles were accepted."""
        self._story_of = {e["event_id"]: e["story_id"] for e in posted}
        positions = self.log_positions()
        twice = [i for i, places in positions.items() if len(places) != 1]
        assert copies_allowed or not twice, f"{len(twice)} events were published more than once, e.g. {twice[:5]}"
        assert set(positions) == set(self._story_of), "the log holds other events than those accepted"
        arrival: dict[str, list[str]] = {}
        for e in posted:
            arrival.setdefault(e["story_id"], []).append(e["event_id"])
        assert self.log_order_per_story() == arrival, "a story's events reached the log out of order"


# ----------------------------------------------------------------------------- fault tools


class StoreView:
    """The timeline read straight from the MongoDB-wire server: every document, by key."""

    def __init__(self, url: str):
        self.client = pymongo.MongoClient(url, retryWrites=False, serverSelectionTimeoutMS=5000, socketTimeoutMS=15000)
        self.db = self.client.get_default_database()

    def count(self) -> int:
        return self.db[read_model.events_name(1)].count_documents({})

    def have(self, event_ids) -> int:
        return self.db[read_model.events_name(1)].count_documents({"_id": {"$in": list(event_ids)}})

    def tracking(self, group: str, topic: str, partitions: int) -> dict[int, int]:
        prefix = f"{group}:{topic}:"
        docs = (self.db[read_model.tracking_name(1)].find_one({"_id": f"{prefix}{p}"}) for p in range(partitions))
        return {int(d["_id"][len(prefix) :]): d["next_offset"] for d in docs if d}

    def documents(self) -> list[dict]:
        return list(self.db[read_model.events_name(1)].find({}, {"_id": 1, "event_id": 1, "log": 1, "story_id": 1}))

    def summaries(self) -> dict[str, int]:
        return {s["_id"]: s["event_count"] for s in self.db[read_model.stories_name(1)].find({}, {"event_count": 1})}

    def close(self) -> None:
        try:
            os.environ.get("KEEP_DB") or self.client.drop_database(self.db.name)
        finally:
            self.client.close()


class QueryView:
    """The timeline as the query service serves it (gunicorn, one worker, on the rig's env), for
    a store the test does not open itself (STORYLINE_STORE=embedded): the stories list with each
    summary's event count, every story's timeline page by page (each provenance is one event with
    its log position), and the freshness positions (the projector's tracking records)."""

    def __init__(self, env: dict, tmp: pathlib.Path, group: str, topic: str):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.logfile = tmp / "query.log"
        with open(self.logfile, "wb") as out:
            self.proc = subprocess.Popen(
                [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn" / "query.conf.py")],
                env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        self.session = requests.Session()
        wait_for(
            lambda: self.session.get(f"{self.url}/healthz", timeout=2).status_code == 200,
            60,
            "gunicorn query to answer",
        )

    def _get(self, path: str, **params) -> dict:
        r = self.session.get(f"{self.url}{path}", params=params, timeout=30)
        if r.status_code == 503:  # the store is busy or away: like a PyMongoError, poll again
            raise pymongo.errors.PyMongoError(r.text)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
        return r.json()

    def _pages(self, path: str, key: str, **params):
        cursor = None
        while True:
            page = self._get(path, **params, **({"cursor": cursor} if cursor else {}))
            yield page, page[key]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def summaries(self) -> dict[str, int]:
        return {
            s["story_id"]: s["event_count"]
            for _, stories in self._pages("/v1/stories", "stories", limit=200)
            for s in stories
        }

    def documents(self) -> list[dict]:
        docs = []
        for story in self.summaries():
            for _, entries in self._pages(
                f"/v1/stories/{story}/timeline", "entries", limit=500, include_retracted="true"
            ):
                docs += [
                    {"_id": p["event_id"], "event_id": p["event_id"], "story_id": story, "log": p["log"]}
                    for e in entries
                    for p in e["provenance"]
                ]
        return docs

    def count(self) -> int:
        return sum(self.summaries().values())

    def have(self, event_ids) -> int:
        return len(set(event_ids) & {d["_id"] for d in self.documents()})

    def tracking(self, group: str, topic: str, partitions: int) -> dict[int, int]:
        prefix = f"{group}:{topic}:"
        positions = self._get("/v1/stories", limit=1)["freshness"]["positions"]
        return {int(k[len(prefix) :]): v for k, v in positions.items() if k.startswith(prefix)}

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def _servers_env() -> dict:
    port = os.environ["STORYLINE_TEST_KAFKA"].rsplit(":", 1)[1]
    return {**os.environ, "KAFKA_PORT": port}


def servers(*args: str, env: dict | None = None, timeout: float = 200) -> None:
    subprocess.run([str(SERVERS), *args], env=env or _servers_env(), check=True, timeout=timeout)


@contextlib.contextmanager
def broker_down():
    """Stop the real broker, or all three nodes of the cluster (data kept), and bring it back,
    ready, whatever happens inside."""
    if on_cluster():
        env = {**os.environ, "CLUSTER_PORT": os.environ["STORYLINE_TEST_CLUSTER"].split(",")[0].rsplit(":", 1)[1]}
        servers("stop-node", "1", "2", "3", env=env)
        try:
            yield
        finally:
            servers("start-node", "1", "2", "3", env=env)
        return
    servers("stop-kafka", timeout=60)
    try:
        yield
    finally:
        servers("start-kafka", timeout=120)


class TcpProxy:
    """A TCP forwarder that can be cut (every connection closed, new ones refused) and restored."""

    def __init__(self, target: tuple[str, int], listen: tuple[str, int] = ("127.0.0.1", 0)):
        self.target = target
        self.listener = socket.create_server(listen)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def cut(self):
        self.up = False
        with self._lock:
            conns, self._conns = self._conns, set()
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


def make_articles(corpus: dict, n: int, tag: str, stories: int = 5) -> list[dict]:
    """n distinct articles from the corpus texts, spread over a few stories."""
    base = corpus["articles"]
    out = []
    for i in range(n):
        a = base[i % len(base)]
        out.append(
            {
                "id": f"{tag}-{i:05d}",
                "url": f"https://faults.example.test/{tag}/{i}",
                "title": a["title"],
                "body": a["body"],
                "published_at": a["published_at"],
                "outlet": a["outlet"],
                "story_id": f"fault-{tag}-{i % stories}",
            }
        )
    return out


def post_all(url: str, articles: list[dict]) -> tuple[list[dict], list[str]]:
    """Post in order; return the accepted events in arrival order and each answer's delivery."""
    posted, deliveries = [], []
    for a in articles:
        r = requests.post(f"{url}/v1/articles", json=a, headers={"X-API-Key": API_KEY}, timeout=30)
        assert r.status_code == 202, r.text
        posted += r.json()["events"]
        deliveries.append(r.json()["delivery"])
    return posted, deliveries


def wait_for(pred, timeout: float, what: str, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if pred():
                return
        time.sleep(step)
    pytest.fail(f"timed out waiting for {what}")


class InProcessIngest:
    """The ingest app (with its relay) on a free port in this process."""

    def __init__(self, settings: Settings):
        self.log = open_log(settings)
        self.app = ingest_app(settings, log=self.log)
        self.app.extensions["storyline.relay"].start()  # the app factory starts nothing
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def readyz(self) -> dict:
        return requests.get(f"{self.url}/readyz", timeout=30).json()

    def close(self):
        self.server.shutdown()
        self.app.extensions["storyline.relay"].stop()
        self.app.extensions["storyline.outbox"].close()
        self.app.extensions["storyline.article_log"].close()
        self.log.close()


class GunicornIngest:
    """Ingest as deployed: gunicorn with two workers sharing one outbox (one process group)."""

    def __init__(self, env: dict, tmp: pathlib.Path, name: str):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.logfile = tmp / f"{name}.log"
        with open(self.logfile, "wb") as out:
            self.proc = subprocess.Popen(
                [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn" / "ingest.conf.py")],
                env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        wait_for(
            lambda: requests.get(f"{self.url}/healthz", timeout=2).status_code == 200,
            60,
            f"gunicorn ingest to answer:\n{self.logs()}",
        )

    def logs(self) -> str:
        return self.logfile.read_text(errors="replace")[-4000:]

    def kill(self):
        """SIGKILL master and workers at once: no shutdown hook runs, nothing is flushed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
