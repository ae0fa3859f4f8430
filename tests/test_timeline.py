"""The timeline's event-sourcing tools through their public faces: corrections over HTTP,
and `storyline dlq`, `storyline replay` and `storyline rebuild` run as an operator would,
against the real broker and MongoDB-wire server."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pymongo
import pytest
import requests
from conftest import API_KEY, System, real_env

from shared.adapters.stores import open_store
from shared.domain import events, read_model
from shared.ports import EventQuery, Record

STORYLINE = str(pathlib.Path(sys.executable).with_name("storyline"))
KEY = {"X-API-Key": API_KEY}


def _article(seed: dict, **over) -> dict:
    return (
        {k: seed[k] for k in ("id", "url", "title", "body", "published_at", "outlet")}
        | {"story_id": seed["story"]}
        | over
    )


def _cli(system: System, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [STORYLINE, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **system.env}
    )


def _wait(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _event(system: System, story: str, event_id: str, **params) -> dict | None:
    r = requests.get(f"{system.query_url}/v1/stories/{story}/timeline", params=params, timeout=10)
    if r.status_code != 200:
        return None
    # an entry's fields with the provenance of this one event (the timeline lists entries)
    return next(({**e, **p} for e in r.json()["entries"] for p in e["provenance"] if p["event_id"] == event_id), None)


@pytest.fixture
def real_system(tmp_path):
    env = {"STORYLINE_DATA_DIR": str(tmp_path / "data"), "STORYLINE_API_KEYS": API_KEY, **real_env()}
    sys_ = System(env)
    yield sys_
    sys_.close()


def test_corrections_change_the_timeline_and_keep_the_history(system, seed):
    posted = system.post(_article(seed)).json()["events"]
    system.timeline(seed["story"], want=5)
    target = next(e for e in posted if e["event_type"] == "complaint_filed")
    retracted = next(e for e in posted if e["event_type"] == "post_deleted")
    correction = {
        "story_id": seed["story"],
        "event_id": target["event_id"],
        "action": "correct",
        "changes": {"occurred_at": "2000-03-01", "occurred_precision": "day"},
        "reason": "the complaint was filed long before",
        "editor": "Night Desk",
    }
    for _ in range(2):  # the same correction twice changes the event once
        r = requests.post(f"{system.ingest_url}/v1/corrections", json=correction, headers=KEY, timeout=10)
        assert r.status_code == 202, r.text
    r = requests.post(
        f"{system.ingest_url}/v1/corrections",
        headers=KEY,
        timeout=10,
        json={
            "story_id": seed["story"],
            "event_id": retracted["event_id"],
            "action": "retract",
            "reason": "the post was never deleted",
            "editor": "Night Desk",
        },
    )
    assert r.status_code == 202, r.text

    fixed = _wait(
        lambda: (e := _event(system, seed["story"], target["event_id"])) and e.get("status") == "corrected" and e,
        what="the correction",
    )
    assert fixed["occurred_at"] == "2000-03-01"
    assert len(fixed["corrections"]) == 1
    h = fixed["corrections"][0]
    assert h["kind"] == "corrected" and h["editor"] == "Night Desk"
    assert h["previous"]["occurred_at"] == target["occurred_at"]
    summary = _wait(
        lambda: (
            (b := requests.get(f"{system.query_url}/v1/stories/{seed['story']}", timeout=10).json())
            and b["event_count"] == 4
            and b
        ),
        what="the retraction in the summary",
    )
    assert "post_deleted" not in summary["counts"]
    # The corrected date moves the event to the start of the timeline (retracted ones are hidden),
    # after only the undated entries it responds to, which now sit at its day (causal order).
    body = system.timeline(seed["story"], want=4)
    entries = body["entries"]
    at = next(i for i, e in enumerate(entries) if target["event_id"] in [p["event_id"] for p in e["provenance"]])
    assert entries[at]["placement"] == {"date": "2000-03-01", "inferred": False, "reason": None}
    for before in entries[:at]:
        assert before["entry_id"] in entries[at]["responds_to"]
        assert before["placement"]["date"] == "2000-03-01" and before["placement"]["inferred"]
    assert all(e["placement"]["date"] > "2000-03-01" for e in entries[at + 1 :])
    assert retracted["event_id"] not in [p["event_id"] for e in body["entries"] for p in e["provenance"]]


def test_a_correction_that_is_not_a_correction_is_refused(system):
    url = f"{system.ingest_url}/v1/corrections"
    base = {"story_id": "s", "event_id": "e" * 32, "reason": "r", "editor": "ed"}
    cases = {
        "no change": {**base, "action": "correct"},
        "unknown field": {**base, "action": "correct", "changes": {"colour": "red"}},
        "bad date": {**base, "action": "correct", "changes": {"occurred_at": "last week"}},
        "retract with changes": {**base, "action": "retract", "changes": {"quote": "x"}},
        "bad action": {**base, "action": "delete"},
    }
    for name, body in cases.items():
        r = requests.post(url, json=body, headers=KEY, timeout=10)
        assert r.status_code == 422, name
        assert r.json()["error"]["fields"], name
    assert requests.post(url, json={**base, "action": "retract"}, timeout=10).status_code == 401


def test_poison_goes_to_the_dead_letter_topic_and_replays_after_the_fix(real_system, seed):
    s = real_system
    poison = [
        Record(seed["story"], b"\x00\xffnot json"),
        Record(seed["story"], json.dumps({"event_type": "bogus"}).encode()),
    ]
    s.log.publish(poison)
    # An editor's correction that arrives before the article it corrects: unknown event.
    article = _article(seed)
    from services.ingest.schemas import ArticleSchema
    from services.ingest.service import events_for

    early = events_for(ArticleSchema().load(article))
    r = requests.post(
        f"{s.ingest_url}/v1/corrections",
        headers=KEY,
        timeout=10,
        json={
            "story_id": seed["story"],
            "event_id": early[0]["event_id"],
            "action": "correct",
            "changes": {"quote": "corrected quote"},
            "reason": "misquoted",
            "editor": "Desk",
        },
    )
    assert r.status_code == 202
    # The partition is not stopped: a later event on it is projected.
    s.post(_article(seed, id="other", story_id=seed["story"] + "-2", url="https://x.test/2"))
    s.timeline(seed["story"] + "-2", want=5)

    listed = _wait(
        lambda: (out := _cli(s, "dlq", "list")) and out.stdout.count("\n") >= 3 and out, what="three dead letters"
    )
    assert listed.returncode == 0, listed.stderr
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    reasons = " | ".join(lt["reason"] for lt in letters)
    assert "not JSON" in reasons and "event_type" in reasons and "no event" in reasons
    assert all(lt["origin"].startswith(s.settings.topic + ":") for lt in letters)

    # The fix: the article arrives; replaying the letters applies the correction.
    s.post(article)
    s.timeline(seed["story"], want=5)
    replayed = _cli(s, "dlq", "replay")
    assert replayed.returncode == 0, replayed.stderr
    assert len(replayed.stdout.splitlines()) == 3
    fixed = _wait(
        lambda: (e := _event(s, seed["story"], early[0]["event_id"])) and e.get("status") == "corrected" and e,
        what="the replayed correction",
    )
    assert fixed["quote"] == "corrected quote"
    # The still-poisonous two come back as new letters, and only those are sent next time.
    relisted = _wait(
        lambda: (out := _cli(s, "dlq", "list")) and out.stdout.count("\n") >= 5 and out,
        what="the two still-poisonous letters back on the dead-letter topic",
    )
    assert len(relisted.stdout.splitlines()) == 5
    again = _cli(s, "dlq", "replay")
    assert len(again.stdout.splitlines()) == 2 and "not JSON" in again.stdout


def test_old_schema_versions_are_upcast_on_read(real_system, seed):
    s = real_system
    (ev,) = [
        e
        for e in s.post(_article(seed, id="v1", story_id="v1-story", url="https://x.test/v1")).json()["events"]
        if e["event_type"] == "complaint_filed"
    ]
    v0 = {k: v for k, v in ev.items() if k not in ("event_type", "occurred_precision", "schema_version")}
    v0.update(type=ev["event_type"], event_id="v0" + ev["event_id"][2:], story_id="v0-story")
    s.log.publish([Record("v0-story", json.dumps(v0).encode())])
    got = s.timeline("v0-story", want=1)["entries"]
    assert [(e["event_type"], [p["event_id"] for p in e["provenance"]]) for e in got] == [
        ("complaint_filed", [v0["event_id"]])
    ]


def test_replay_filters_and_projects_into_a_scratch_store(real_system, corpus):
    s = real_system
    first, second = corpus["articles"][1], corpus["articles"][2]
    a = s.post(
        {k: first[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": "story-a"}
    ).json()["events"]
    time.sleep(1.2)  # a clear gap in log time between the two articles
    cut = events.utcnow_iso()
    time.sleep(1.2)
    b = s.post(
        {k: second[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": "story-b"}
    ).json()["events"]
    assert a and b

    out = _cli(s, "replay")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert sorted(e["event_id"] for e in lines) == sorted(e["event_id"] for e in a + b)
    assert all({"partition", "offset", "timestamp_ms"} <= set(e["log"]) for e in lines)

    story_b = [json.loads(x) for x in _cli(s, "replay", "--story", "story-b").stdout.splitlines()]
    assert sorted(e["event_id"] for e in story_b) == sorted(e["event_id"] for e in b)
    kind = a[0]["event_type"]
    typed = [json.loads(x) for x in _cli(s, "replay", "--type", kind).stdout.splitlines()]
    assert typed and {e["event_type"] for e in typed} == {kind}
    assert len(typed) == sum(e["event_type"] == kind for e in a + b)
    actor = a[0]["actor"]["name"]
    by_actor = [json.loads(x) for x in _cli(s, "replay", "--actor", actor.upper()).stdout.splitlines()]
    assert by_actor and all(e["actor"]["name"] == actor for e in by_actor)
    known_then = [json.loads(x) for x in _cli(s, "replay", "--until", cut).stdout.splitlines()]
    assert sorted(e["event_id"] for e in known_then) == sorted(e["event_id"] for e in a)
    since = [json.loads(x) for x in _cli(s, "replay", "--from", cut).stdout.splitlines()]
    assert sorted(e["event_id"] for e in since) == sorted(e["event_id"] for e in b)

    missing_dir = _cli(s, "replay", "--out", str(pathlib.Path(s.settings.data_dir) / "no" / "such.jsonl"))
    assert missing_dir.returncode == 2 and "No such file" in missing_dir.stderr
    target = pathlib.Path(s.settings.data_dir).parent / "replay.jsonl"
    assert _cli(s, "replay", "--story", "story-a", "--out", str(target)).returncode == 0
    assert len(target.read_text().splitlines()) == len(a)

    scratch = s.env["STORYLINE_STORE"] + "_scratch"
    done = _cli(s, "replay", "--until", cut, "--into", scratch)
    assert done.returncode == 0, done.stderr
    with open_store(scratch).view() as view:
        assert sorted(d["event_id"] for d in view.events("story-a", EventQuery(include_retracted=True))) == sorted(
            e["event_id"] for e in a
        )
        assert view.events("story-b", EventQuery(include_retracted=True)) == []
        assert view.story("story-a")["event_count"] == len(a)
        assert view.story("story-b") is None

    bad = _cli(s, "replay", "--from", "yesterday-ish")
    assert bad.returncode == 2 and "ISO-8601" in bad.stderr


def _answers(system: System, stories: list[str]) -> dict:
    out = {
        "stories": sorted(
            requests.get(f"{system.query_url}/v1/stories", timeout=10).json()["stories"], key=lambda x: x["story_id"]
        )
    }
    for sid in stories:
        body = requests.get(f"{system.query_url}/v1/stories/{sid}/timeline", timeout=10).json()
        out[sid] = body["entries"]
    return _without_volatile(out)


def _without_volatile(x):
    """Freshness figures describe the read, not the story; everything else must match."""
    if isinstance(x, dict):
        return {k: _without_volatile(v) for k, v in x.items() if k not in ("freshness", "etag", "generation")}
    if isinstance(x, list):
        return [_without_volatile(v) for v in x]
    return x


def test_rebuild_while_serving_switches_atomically(real_system, corpus):
    s = real_system
    arts = corpus["articles"]
    stories = sorted({f"rebuild-{i % 3}" for i in range(len(arts))})
    total = sum(
        len(
            s.post(
                {k: a[k] for k in ("id", "url", "title", "body", "published_at", "outlet")}
                | {"story_id": f"rebuild-{i % 3}"}
            ).json()["events"]
        )
        for i, a in enumerate(arts)
    )
    _wait(
        lambda: (
            sum(x["event_count"] for x in requests.get(f"{s.query_url}/v1/stories", timeout=10).json()["stories"])
            == total
        ),
        what="the live projection",
    )
    # a correction, so the rebuilt generation must replay history too
    ev = s.timeline("rebuild-0", want=1)["entries"][0]["provenance"][0]
    requests.post(
        f"{s.ingest_url}/v1/corrections",
        headers=KEY,
        timeout=10,
        json={
            "story_id": "rebuild-0",
            "event_id": ev["event_id"],
            "action": "correct",
            "changes": {"summary": "rewritten by the desk"},
            "reason": "clarity",
            "editor": "Desk",
        },
    )
    _wait(
        lambda: (e := _event(s, "rebuild-0", ev["event_id"])) and e.get("status") == "corrected", what="the correction"
    )
    before = _answers(s, stories)

    failures, requests_made, stop = [], [0], threading.Event()

    def read_constantly():
        while not stop.is_set():
            for path in ["/v1/stories"] + [f"/v1/stories/{sid}/timeline" for sid in stories]:
                try:
                    r = requests.get(s.query_url + path, timeout=10)
                    requests_made[0] += 1
                    if r.status_code != 200 or (path != "/v1/stories" and not r.json()["entries"]):
                        failures.append((path, r.status_code))
                except requests.RequestException as exc:
                    failures.append((path, repr(exc)))

    reader = threading.Thread(target=read_constantly, daemon=True)
    reader.start()
    db = pymongo.MongoClient(s.env["STORYLINE_STORE"], retryWrites=False).get_default_database()
    live = open_store(s.env["STORYLINE_STORE"])
    assert live.current_generation() == 1
    done = _cli(s, "rebuild", "--drop-after", "1")
    stop.set()
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["old_generation"], result["generation"], result["events"]) == (1, 2, total + 1)
    assert "ev/s" in done.stderr  # the progress bar
    assert requests_made[0] > 0 and failures == []
    assert live.current_generation() == 2
    assert not {read_model.events_name(1), read_model.stories_name(1)} & set(db.list_collection_names())
    assert _answers(s, stories) == before

    # The live projector follows the new generation: an article after the switch shows up once.
    late = corpus["articles"][0]
    posted = s.post(
        {k: late[k] for k in ("url", "title", "body", "published_at", "outlet")}
        | {"id": "late", "story_id": "rebuild-late"}
    ).json()["events"]
    got = s.timeline("rebuild-late", want=len(posted))["entries"]
    assert sorted(p["event_id"] for e in got for p in e["provenance"]) == sorted(e["event_id"] for e in posted)
