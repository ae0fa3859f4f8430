"""Bad input at the ingest API gets a 4xx naming the field and the reason.

What the HTTP layer alone decides (schemas, body parsing, limits), so it runs in the fast tier
on the apps the composition root builds, through Flask's test client. That such strings reach
the real store as plain text, never as operators, is tests/test_spine.py's (both backends).
"""

from __future__ import annotations

import json

import pytest
from conftest import API_KEY

KEY = {"X-API-Key": API_KEY}


def _article(**changes) -> dict:
    base = {
        "id": "input-1",
        "url": "https://news.example.test/input-1",
        "title": "Council disputes ferry timetable report",
        "body": "Mara Vell has claimed that the council buried the ferry timetable report. "
        "The council leader, Oren Tash, denied the claim on Monday.",
        "published_at": "2025-04-02T09:00:00Z",
        "outlet": "Input Test Gazette",
        "story_id": "ferry-timetable",
    }
    return base | changes


def _post_raw(api, data: bytes, content_type: str = "application/json", **headers):
    return api.ingest.post("/v1/articles", data=data, headers={"Content-Type": content_type, **KEY, **headers})


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
        ("url", "ftp://news.example.test/input-1", "must be an http or https address"),
        ("url", "file:///etc/hosts", "must be an http or https address"),
        ("url", "javascript://news.example.test/%0aalert(1)", "must be an http or https address"),
        ("published_at", "2025-03-14", "Not a valid aware datetime."),
        ("published_at", "2025-03-14T09:00:00", "Not a valid aware datetime."),
        ("published_at", "2025-02-30T09:00:00Z", "not an ISO 8601 datetime with a timezone"),
        ("published_at", "0382-10-27T20:33:30Z", "must lie between 1800 and 2199"),
        ("id", None, "Field may not be null."),
        ("surprise", "x", "Unknown field."),
        ("title", 42, "Not a valid string."),
        ("published_at", "yesterday", "not an ISO 8601 datetime with a timezone"),
    ],
)
def test_each_bad_field_is_named_with_its_reason(api, field, value, reason):
    r = api.post(_article(**{field: value}))
    assert r.status_code == 422, r.text
    body = r.get_json()["error"]
    assert body["status"] == 422 and body["reason"]
    assert body["fields"] == {field: [reason]}


@pytest.mark.parametrize(
    "n, url", list(enumerate(["http://news.example.test/a", "https://news.example.test/a?x=1", "HTTPS://N.TEST/b"]))
)
def test_http_and_https_addresses_are_accepted(api, n, url):
    r = api.post(_article(id=f"ok-{n}", url=url))
    assert r.status_code == 202, r.text


def test_missing_required_fields_are_all_listed(api):
    r = api.post({"title": "only a title"})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"url", "body", "published_at", "outlet"}
    r = api.post({k: v for k, v in _article().items() if k != "body"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"body"}


@pytest.mark.parametrize(
    "data, content_type, status, words",
    [
        (b'{"title": "caf\xe9"}', "application/json", 400, "not valid UTF-8"),
        (b'{"title": "\\ud800"}', "application/json", 400, "lone surrogate"),
        (b'{"title": ', "application/json", 400, "not valid JSON"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"", "application/json", 400, "not valid JSON"),
        (b'"just a string"', "application/json", 400, "JSON object"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b"<article/>", "application/xml", 415, "JSON"),
        (b"hello", "text/plain", 415, "JSON"),
        (b'{"title": "x"}', "application/json; charset=latin-1", 415, "UTF-8"),
    ],
)
def test_bodies_that_are_not_utf8_json_objects(api, data, content_type, status, words):
    r = _post_raw(api, data, content_type)
    assert r.status_code == status, r.text
    err = r.get_json()["error"]
    assert err["status"] == status and words in err["reason"]


def test_an_unusable_request_id_header_is_replaced(api):
    r = _post_raw(api, json.dumps(_article()).encode(), **{"X-Request-Id": "x" * 300})
    assert r.status_code == 202 and r.get_json()["request_id"] != "x" * 300
    ok = _post_raw(api, json.dumps(_article()).encode(), **{"X-Request-Id": "req-42"})
    assert ok.status_code == 202 and ok.get_json()["request_id"] == "req-42"


def test_body_above_the_limit_is_413_and_the_service_keeps_answering(api):
    r = _post_raw(api, json.dumps(_article(body="x" * (1 << 20))).encode())
    assert r.status_code == 413 and r.get_json()["error"]["status"] == 413 and r.get_json()["error"]["reason"]
    assert api.ingest.get("/healthz").status_code == 200 and api.query.get("/healthz").status_code == 200
