"""Bad input at the ingest API gets a 4xx naming the field and the reason; nothing reaches the
store as a query operator. Runs on both backends through HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from conftest import API_KEY

from shared.ports import EventQuery

KEY = {"X-API-Key": API_KEY}


def _article(seed: dict, **changes) -> dict:
    base = {k: seed[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": seed["story"]}
    return base | changes


def _post_raw(system, data: bytes, content_type: str = "application/json", **headers) -> requests.Response:
    return requests.post(
        f"{system.ingest_url}/v1/articles",
        data=data,
        timeout=30,
        headers={"Content-Type": content_type, **KEY, **headers},
    )


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("title", {"$gt": ""}, "Not a valid string."),
        ("body", ["a", "b"], "Not a valid string."),
        ("outlet", 7, "Not a valid string."),
        ("story_id", "$where", "letters, digits and . _ : - only"),
        ("story_id", "a" * 201, "letters, digits and . _ : - only"),
        ("title", "", "Length must be between 1 and 1000."),
        ("title", "t" * 1001, "Length must be between 1 and 1000."),
        ("url", "not a url", "Not a valid URL."),
        ("published_at", "2025-03-14", "Not a valid aware datetime."),
        ("published_at", "2025-03-14T09:00:00", "Not a valid aware datetime."),
        ("published_at", "2025-02-30T09:00:00Z", "not an ISO 8601 datetime with a timezone"),
        ("published_at", "0382-10-27T20:33:30Z", "must lie between 1800 and 2199"),
        ("id", None, "Field may not be null."),
        ("surprise", "x", "Unknown field."),
    ],
)
def test_each_bad_field_is_named_with_its_reason(system, seed, field, value, reason):
    r = system.post(_article(seed, **{field: value}))
    assert r.status_code == 422, r.text
    body = r.json()["error"]
    assert body["status"] == 422 and body["reason"]
    assert body["fields"] == {field: [reason]}


def test_missing_required_fields_are_all_listed(system):
    r = system.post({"title": "only a title"})
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"url", "body", "published_at", "outlet"}


@pytest.mark.parametrize(
    "data, content_type, status, words",
    [
        (b'{"title": "caf\xe9"}', "application/json", 400, "not valid UTF-8"),
        (b'{"title": "\\ud800"}', "application/json", 400, "lone surrogate"),
        (b'{"title": ', "application/json", 400, "not valid JSON"),
        (b"", "application/json", 400, "not valid JSON"),
        (b'"just a string"', "application/json", 400, "JSON object"),
        (b"<article/>", "application/xml", 415, "JSON"),
        (b'{"title": "x"}', "application/json; charset=latin-1", 415, "UTF-8"),
    ],
)
def test_bodies_that_are_not_utf8_json_objects(system, data, content_type, status, words):
    r = _post_raw(system, data, content_type)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["reason"]


def test_an_unusable_request_id_header_is_replaced(system, seed):
    r = _post_raw(system, json.dumps(_article(seed)).encode(), **{"X-Request-Id": "x" * 300})
    assert r.status_code == 202 and r.json()["request_id"] != "x" * 300
    ok = _post_raw(system, json.dumps(_article(seed)).encode(), **{"X-Request-Id": "req-42"})
    assert ok.status_code == 202 and ok.json()["request_id"] == "req-42"


def test_body_above_the_limit_is_413(system, seed):
    r = _post_raw(system, json.dumps(_article(seed, body="x" * (1 << 20))).encode())
    assert r.status_code == 413 and r.json()["error"]["status"] == 413


def test_operator_lookalike_strings_are_stored_as_plain_text(system, seed):
    """A string that looks like an operator stays a string all the way into the timeline."""
    title = '{"$set": {"status": "retracted"}} $where'
    r = system.post(
        _article(
            seed, id="operator-text", story_id="operator-text", title=title, outlet="$gt", url="https://x.test/$ne"
        )
    )
    assert r.status_code == 202, r.text
    assert system.timeline("operator-text", want=5)["entries"]
    with system.store.view() as view:
        stored = view.events("operator-text", EventQuery(include_retracted=True))
    assert len(stored) == 5
    assert all(
        e["source"]["title"] == title and e["source"]["outlet"] == "$gt" and e["status"] == "active" for e in stored
    )


def test_the_202_says_whether_the_events_are_in_the_log(system, seed):
    r = system.post(_article(seed))
    assert r.status_code == 202
    # the log is up in this test: the outbox relay publishes within the answer's wait
    assert r.json()["delivery"] == "published"
    ready = requests.get(f"{system.ingest_url}/readyz", timeout=10).json()
    assert ready["status"] == "ready" and ready["log"] == "reachable" and ready["outbox"]["queued"] == 0
