"""Fault rows on a replicated cluster: three KRaft nodes (tools/servers.sh start-cluster), the
topic at replication factor 3 with min.insync.replicas 2, ingest (with its relay) taking
articles at a steady pace and a projector process consuming, while brokers die.

Rows: the leader of the busiest partition SIGKILLed mid-traffic then restarted; the copies in
the topic itself after that (the idempotent producer: 0 duplicates from retries); a rolling
restart of all three nodes; two nodes down (below min ISR: ingest answers 202 `queued` from its
outbox and /readyz says degraded, then everything arrives, once in the topic too: the relay's
transactions); the projector cut off from the
cluster by a TCP proxy. Columns and the verdict as in tests/test_faults.py (tests/faults/).

`make faults` passes its running cluster (STORYLINE_TEST_CLUSTER); otherwise this module starts
one next to the single broker (CLUSTER_PORT = the broker's port + 2) and stops it at the end.
`STORYLINE_FAULT_SCALE` stretches the traffic around each fault.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from conftest import API_KEY, real_env
from faults.cluster import NODES, Cluster, Traffic, endless_articles
from faults.harness import REPLICATED, SCALE, STORYLINE, InProcessIngest, Rig, report, servers, wait_for
from kafka import KafkaAdminClient
from kafka.structs import TopicPartition

from shared.config import Settings

BEFORE_S, DURING_S, AFTER_S = 2 * SCALE, 4 * SCALE, 2 * SCALE  # traffic around each fault
RATE = 5.0  # articles per second


@pytest.fixture(scope="module")
def cluster():
    given = os.environ.get("STORYLINE_TEST_CLUSTER")
    if given:
        yield Cluster(int(given.split(",")[0].rsplit(":", 1)[1]))
        return
    kafka_port = int(os.environ["STORYLINE_TEST_KAFKA"].rsplit(":", 1)[1])
    c = Cluster(kafka_port + 2)
    servers("start-cluster", env=c.env)
    try:
        yield c
    finally:
        servers("stop-cluster", env=c.env)


@pytest.fixture
def rig(cluster, tmp_path):
    cluster.start()  # every node up before a scenario, whatever the last one left
    r = Rig(tmp_path, partitions=3, bootstrap=cluster.bootstrap)
    yield r
    r.close()


@pytest.fixture
def ingest(rig, tmp_path):
    i = InProcessIngest(
        Settings.from_env({**rig.env, "STORYLINE_DATA_DIR": str(tmp_path / "ingest"), "STORYLINE_API_KEYS": API_KEY})
    )
    yield i
    i.close()


def drain(rig: Rig, ingest: InProcessIngest, traffic: Traffic, timeout: float = 120) -> list[str]:
    """Stop the traffic, wait for the outbox to empty and the projector to reach the log end."""
    traffic.finish()
    assert not traffic.failures, f"ingest refused articles: {traffic.failures[:5]}"
    wait_for(lambda: ingest.readyz()["outbox"]["queued"] == 0, timeout, "the outbox to drain")
    ids = traffic.event_ids()
    rig.wait_projected(ids, timeout, "every accepted event in the timeline")
    rig.wait_caught_up(timeout)
    return ids


def projector_survived(rig: Rig, capsys, scenario: str) -> None:
    """Leader moves are the client's business: the projector process stays up throughout (no
    crash loop); a failed step is logged and retried with backoff."""
    assert all(p.poll() is None for p in rig.procs), f"a projector exited:\n{rig.logs()}"
    retries = sum(
        (rig.tmp / f"projector{i}.log").read_text(errors="replace").count("projection failed; retrying in")
        for i in range(len(rig.procs))
    )
    with capsys.disabled():
        print(f"\n{scenario}: projector(s) stayed up, {retries} failed steps retried", flush=True)


def recovered_after(rig: Rig, traffic: Traffic, t_fault: float, timeout: float = 120) -> float:
    """Seconds from t_fault until the timeline holds every event accepted up to now."""
    rig.wait_projected(traffic.event_ids(), timeout, "the timeline to catch up after the fault")
    return time.monotonic() - t_fault


def test_leader_of_busiest_partition_killed_then_restarted(cluster, rig, ingest, corpus, capsys):
    rig.start_projector()
    rig.wait_joined()
    traffic = Traffic(ingest.url, endless_articles(corpus, "leaderkill"), RATE)
    traffic.start()
    traffic.wait_accepted(3)
    time.sleep(BEFORE_S)
    ends = rig.end_offsets()
    busiest = max(ends, key=ends.get)
    leader = cluster.leaders(rig.settings.topic)[busiest]
    t_kill = time.monotonic()
    cluster.kill(leader)  # SIGKILL: no controlled shutdown, leadership is taken, not handed over
    time.sleep(DURING_S)
    recover = recovered_after(rig, traffic, t_kill)  # without the dead node: the cluster failed over
    assert cluster.leaders(rig.settings.topic)[busiest] != leader
    cluster.start(leader)
    time.sleep(AFTER_S)
    ids = drain(rig, ingest, traffic)
    projector_survived(rig, capsys, "leader kill")
    rig.verify(
        capsys,
        f"leader of the busiest partition (p{busiest}, node {leader}) SIGKILLed, restarted",
        ids,
        traffic.accepted,
        recover,
    )

    # The same events in Kafka: read the topic itself back and count the copies of each event.
    positions = rig.log_positions()
    copies = sum(len(places) for places in positions.values())
    duplicates = copies - len(positions)
    report(
        capsys,
        "idempotent producer: copies in Kafka after the leader kill",
        traffic.accepted,
        len(set(ids)),
        copies,
        rig.count(),
        len(set(ids) - set(positions)),
        duplicates,
    )
    assert duplicates == 0, f"{duplicates} events sit in the topic more than once"
    rig.verify_log_once_in_order(traffic.posted)


def test_rolling_restart_under_steady_traffic(cluster, rig, ingest, corpus, capsys):
    rig.start_projector()
    rig.wait_joined()
    traffic = Traffic(ingest.url, endless_articles(corpus, "rolling"), RATE)
    traffic.start()
    traffic.wait_accepted(3)
    time.sleep(BEFORE_S)
    for node in NODES:  # one at a time, as an upgrade does: the next waits for full replication
        cluster.stop(node)
        time.sleep(DURING_S / 2)
        cluster.start(node)
        rig.wait_until(lambda: cluster.fully_replicated(rig.settings.topic), 120, f"node {node} back in sync", 0.5)
    t_back = time.monotonic()
    recover = recovered_after(rig, traffic, t_back)
    time.sleep(AFTER_S)
    ids = drain(rig, ingest, traffic)
    projector_survived(rig, capsys, "rolling restart")
    rig.verify(capsys, "rolling restart of all three brokers", ids, traffic.accepted, recover)
    rig.verify_log_once_in_order(traffic.posted)


def test_two_brokers_down_below_min_isr(cluster, rig, ingest, corpus, capsys):
    rig.start_projector()
    rig.wait_joined()
    articles = endless_articles(corpus, "belowisr")
    before = Traffic(ingest.url, articles, RATE)
    before.start()
    before.wait_accepted(max(int(BEFORE_S * RATE), 3))
    ids_before = drain(rig, ingest, before)

    leader = cluster.leaders(rig.settings.topic)[0]
    down = (leader, next(n for n in NODES if n != leader))
    cluster.kill(*down)
    during = Traffic(ingest.url, articles, RATE)
    during.start()
    during.wait_accepted(max(int(DURING_S * RATE), 5))
    during.finish()
    time.sleep(11)  # past delivery.STUCK_S: the oldest queued record says the log takes nothing
    ready = ingest.readyz()
    assert not during.failures, during.failures[:5]
    assert set(during.deliveries) == {"queued"}, "below min ISR no article can be published"
    assert ready["status"] == "degraded", ready
    # each accepted article queues its events and its own article_received record (issue 16)
    assert ready["outbox"]["queued"] == len(set(during.event_ids())) + during.accepted, (
        "every event and article record accepted meanwhile waits in the outbox"
    )
    assert rig.count() == len(set(ids_before)), "nothing can reach the timeline below min ISR"

    t_back = time.monotonic()  # from the restart command: the nodes' start is part of the recovery
    cluster.start(*down)
    wait_for(lambda: ingest.readyz()["outbox"]["queued"] == 0, 120, "the outbox to drain")
    ids = ids_before + during.event_ids()
    rig.wait_projected(ids, 120, "every accepted event in the timeline")
    recover = time.monotonic() - t_back
    rig.wait_caught_up()
    assert ingest.readyz()["status"] == "ready"
    rig.verify(capsys, "two brokers down (below min ISR), then back", ids, before.accepted + during.accepted, recover)
    # Below min ISR the surviving leader may append a batch it can never acknowledge; the relay
    # abandons that transaction after the delivery timeout and sends the records again once the
    # cluster is back. Its new producer (same transactional.id) has the abandoned transaction
    # aborted first, so a reader sees each event once: records == events in the topic itself.
    rig.verify_log_once_in_order(before.posted + during.posted)


def test_network_cut_between_projector_and_cluster(cluster, rig, ingest, corpus, capsys):
    proxies = cluster.proxies()
    try:
        rig.start_projector(STORYLINE_LOG=f"kafka://{cluster.proxied_bootstrap}")
        rig.wait_joined()
        traffic = Traffic(ingest.url, endless_articles(corpus, "netcut"), RATE)
        traffic.start()
        traffic.wait_accepted(3)
        time.sleep(BEFORE_S)
        for p in proxies:
            p.cut()
        time.sleep(3)  # a batch read before the cut may still be written
        at_cut, log_at_cut = rig.count(), sum(rig.end_offsets().values())
        time.sleep(max(DURING_S, 12))  # past the consumer's session timeout: the group drops it
        assert sum(rig.end_offsets().values()) > log_at_cut, "ingest keeps publishing during the cut"
        stalled = rig.count()
        assert stalled == at_cut, "the projector cannot read through a cut link"
        for p in proxies:
            p.restore()
        t_back = time.monotonic()
        recover = recovered_after(rig, traffic, t_back)
        time.sleep(AFTER_S)
        ids = drain(rig, ingest, traffic)
    finally:
        for p in proxies:
            p.close()
    assert stalled < len(set(ids)), "the cut should have held events back"
    rig.verify(capsys, "network cut between projector and cluster (TCP proxy)", ids, traffic.accepted, recover)
    rig.verify_log_once_in_order(traffic.posted)


def test_a_cluster_smaller_than_the_replication_factor_is_refused(tmp_path):
    """Topic creation asks for the configured copies; with fewer brokers the command stops with
    exit 2 and says why (4 is more than the single broker of make test and the cluster of make
    faults), and creates nothing."""
    env = {
        **os.environ,
        **real_env(),
        "STORYLINE_REPLICATION_FACTOR": "4",
        "STORYLINE_MIN_INSYNC_REPLICAS": "2",
        "STORYLINE_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [str(STORYLINE), "project"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "STORYLINE_REPLICATION_FACTOR=4" in done.stderr and "cannot hold 4 copies" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    admin = KafkaAdminClient(bootstrap_servers=env["STORYLINE_LOG"].removeprefix("kafka://"))
    try:
        assert env["STORYLINE_TOPIC"] not in admin.list_topics()
    finally:
        admin.close()


def test_min_insync_replicas_above_the_factor_is_a_configuration_error(tmp_path):
    env = {
        **os.environ,
        "STORYLINE_REPLICATION_FACTOR": "2",
        "STORYLINE_MIN_INSYNC_REPLICAS": "3",
        "STORYLINE_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [str(STORYLINE), "project"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "STORYLINE_MIN_INSYNC_REPLICAS=3 is more than STORYLINE_REPLICATION_FACTOR=2" in done.stderr, done.stderr


def test_a_relay_restarted_on_its_data_dir_fences_the_old_producer_and_its_open_transaction(cluster, tmp_path):
    """A relay that died mid-transaction (or hangs on as a zombie) left records appended but not
    committed. The next relay on the same data dir takes the same transactional.id: starting, it
    fences the old producer (whose commit then fails) and the broker aborts the old transaction,
    so the records it sends again are in the topic once for every reader here (read_committed),
    though the aborted copies still occupy offsets (a read_uncommitted reader sees them)."""
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.errors import KafkaError

    from services.bootstrap import open_log
    from services.ingest.relay import Relay, relay_id
    from shared.adapters.sqlite_outbox import SqliteOutbox
    from shared.ports import Record

    env = (
        real_env() | REPLICATED | {"STORYLINE_LOG": f"kafka://{cluster.bootstrap}", "STORYLINE_DATA_DIR": str(tmp_path)}
    )
    settings = Settings.from_env(env)
    log = open_log(settings)
    log.ensure_topic()
    records = [Record(f"fence-story-{i % 4}", f"fence-record-{i:03d}".encode()) for i in range(40)]
    outbox = SqliteOutbox(settings.data_dir)
    outbox.add(records)
    zombie = KafkaProducer(
        bootstrap_servers=cluster.bootstrap,
        transactional_id=f"{relay_id(settings.data_dir)}.{settings.topic}",
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=1,
    )
    try:
        zombie.init_transactions()
        zombie.begin_transaction()
        for r in records:
            zombie.send(settings.topic, key=r.key.encode(), value=r.value)
        zombie.flush()  # appended on the partitions' leaders, never committed

        relay = Relay(outbox, log, transactional_id=relay_id(settings.data_dir))
        assert relay.relay_once() == len(records)
        assert outbox.backlog()[0] == 0
        with pytest.raises(KafkaError):
            zombie.commit_transaction()
    finally:
        zombie.close(timeout=0)

    seen = [m.value for m in log.read()]
    assert sorted(seen) == sorted(r.value for r in records), "each record once for a read_committed reader"
    raw = KafkaConsumer(bootstrap_servers=cluster.bootstrap, enable_auto_commit=False)  # read_uncommitted
    try:
        tps = [TopicPartition(settings.topic, p) for p in range(settings.partitions)]
        raw_end = sum(raw.end_offsets(tps).values())
    finally:
        raw.close()
    # the aborted copies, the abort markers and the commit markers lie past the committed records
    assert raw_end >= 2 * len(records) + 2 and sum(log.end_offsets().values()) < raw_end
    # log.end_offsets() is where a reader that read everything stands: after the last committed record
    last = {}
    for m in log.read():
        last[m.partition] = m.offset + 1
    assert {p: o for p, o in log.end_offsets().items() if o} == last
    # and the lag (storyline lag, the projector's gauge) measures to the same place
    lags = log.lag(settings.group)
    assert {p: lag.end for (_, p), lag in lags.items()} == log.end_offsets()
    outbox.close()
    log.close()
