"""The fault suite, against the REAL servers (Kafka + MongoDB-wire): nothing lost, nothing doubled.

Scenarios: broker down while articles arrive (outbox), ingest SIGKILLed with a non-empty outbox
and restarted, store down then back (projector backs off, query answers 503), projector SIGKILL
mid-stream, same events delivered twice, two projectors with rebalance. The last three also run
on the embedded store (STORYLINE_STORE=embedded), read back through the query service, so they
hold whatever adapter serves it. Under `make faults` every row runs on the three-broker cluster.

Each scenario prints one row of the table (also written to tests/output/faults.txt):
`scenario | articles accepted | events expected | events in Kafka | events in the timeline | lost | doubled |
seconds to recover` (see tests/faults/harness.py), and
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

import os
import signal
import threading
import time

import pytest
import requests
from conftest import API_KEY
from faults.harness import (
    SCALE,
    GunicornIngest,
    InProcessIngest,
    Rig,
    TcpProxy,
    broker_down,
    make_articles,
    make_events,
    post_all,
    records_for,
    wait_for,
)
from werkzeug.serving import make_server

from services.bootstrap import open_store
from services.ingest.schemas import ArticleSchema
from services.ingest.service import events_for
from services.query.app import create_app as query_app
from shared.config import Settings

N_KILL, N_TWICE, N_REBAL, N_STORE = (int(n * SCALE) for n in (600, 300, 600, 400))
N_ARTICLES = max(int(30 * SCALE), 6)  # articles posted per outbox scenario (about 3.5 events each)

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def template(seed) -> dict:
    article = ArticleSchema().load(
        {k: seed[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": seed["story"]}
    )
    return events_for(article)[0]


@pytest.fixture
def rig_factory(tmp_path):
    rigs: list[Rig] = []

    def make(partitions: int, store: str = "mongodb") -> Rig:
        rigs.append(Rig(tmp_path, partitions, store=store))
        return rigs[-1]

    yield make
    for r in rigs:
        r.close()


def assert_articles_once(settings: Settings, articles: list[dict]) -> None:
    """Each accepted article's article_received sits on the article topic exactly once."""
    from services.bootstrap import open_article_log
    from shared.domain import events

    log = open_article_log(settings)
    try:
        ids = [events.decode_article(m.value)["article_id"] for m in log.read("beginning")]
    finally:
        log.close()
    assert sorted(ids) == sorted(a["id"] for a in articles)


# ----------------------------------------------------------------------------- scenarios


def test_broker_down_while_articles_arrive(rig_factory, corpus, tmp_path, capsys):
    rig = rig_factory(partitions=3)
    articles = make_articles(corpus, N_ARTICLES, "outbox")
    settings = Settings.from_env(
        {**rig.env, "STORYLINE_DATA_DIR": str(tmp_path / "ingest"), "STORYLINE_API_KEYS": API_KEY}
    )
    ingest = InProcessIngest(settings)
    try:
        rig.start_projector()
        rig.wait_joined()
        with broker_down():
            posted, deliveries = post_all(ingest.url, articles)
            ready = ingest.readyz()
            assert ready["status"] == "degraded" and ready["log"].startswith("unreachable"), ready
            # one article_received per article besides its events (issue 16)
            assert ready["outbox"]["queued"] == len(posted) + len(articles), (
                "every accepted event and article waits in the outbox"
            )
            assert set(deliveries) == {"queued"}
            assert rig.count() == 0
        # the broker is back: the relay drains the outbox without help
        t_back = time.monotonic()
        wait_for(lambda: ingest.readyz()["outbox"]["queued"] == 0, 90, "the outbox to drain")
        assert ingest.readyz()["status"] == "ready"
        rig.wait_until(lambda: rig.count() >= len({e["event_id"] for e in posted}), 90, "the timeline to fill")
        recover = time.monotonic() - t_back
        rig.wait_caught_up()
    finally:
        ingest.close()
    rig.verify_log_once_in_order(posted)
    assert_articles_once(settings, articles)
    rig.verify(
        capsys, "broker down while articles arrive (outbox)", [e["event_id"] for e in posted], len(articles), recover
    )


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
        assert set(deliveries) == {"queued"} and queued == len(posted) + len(articles)
    t_back = time.monotonic()
    second = GunicornIngest(env, tmp_path, "ingest-second")  # same data dir: resumes the outbox
    try:
        wait_for(
            lambda: requests.get(f"{second.url}/readyz", timeout=30).json()["outbox"]["queued"] == 0,
            90,
            "the restarted ingest to drain its outbox",
        )
        rig.start_projector()
        rig.wait_until(lambda: rig.count() >= len({e["event_id"] for e in posted}), 90, "the timeline to fill")
        recover = time.monotonic() - t_back  # the restart, the drain, and a projector starting from scratch
        rig.wait_caught_up()
    finally:
        second.kill()
    rig.verify_log_once_in_order(posted)
    assert_articles_once(Settings.from_env(env), articles)
    rig.verify(
        capsys,
        "ingest SIGKILLed with a full outbox, restarted",
        [e["event_id"] for e in posted],
        len(articles),
        recover,
    )


def test_store_down_then_back(rig_factory, template, tmp_path, capsys):
    rig = rig_factory(partitions=3)
    evs = make_events(template, N_STORE, "store")
    half = len(evs) // 2
    mongo = os.environ["STORYLINE_TEST_MONGO"].rsplit(":", 1)
    proxy = TcpProxy((mongo[0], int(mongo[1])))
    # directConnection: the server announces itself as a replica-set member; without it pymongo
    # would discover the real address and go around the proxy
    through_proxy = (
        rig.settings.store_url.replace(os.environ["STORYLINE_TEST_MONGO"], f"127.0.0.1:{proxy.port}")
        + "?directConnection=true"
    )
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
        t_back = time.monotonic()
        rig.wait_caught_up()
        recover = time.monotonic() - t_back
        wait_for(lambda: requests.get(stories, timeout=30).status_code == 200, 30, "the query service to recover")
        retries = (rig.tmp / "projector0.log").read_text(errors="replace").count("projection failed; retrying in")
        assert retries >= 1, "the projector should have backed off and retried"
    finally:
        query.shutdown()
        proxy.close()
    with capsys.disabled():
        print(f"\nstore down: query answered 503 in {took:.2f}s; the projector retried {retries} times", flush=True)
    rig.verify(capsys, "store down then back (projector)", [e["event_id"] for e in evs], recover=recover)


# The rows that need no outage of the store run on both stores: the MongoDB-wire server and the
# embedded one (STORYLINE_STORE=embedded, read back through the query service).
STORES = ["mongodb", "embedded"]


@pytest.mark.parametrize("store", STORES)
def test_projector_killed_mid_stream_and_restarted(rig_factory, template, capsys, store):
    rig = rig_factory(partitions=3, store=store)
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
    rig.verify(capsys, f"sigkill-restart (killed at {at_kill}), {store} store", [e["event_id"] for e in evs])


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("arrival", ["later-batch", "same-batch"])
def test_same_events_delivered_twice(rig_factory, template, capsys, arrival, store):
    rig = rig_factory(partitions=3, store=store)
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
    rig.verify(capsys, f"same events delivered twice ({arrival}), {store} store", [e["event_id"] for e in evs])


@pytest.mark.parametrize("store", STORES)
def test_two_projectors_with_rebalance(rig_factory, template, capsys, store):
    rig = rig_factory(partitions=6, store=store)
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
    rig.verify(
        capsys, f"rebalance (join at {at_join}, leave at {at_leave}), {store} store", [e["event_id"] for e in evs]
    )
