"""The spine, end to end through HTTP: article in, events through the log, timeline out."""

from __future__ import annotations

import json

import requests
from conftest import API_KEY

KEY = {"X-API-Key": API_KEY}


def _article(seed: dict) -> dict:
    return {k: seed[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": seed["story"]}


def test_seed_article_comes_back_as_a_chronological_timeline(system, seed, corpus):
    r = system.post(_article(seed))
    assert r.status_code == 202, r.text
    posted = r.json()
    assert posted["story_id"] == "labour-volunteers"
    types = sorted(e["event_type"] for e in posted["events"])
    assert types == ["allegation_made", "complaint_filed", "post_deleted", "rebuttal_given", "rebuttal_given"]

    body = system.timeline("labour-volunteers", want=5)
    got = body["entries"]
    cited = [p["event_id"] for e in got for p in e["provenance"]]
    assert sorted(cited) == sorted(e["event_id"] for e in posted["events"])
    assert len(set(cited)) == len(cited) == 5
    keys = [(e["occurred_at"] or e["published_at"][:10], e["published_at"]) for e in got]
    assert keys == sorted(keys)
    story = requests.get(f"{system.query_url}/v1/stories/labour-volunteers", timeout=10).json()
    assert sorted(story["counts"].items()) == [
        ("allegation_made", 1),
        ("complaint_filed", 1),
        ("post_deleted", 1),
        ("rebuttal_given", 2),
    ]
    actors = {e["actor"]["name"] for e in got}
    # every actor the corpus gold names for the seed appears under one of its names
    for gold in corpus["gold"]["seed"]["required"]:
        assert actors & set(gold["actor"]), (gold["type"], gold["actor"], actors)
    stories = requests.get(f"{system.query_url}/v1/stories", timeout=10).json()["stories"]
    assert [s["story_id"] for s in stories] == ["labour-volunteers"]


def test_posting_the_same_article_twice_keeps_each_event_once(system, seed):
    first = system.post(_article(seed)).json()
    second = system.post(_article(seed)).json()
    assert [e["event_id"] for e in first["events"]] == [e["event_id"] for e in second["events"]]
    system.timeline("labour-volunteers", want=5)
    # Let the projector drain the duplicates, then count.
    system.post({**_article(seed), "id": "other", "story_id": "marker", "url": "https://x.test/m"})
    system.timeline("marker", want=5)
    got = [p["event_id"] for e in system.timeline("labour-volunteers", want=5)["entries"] for p in e["provenance"]]
    assert len(got) == 5 and len(set(got)) == 5


def test_malformed_requests_get_4xx_with_a_reason(system, seed):
    url = f"{system.ingest_url}/v1/articles"
    cases = [
        requests.post(url, data="{not json", headers={"Content-Type": "application/json", **KEY}, timeout=10),
        requests.post(url, data="", headers={"Content-Type": "application/json", **KEY}, timeout=10),
        requests.post(url, data="hello", headers={"Content-Type": "text/plain", **KEY}, timeout=10),
        requests.post(url, json=[1, 2], headers=KEY, timeout=10),
        requests.post(url, json={**_article(seed), "title": 42}, headers=KEY, timeout=10),
        requests.post(url, json={k: v for k, v in _article(seed).items() if k != "body"}, headers=KEY, timeout=10),
        requests.post(url, json={**_article(seed), "published_at": "yesterday"}, headers=KEY, timeout=10),
        requests.post(
            url,
            data=json.dumps({**_article(seed), "body": "x" * (2 << 20)}),
            headers={"Content-Type": "application/json", **KEY},
            timeout=30,
        ),
    ]
    statuses = [r.status_code for r in cases]
    assert statuses == [400, 400, 415, 400, 422, 422, 422, 413]
    for r in cases:
        assert r.json()["error"]["reason"]
    assert cases[4].json()["error"]["fields"] == {"title": ["Not a valid string."]}
    assert "body" in cases[5].json()["error"]["fields"]
    # nothing accepted before is lost: the query side still answers
    assert requests.get(f"{system.query_url}/healthz", timeout=10).status_code == 200
    assert requests.get(f"{system.ingest_url}/healthz", timeout=10).status_code == 200


def test_unknown_story_is_404(system):
    r = requests.get(f"{system.query_url}/v1/stories/nope/timeline", timeout=10)
    assert r.status_code == 404 and "nope" in r.json()["error"]["reason"]


def test_health_and_readiness(system):
    for base in (system.ingest_url, system.query_url):
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        assert requests.get(f"{base}/readyz", timeout=10).json()["status"] == "ready"


def test_writes_need_a_valid_key_and_rotation_keeps_both_valid(system, seed):
    from conftest import NEXT_API_KEY

    url = f"{system.ingest_url}/v1/articles"
    no_key = requests.post(url, json=_article(seed), timeout=10)
    wrong = requests.post(url, json=_article(seed), headers={"X-API-Key": "x" * 24}, timeout=10)
    assert (no_key.status_code, wrong.status_code) == (401, 401)
    assert "X-API-Key" in no_key.json()["error"]["reason"]
    rotated_in = requests.post(url, json=_article(seed), headers={"X-API-Key": NEXT_API_KEY}, timeout=10)
    assert rotated_in.status_code == 202
    # reads stay public
    assert requests.get(f"{system.query_url}/v1/stories", timeout=10).status_code == 200


def test_a_rotated_out_key_is_refused(tmp_path, seed):
    from conftest import System

    sys_ = System({"STORYLINE_DATA_DIR": str(tmp_path / "d"), "STORYLINE_API_KEYS": "only-the-new-key-0123456789"})
    try:
        r = requests.post(f"{sys_.ingest_url}/v1/articles", json=_article(seed), headers=KEY, timeout=10)
        assert r.status_code == 401 and r.json()["error"]["reason"] == "invalid API key"
    finally:
        sys_.close()
