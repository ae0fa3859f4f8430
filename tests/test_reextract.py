"""Extractor upgrades without doubling (issue 16), through HTTP and the CLI, on both backends.

Version A is the extractor as it is; version B is the test-only variant that does not
recognise rebuttals (STORYLINE_EXTRACTOR_VARIANT=test-drop-rebuttals). The two articles are
our own: both report the same denial, so it is one timeline entry citing both.
"""

from __future__ import annotations

import json
import time

import requests

from services import cli
from services.bootstrap import open_article_log
from shared.domain import events

STORY = "harbour-lease"
LEASE_A = {
    "id": "lease-a",
    "url": "https://a.test/lease-1",
    "outlet": "Harbour Post",
    "story_id": STORY,
    "published_at": "2025-06-12T08:00:00Z",
    "title": "Port director denies lease was rigged",
    "body": (
        "Fishing cooperative Northwave Traders has accused the port authority of rigging a harbour "
        "lease. The authority's director, Mirela Castan, denied the accusation on Tuesday."
    ),
}
LEASE_B = {
    "id": "lease-b",
    "url": "https://b.test/lease-2",
    "outlet": "Coast Daily",
    "story_id": STORY,
    "published_at": "2025-06-13T17:30:00Z",
    "title": "Castan rejects Northwave claims",
    "body": (
        "Director Mirela Castan on Tuesday rejected claims by Northwave Traders that the harbour lease "
        "had been rigged, calling them baseless. Northwave Traders alleged last month that port "
        "officials had leaked the winning offer early."
    ),
}
LEASE_C = {
    "id": "lease-c",
    "url": "https://c.test/lease-3",
    "outlet": "Harbour Post",
    "story_id": STORY,
    "published_at": "2025-06-20T09:00:00Z",
    "title": "Pilots say safety reports were ignored",
    "body": (
        "The harbour pilots' union Tidewatch has accused the port authority of ignoring safety "
        "reports. The authority denied the claim on Thursday."
    ),
}
VARIANT = "STORYLINE_EXTRACTOR_VARIANT"


def reextract(system, monkeypatch, capsys, *args) -> tuple[int, dict, list[dict]]:
    for k, v in system.env.items():
        monkeypatch.setenv(k, v)
    capsys.readouterr()
    status = cli.main(["reextract", "--quiet", *args])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return status, lines[-1], lines[:-1]


def view(system, **params) -> list[tuple]:
    """The timeline as (type, actor, target, day, sorted articles) per entry, in order."""
    r = requests.get(f"{system.query_url}/v1/stories/{STORY}/timeline", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return [
        (
            e["event_type"],
            e["actor"]["name"],
            (e["target"] or {}).get("name"),
            e["occurred_at"],
            tuple(sorted(p["article_id"] for p in e["provenance"])),
        )
        for e in r.json()["entries"]
    ]


def counts(system) -> dict:
    return requests.get(f"{system.query_url}/v1/stories/{STORY}", timeout=10).json()["counts"]


def counts_of(entries: list[tuple]) -> dict:
    out: dict[str, int] = {}
    for kind, *_, articles in entries:
        out[kind] = out.get(kind, 0) + len(articles)
    return out


def settle(system, check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        got = view(system)
        if check(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def rebuttals(entries):
    return [e for e in entries if e[0] == "rebuttal_given"]


def article_topic_settings(system) -> dict:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = KafkaAdminClient(bootstrap_servers=system.settings.log_url[len("kafka://") :])
    try:
        topic = system.settings.topic + ".articles"
        response = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0]
        found = {c[0]: c[1] for c in response.resources[0][4]}
    finally:
        admin.close()
    return {k: found[k] for k in ("cleanup.policy", "retention.ms", "retention.bytes", "max.message.bytes")}


def test_reextract_replaces_readings_without_doubling(system, monkeypatch, capsys):
    monkeypatch.delenv(VARIANT, raising=False)
    posted = [system.post(LEASE_A), system.post(LEASE_B)]
    assert [r.status_code for r in posted] == [202, 202]
    want = sum(len(r.json()["events"]) for r in posted)
    system.timeline(STORY, want)
    version_a = view(system)
    assert len(rebuttals(version_a)) == 1 and rebuttals(version_a)[0][4] == ("lease-a", "lease-b")
    assert counts(system) == counts_of(version_a)
    # the articles themselves are in the log, on their own topic, keyed by story
    article_log = open_article_log(system.settings)
    try:
        received = [(m.key, events.decode_article(m.value)) for m in article_log.read("beginning")]
    finally:
        article_log.close()
    assert sorted((k, a["article_id"], a["body"]) for k, a in received) == sorted(
        (STORY, a["id"], a["body"]) for a in (LEASE_A, LEASE_B)
    )
    if system.settings.log_url.startswith("kafka://"):
        assert article_topic_settings(system) == {
            "cleanup.policy": "delete",
            "retention.ms": "-1",
            "retention.bytes": "-1",
            "max.message.bytes": "8388608",
        }
    before_b = events.utcnow_iso()
    time.sleep(0.05)

    # same extractor: nothing to publish
    status, summary, _ = reextract(system, monkeypatch, capsys)
    assert status == 0 and summary["articles_read"] == 2 and summary["readings_published"] == 0

    monkeypatch.setenv(VARIANT, "test-drop-rebuttals")
    status, summary, diffs = reextract(system, monkeypatch, capsys, "--dry-run")
    assert status == 0 and summary["readings_to_publish"] == 2 and summary["events_removed"] == 2
    assert sorted(d["article_id"] for d in diffs) == ["lease-a", "lease-b"]
    assert all([r["event_type"] for r in d["removed"]] == ["rebuttal_given"] for d in diffs)
    time.sleep(1.0)
    assert view(system) == version_a  # a dry run publishes nothing

    # one article first: the shared denial keeps the other article's report
    status, summary, _ = reextract(system, monkeypatch, capsys, "--article", "lease-a")
    assert (status, summary["articles_read"], summary["readings_published"]) == (0, 1, 1)
    one = settle(system, lambda v: rebuttals(v) and rebuttals(v)[0][4] == ("lease-b",))
    assert rebuttals(one)[0][4] == ("lease-b",)

    status, summary, _ = reextract(system, monkeypatch, capsys)
    assert status == 0
    assert (
        summary["articles_read"],
        summary["readings_published"],
        summary["events_removed"],
        summary["events_added"],
    ) == (2, 1, 1, 0)
    version_b = settle(system, lambda v: not rebuttals(v))
    assert not rebuttals(version_b)
    assert version_b == [e for e in version_a if e[0] != "rebuttal_given"]  # B's events, each once
    assert counts(system) == counts_of(version_b) and "rebuttal_given" not in counts(system)

    # as known before the new readings: A's reading, whole
    assert view(system, as_of=before_b) == version_a
    # ... and as known now: B's reading, the superseded events stay out
    assert view(system, as_of=events.utcnow_iso()) == version_b
    # a second run publishes nothing
    status, summary, _ = reextract(system, monkeypatch, capsys)
    assert (status, summary["readings_published"]) == (0, 0)

    # re-posting a known article after the change: its current reading, never beside the old one
    again = system.post(LEASE_B)
    assert again.status_code == 202 and "rebuttal_given" not in {e["event_type"] for e in again.json()["events"]}
    time.sleep(1.5)
    assert view(system) == version_b
    monkeypatch.delenv(VARIANT)
    back = system.post(LEASE_A)  # version A again: the denial returns, once
    assert back.status_code == 202
    restored = settle(system, lambda v: len(rebuttals(v)) == 1)
    assert rebuttals(restored) == [("rebuttal_given", "Mirela Castan", "Northwave Traders", "2025-06-10", ("lease-a",))]
    assert counts(system) == counts_of(restored)

    # a rebuild from the log gives the same answers as the live projection
    live, live_then, live_counts = view(system), view(system, as_of=before_b), counts(system)
    for k, v in system.env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["rebuild", "--quiet", "--drop-after", "0.5"]) == 0
    time.sleep(1.0)
    assert (view(system), view(system, as_of=before_b), counts(system)) == (live, live_then, live_counts)


def test_reextract_resumes_after_a_stop(system, monkeypatch, capsys, tmp_path):
    """A stopped run leaves a checkpoint; the next run with the same options starts after it."""
    from services.bootstrap import open_log
    from services.ingest import reextract as module
    from services.ingest.reextract import Selection

    monkeypatch.delenv(VARIANT, raising=False)
    for r in (system.post(LEASE_A), system.post(LEASE_B)):
        assert r.status_code == 202
    system.timeline(STORY, 4)
    monkeypatch.setenv(VARIANT, "test-drop-rebuttals")
    article_log, event_log = open_article_log(system.settings), open_log(system.settings)
    try:
        seen = []

        def progress(done, total):  # ingest keeps working while re-extraction runs
            seen.append(done)
            assert system.post(LEASE_C).status_code == 202

        first = module.reextract(
            article_log,
            event_log,
            system.settings.data_dir,
            Selection(),
            batch=1,
            stop=lambda: len(seen) >= 1,
            progress=progress,
        )
        assert first.stopped and first.readings_published == 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list(article_log.read("beginning"))) < 3:
            time.sleep(0.2)  # the article posted meanwhile has reached its topic
        second = module.reextract(article_log, event_log, system.settings.data_dir, Selection(), batch=1)
        assert second.resumed and not second.stopped
        # lease-b is re-read; lease-c came in with version B already: nothing to publish for it
        assert (second.articles_read, second.readings_published, second.articles_unchanged) == (2, 1, 1)
        done = settle(system, lambda v: not rebuttals(v) and any("lease-c" in e[4] for e in v))
        third = module.reextract(article_log, event_log, system.settings.data_dir, Selection(), batch=1)
        assert not third.resumed and (third.articles_read, third.readings_published) == (3, 0)
    finally:
        article_log.close()
        event_log.close()
    assert not rebuttals(done)
    assert [e[4] for e in done].count(("lease-c",)) == 1  # the article posted meanwhile, once
    assert counts(system) == counts_of(done)


def test_a_bad_variant_is_refused_with_its_name(system, monkeypatch, capsys):
    for k, v in system.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv(VARIANT, "no-such-variant")
    assert cli.main(["reextract", "--quiet"]) == 2
    assert VARIANT in capsys.readouterr().err
