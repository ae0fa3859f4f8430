"""The fault suite, against the REAL servers (Kafka + MongoDB-wire): nothing lost, nothing doubled.

Scenarios: broker down while articles arrive (outbox), ingest SIGKILLed with a non-empty outbox
and restarted, store down then back (projector backs off, query answers 503), projector SIGKILL
mid-stream, same events delivered twice, two projectors with rebalance.

Each scenario prints one row of the table (also written to tests/output/faults.txt):
`scenario | articles accepted | events expected | events in the timeline | lost | doubled`, and
asserts lost = 0 and doubled = 0 where

* lost     = expected event ids missing from the timeline collection;
* doubled  = documents beyond one per event id, plus events a story summary counts more than
             once. `_id` is the event id, so the first part is impossible by key; each scenario
             ALSO checks that the tracking record and the committed offset of every partition
             equal the log end offset, that every document carries the log position of the FIRST
             copy of its event (first write wins), and (outbox scenarios) that each event sits in
             the log exactly once and in arrival order per story.

`STORYLINE_FAULT_SCALE` multiplies the sizes (1 in `make test`, larger in `make faults`).
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
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition
from werkzeug.serving import make_server

from shared.domain import events, read_model
from services.bootstrap import open_log, open_store
from shared.config import Settings
from shared.ports import Record
from services.ingest.app import create_app as ingest_app
from services.ingest.schemas import ArticleSchema
from services.ingest.service import events_for
from services.query.app import create_app as query_app
from conftest import API_KEY, real_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
STORYLINE = ROOT / ".venv" / "bin" / "storyline"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SERVERS = ROOT / "tools" / "servers.sh"
OUTPUT = ROOT / "tests" / "output" / "faults.txt"
SCALE = float(os.environ.get("STORYLINE_FAULT_SCALE", "1"))
N_KILL, N_TWICE, N_REBAL, N_STORE = (int(n * SCALE) for n in (600, 300, 600, 400))
N_ARTICLES = max(int(30 * SCALE), 6)  # articles posted per outbox scenario (about 3.5 events each)
HEADER = "scenario | articles accepted | events expected | events in the timeline | lost | doubled"

# ----------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module", autouse=True)
def _rows_file():
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(HEADER + "\n")
    yield


def _report(capsys, scenario: str, articles, sent: int, projected: int, lost: int, doubled: int) -> None:
    row = f"{scenario} | {articles} | {sent} | {projected} | {lost} | {doubled}"
    with OUTPUT.open("a") as fh:
        fh.write(row + "\n")
    with capsys.disabled():  # visible with or without -s
        print(f"\n{row}", flush=True)


@pytest.fixture(scope="module")
def template(seed) -> dict:
    article = ArticleSchema().load({k: seed[k] for k in ("id", "url", "title", "body", "published_at", "outlet")}
                                   | {"story_id": seed["story"]})
    return events_for(article)[0]


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


class Rig:
    """One topic/db/group on the real servers, plus projector subprocesses."""

    def __init__(self, tmp_path: pathlib.Path, partitions: int):
        self.env = real_env() | {"STORYLINE_PARTITIONS": str(partitions)}
        self.settings = Settings.from_env(self.env)
        self.partitions = partitions
        self.bootstrap = self.env["STORYLINE_LOG"].removeprefix("kafka://")
        self.log = open_log(self.settings)
        self.log.ensure_topic()
        self.client = pymongo.MongoClient(self.settings.store_url, retryWrites=False, serverSelectionTimeoutMS=5000,
                                          socketTimeoutMS=15000)
        self.db = self.client.get_default_database()
        self.tmp = tmp_path
        self.procs: list[subprocess.Popen] = []
        self.tps = [TopicPartition(self.settings.topic, p) for p in range(partitions)]

    # -- projector processes
    def start_projector(self, **env) -> subprocess.Popen:
        n = len(self.procs)
        out = open(self.tmp / f"projector{n}.log", "wb")
        proc = subprocess.Popen([str(STORYLINE), "project"], env={**os.environ, **self.env, **env},
                                stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp)
        out.close()
        self.procs.append(proc)
        return proc

    def wait_joined(self) -> None:
        """Until every projector process has partitions assigned (it is consuming). Read from
        their logs: kafka-python's describe_consumer_groups cannot parse Kafka 4.1's answer."""
        def joined():
            return all("newly assigned partitions" in (self.tmp / f"projector{i}.log").read_text(errors="replace")
                       for i in range(len(self.procs)))
        self.wait_until(joined, 60, "the projector(s) to be assigned partitions", 0.3)

    def logs(self) -> str:
        return "\n".join(f"--- projector{i}\n" + (self.tmp / f"projector{i}.log").read_text(errors="replace")[-3000:]
                         for i in range(len(self.procs)))

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        self.log.close()
        try:
            os.environ.get("KEEP_DB") or self.client.drop_database(self.db.name)
        finally:
            self.client.close()

    # -- observations
    def count(self) -> int:
        return self.db[read_model.events_name(1)].count_documents({})

    def end_offsets(self) -> dict[int, int]:
        c = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            return {tp.partition: o for tp, o in c.end_offsets(self.tps).items()}
        finally:
            c.close()

    def tracking(self) -> dict[int, int]:
        prefix = f"{self.settings.group}:{self.settings.topic}:"
        docs = (self.db[read_model.tracking_name(1)].find_one({"_id": f"{prefix}{p}"}) for p in range(self.partitions))
        return {int(d["_id"][len(prefix):]): d["next_offset"] for d in docs if d}

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
        end = self.end_offsets()
        self.wait_until(lambda: self.caught_up(end), timeout, "tracking and commits to reach the log end", 0.3)

    def log_positions(self) -> dict[str, list[tuple[int, int]]]:
        """event_id -> every (partition, offset) it occupies in the log, read back without a group."""
        end = self.end_offsets()
        c = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
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
    def verify(self, capsys, scenario: str, sent_ids: list[str], articles="-") -> None:
        end = self.end_offsets()
        docs = list(self.db[read_model.events_name(1)].find({}, {"_id": 1, "event_id": 1, "log": 1, "story_id": 1}))
        projected = len(docs)
        distinct = {d["_id"] for d in docs}
        lost = len(set(sent_ids) - distinct)
        per_story = Counter(d["story_id"] for d in docs)
        summaries = {s["_id"]: s["event_count"] for s in self.db[read_model.stories_name(1)].find({}, {"event_count": 1})}
        # doubled: extra documents per event id, plus events a story summary counts more than once
        doubled = (projected - len(distinct)) + sum(max(summaries.get(s, 0) - n, 0) for s, n in per_story.items())
        _report(capsys, scenario, articles, len(set(sent_ids)), projected, lost, doubled)

        assert lost == 0, f"{lost} events lost, e.g. {sorted(set(sent_ids) - distinct)[:5]}"
        assert projected == len(distinct), "an event has more than one document"
        assert projected == len(set(sent_ids)), "store holds events that were not sent"
        assert all(d["event_id"] == d["_id"] for d in docs)
        # Applied once: tracking and committed offsets equal the log end, per partition.
        want = {p: o for p, o in end.items() if o > 0}
        assert {p: o for p, o in self.tracking().items() if p in want} == want, "tracking != log end offsets"
        assert {p: o for p, o in self.committed().items() if p in want} == want, "committed != log end offsets"
        # First write wins: every document carries the position of its event's first copy in the log.
        positions = self.log_positions()
        wrong = [d["_id"] for d in docs
                 if (d["log"]["partition"], d["log"]["offset"]) != min(positions[d["_id"]])]
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

    def verify_log_once_in_order(self, posted: list[dict]) -> None:
        """Each event in the log exactly once; per story, in the order the articles were accepted."""
        self._story_of = {e["event_id"]: e["story_id"] for e in posted}
        positions = self.log_positions()
        twice = [i for i, places in positions.items() if len(places) != 1]
        assert not twice, f"{len(twice)} events were published more than once, e.g. {twice[:5]}"
        assert set(positions) == set(self._story_of), "the log holds other events than those accepted"
        arrival: dict[str, list[str]] = {}
        for e in posted:
            arrival.setdefault(e["story_id"], []).append(e["event_id"])
        assert self.log_order_per_story() == arrival, "a story's events reached the log out of order"


# ----------------------------------------------------------------------------- fault tools

def _servers_env() -> dict:
    port = os.environ["STORYLINE_TEST_KAFKA"].rsplit(":", 1)[1]
    return {**os.environ, "KAFKA_PORT": port}


@contextlib.contextmanager
def broker_down():
    """Stop the real broker (its data kept) and bring it back, ready, whatever happens inside."""
    subprocess.run([str(SERVERS), "stop-kafka"], env=_servers_env(), check=True, timeout=60)
    try:
        yield
    finally:
        subprocess.run([str(SERVERS), "start-kafka"], env=_servers_env(), check=True, timeout=120)


class TcpProxy:
    """A TCP forwarder that can be cut (every connection closed, new ones refused) and restored."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
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
        out.append({"id": f"{tag}-{i:05d}", "url": f"https://faults.example.test/{tag}/{i}", "title": a["title"],
                    "body": a["body"], "published_at": a["published_at"], "outlet": a["outlet"],
                    "story_id": f"fault-{tag}-{i % stories}"})
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
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        wait_for(lambda: requests.get(f"{self.url}/healthz", timeout=2).status_code == 200, 60,
                 f"gunicorn ingest to answer:\n{self.logs()}")

    def logs(self) -> str:
        return self.logfile.read_text(errors="replace")[-4000:]

    def kill(self):
        """SIGKILL master and workers at once: no shutdown hook runs, nothing is flushed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def rig_factory(tmp_path):
    rigs: list[Rig] = []

    def make(partitions: int) -> Rig:
        rigs.append(Rig(tmp_path, partitions))
        return rigs[-1]

    yield make
    for r in rigs:
        r.close()


# ----------------------------------------------------------------------------- scenarios

def test_broker_down_while_articles_arrive(rig_factory, corpus, tmp_path, capsys):
    rig = rig_factory(partitions=3)
    articles = make_articles(corpus, N_ARTICLES, "outbox")
    settings = Settings.from_env({**rig.env, "STORYLINE_DATA_DIR": str(tmp_path / "ingest"),
                                  "STORYLINE_API_KEYS": API_KEY})
    ingest = InProcessIngest(settings)
    try:
        rig.start_projector()
        rig.wait_joined()
        with broker_down():
            posted, deliveries = post_all(ingest.url, articles)
            ready = ingest.readyz()
            assert ready["status"] == "degraded" and ready["log"].startswith("unreachable"), ready
            assert ready["outbox"]["queued"] == len(posted), "every accepted event waits in the outbox"
            assert set(deliveries) == {"queued"}
            assert rig.count() == 0
        # the broker is back: the relay drains the outbox without help
        wait_for(lambda: ingest.readyz()["outbox"]["queued"] == 0, 90, "the outbox to drain")
        assert ingest.readyz()["status"] == "ready"
        rig.wait_until(lambda: rig.count() >= len({e["event_id"] for e in posted}), 90, "the timeline to fill")
        rig.wait_caught_up()
    finally:
        ingest.close()
    rig.verify_log_once_in_order(posted)
    rig.verify(capsys, "broker down while articles arrive (outbox)", [e["event_id"] for e in posted], len(articles))


def test_ingest_killed_with_a_full_outbox_and_restarted(rig_factory, corpus, tmp_path, capsys):
    rig = rig_factory(partitions=3)
    articles = make_articles(corpus, N_ARTICLES, "restart")
    env = {**rig.env, "STORYLINE_DATA_DIR": str(tmp_path / "ingest"), "STORYLINE_API_KEYS": API_KEY}
    with broker_down():
        first = GunicornIngest(env, tmp_path, "ingest-first")
        try:
            posted, deliveries = post_all(first.url, articles)
            queued = requests.get(f"{first.url}/readyz", timeout=30).json()["outbox"]["queued"]
        finally:
            first.kill()
        assert set(deliveries) == {"queued"} and queued == len(posted)
    second = GunicornIngest(env, tmp_path, "ingest-second")  # same data dir: resumes the outbox
    try:
        wait_for(lambda: requests.get(f"{second.url}/readyz", timeout=30).json()["outbox"]["queued"] == 0, 90,
                 "the restarted ingest to drain its outbox")
        rig.start_projector()
        rig.wait_until(lambda: rig.count() >= len({e["event_id"] for e in posted}), 90, "the timeline to fill")
        rig.wait_caught_up()
    finally:
        second.kill()
    rig.verify_log_once_in_order(posted)
    rig.verify(capsys, "ingest SIGKILLed with a full outbox, restarted", [e["event_id"] for e in posted],
               len(articles))


def test_store_down_then_back(rig_factory, template, tmp_path, capsys):
    rig = rig_factory(partitions=3)
    evs = make_events(template, N_STORE, "store")
    half = len(evs) // 2
    mongo = os.environ["STORYLINE_TEST_MONGO"].rsplit(":", 1)
    proxy = TcpProxy((mongo[0], int(mongo[1])))
    # directConnection: the server announces itself as a replica-set member; without it pymongo
    # would discover the real address and go around the proxy
    through_proxy = rig.settings.store_url.replace(os.environ["STORYLINE_TEST_MONGO"],
                                                   f"127.0.0.1:{proxy.port}") + "?directConnection=true"
    query = make_server("127.0.0.1", 0, query_app(rig.settings, store=open_store(through_proxy)), threaded=True)
    threading.Thread(target=query.serve_forever, daemon=True).start()
    stories = f"http://127.0.0.1:{query.server_port}/v1/stories"
    try:
        rig.log.publish(records_for(evs[:half]))
        rig.start_projector(STORYLINE_STORE=through_proxy)
        rig.wait_caught_up()
        before = rig.committed()

        proxy.cut()
        rig.log.publish(records_for(evs[half:]))  # arrives while the store is away
        time.sleep(5)
        t0 = time.monotonic()
        r = requests.get(stories, timeout=30)
        took = time.monotonic() - t0
        assert r.status_code == 503, r.text
        assert "store" in r.json()["error"]["reason"] and "Traceback" not in r.text
        assert rig.committed() == before, "offsets were committed while the store was down"
        assert rig.count() == half

        proxy.restore()
        rig.wait_caught_up()
        wait_for(lambda: requests.get(stories, timeout=30).status_code == 200, 30, "the query service to recover")
        retries = (rig.tmp / "projector0.log").read_text(errors="replace").count("projection failed; retrying in")
        assert retries >= 1, "the projector should have backed off and retried"
    finally:
        query.shutdown()
        proxy.close()
    with capsys.disabled():
        print(f"\nstore down: query answered 503 in {took:.2f}s; the projector retried {retries} times", flush=True)
    rig.verify(capsys, "store down then back (projector)", [e["event_id"] for e in evs])


def test_projector_killed_mid_stream_and_restarted(rig_factory, template, capsys):
    rig = rig_factory(partitions=3)
    evs = make_events(template, N_KILL, "kill")
    half = len(evs) // 2
    rig.log.publish(records_for(evs[:half]))

    first = rig.start_projector()
    rig.wait_until(lambda: rig.count() >= 1, 40, "the projector to start writing")
    first.send_signal(signal.SIGKILL)  # no clean-up, no commit: mid-stream
    first.wait(10)
    at_kill = rig.count()
    # the rest arrives while no projector runs, so the kill is mid-stream by construction
    rig.log.publish(records_for(evs[half:]))
    assert at_kill < len(evs)

    second = rig.start_projector()
    rig.wait_caught_up()
    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0, rig.logs()
    rig.verify(capsys, f"sigkill-restart (killed at {at_kill})", [e["event_id"] for e in evs])


@pytest.mark.parametrize("arrival", ["later-batch", "same-batch"])
def test_same_events_delivered_twice(rig_factory, template, capsys, arrival):
    rig = rig_factory(partitions=3)
    evs = make_events(template, N_TWICE, "twice")
    rig.log.publish(records_for(evs))
    if arrival == "same-batch":
        rig.log.publish(records_for(evs))  # both copies wait in the log before the projector starts
        proc = rig.start_projector()
    else:
        proc = rig.start_projector()
        rig.wait_caught_up()
        rig.log.publish(records_for(evs))  # the same events again, after they were applied
    rig.wait_caught_up()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0, rig.logs()

    positions = rig.log_positions()
    assert sum(len(v) for v in positions.values()) == 2 * len(evs)
    assert all(len(v) == 2 for v in positions.values()), "each event should sit in the log twice"
    rig.verify(capsys, f"same events delivered twice ({arrival})", [e["event_id"] for e in evs])


def test_two_projectors_with_rebalance(rig_factory, template, capsys):
    rig = rig_factory(partitions=6)
    evs = make_events(template, N_REBAL, "rebal", stories=60)
    half = len(evs) // 2
    rig.log.publish(records_for(evs[:half]))

    first = rig.start_projector()
    rig.wait_until(lambda: rig.count() >= 1, 40, "the first projector to start writing")
    second = rig.start_projector()  # joins the group: rebalance
    at_join = rig.count()
    rig.wait_until(lambda: rig.count() >= min(at_join + 50, half), 40, "progress after the second joined")
    first.send_signal(signal.SIGTERM)  # leaves the group: another rebalance
    assert first.wait(30) == 0, rig.logs()
    at_leave = rig.count()
    # the rest arrives after the first left, so the second must have taken over all partitions
    rig.log.publish(records_for(evs[half:]))
    assert at_leave < len(evs)

    rig.wait_caught_up()
    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0, rig.logs()
    rig.verify(capsys, f"rebalance (join at {at_join}, leave at {at_leave})", [e["event_id"] for e in evs])
