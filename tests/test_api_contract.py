"""The HTTP contract of both services that the HTTP layer alone decides: the OpenAPI documents,
the error format, and the 400/404 answers to bad parameters (timeline, live streams, feed).

Fast tier: the apps the composition root builds on the embedded log and the memory store,
through Flask's test client. What the adapters answer (order, paging, as-of, ETags on a real
store) is tests/test_query_api.py's, on both backends.
"""

from __future__ import annotations

import pytest
from conftest import API_KEY

from shared.openapi import ErrorSchema

KEY = {"X-API-Key": API_KEY}
STORY = "canal-lock"


@pytest.fixture(scope="module")
def story(api):
    """One story with several entries, posted through ingest and projected."""
    posted = api.post(
        {
            "id": "contract-1",
            "url": "https://news.example.test/contract-1",
            "title": "Canal lock repair row",
            "body": "Perrin Ashdale has claimed that the canal trust hid the lock inspection. "
            "The trust chair, Wenna Colby, denied the claim on Wednesday. "
            "Perrin Ashdale filed a complaint with the waterways ombudsman on Thursday.",
            "published_at": "2025-07-04T09:00:00Z",
            "outlet": "Contract Test Post",
            "story_id": STORY,
        }
    )
    assert posted.status_code == 202, posted.text
    want = len(posted.get_json()["events"])
    assert want >= 2
    body = api.timeline(STORY, want=want)
    assert sum(len(e["provenance"]) for e in body["entries"]) == want and len(body["entries"]) >= 2, body
    return STORY


def test_timeline_bad_parameters_are_400_with_the_field(api, story):
    url = f"/v1/stories/{story}/timeline"
    cases = {
        "limit": "limit=0",
        "types": "types=gossip",
        "since": "since=March",
        "until": "since=2025-03-05&until=2025-03-01",
        "as_of": "as_of=2025-03-02T10:00:00",
        "include_retracted": "include_retracted=perhaps",
        "cursor": "cursor=not-a-cursor",
        "colour": "colour=red",
        "actor": "actor=a&actor=b",
    }
    for field, query in cases.items():
        r = api.query.get(f"{url}?{query}")
        assert r.status_code == 400, (field, r.text)
        err = r.get_json()["error"]
        assert err["status"] == 400 and field in err["fields"] and field in err["reason"], err
    # a cursor is bound to its query
    cursor = api.query.get(f"{url}?limit=1").get_json()["next_cursor"]
    assert cursor
    r = api.query.get(url, query_string={"limit": 1, "cursor": cursor, "actor": "Wenna Colby"})
    assert r.status_code == 400 and "different query" in r.get_json()["error"]["fields"]["cursor"][0]
    r = api.query.get("/v1/stories/no-such-story/timeline")
    assert r.status_code == 404 and r.get_json()["error"]["reason"] == "no story 'no-such-story'"


@pytest.mark.parametrize("path", ["/v1/stories/{s}", "/v1/stories/{s}/narrative", "/v1/stories/{s}/timelinejs"])
def test_other_story_reads_refuse_unknown_parameters_and_stories(api, story, path):
    r = api.query.get(path.format(s=story) + "?colour=red")
    assert r.status_code == 400 and "colour" in r.get_json()["error"]["fields"]
    r = api.query.get(path.format(s="no-such-story"))
    assert r.status_code == 404 and "no-such-story" in r.get_json()["error"]["reason"]


def test_stream_refuses_a_bad_last_event_id_and_story(api):
    r = api.query.get(f"/v1/stories/{STORY}/events", headers={"Last-Event-ID": "yesterday"})
    assert r.status_code == 400 and "last_event_id" in r.get_json()["error"]["fields"]
    r = api.query.get("/v1/events?story=no spaces")
    assert r.status_code == 400 and "story" in r.get_json()["error"]["fields"]
    r = api.query.get("/v1/stories/nothing-here/feed.atom")
    assert r.status_code == 404


# ---------------------------------------------------------------- OpenAPI


def test_openapi_documents_both_services(api):
    query = api.query.get("/openapi.json").get_json()
    ingest = api.ingest.get("/openapi.json").get_json()
    assert query["openapi"].startswith("3.") and ingest["openapi"].startswith("3.")
    timeline_op = query["paths"]["/v1/stories/{story_id}/timeline"]["get"]
    params = {p["name"]: p for p in timeline_op["parameters"]}
    assert {
        "story_id",
        "types",
        "actor",
        "since",
        "until",
        "include_retracted",
        "as_of",
        "limit",
        "cursor",
        "If-None-Match",
    } <= set(params)
    assert params["types"]["schema"]["items"]["enum"][0] == "allegation_made"
    assert params["limit"]["schema"]["maximum"] == 500
    assert set(timeline_op["responses"]) >= {"200", "304", "400", "404", "500"}
    assert timeline_op["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    ok = timeline_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    entry_ref = query["components"]["schemas"][ok]["properties"]["entries"]["items"]["$ref"].rsplit("/", 1)[1]
    assert "provenance" in query["components"]["schemas"][entry_ref]["properties"]
    assert set(query["paths"]) == {
        "/healthz",
        "/readyz",
        "/v1/stories",
        "/v1/stories/{story_id}",
        "/v1/stories/{story_id}/timeline",
        "/v1/stories/{story_id}/narrative",
        "/v1/stories/{story_id}/timelinejs",
        "/v1/stories/{story_id}/events",
        "/v1/events",
        "/v1/stories/{story_id}/feed.atom",
    }
    live = query["paths"]["/v1/stories/{story_id}/events"]["get"]
    assert set(live["responses"]["200"]["content"]) == {"text/event-stream"}
    assert "Last-Event-ID" in {p["name"] for p in live["parameters"]} and "entry_corrected" in live["description"]
    assert set(query["paths"]["/v1/stories/{story_id}/feed.atom"]["get"]["responses"]["200"]["content"]) == {
        "application/atom+xml"
    }
    narrative = query["paths"]["/v1/stories/{story_id}/narrative"]["get"]["responses"]["200"]["content"]
    assert set(narrative) == {"text/markdown", "text/plain"}
    stories = {p["name"] for p in query["paths"]["/v1/stories"]["get"]["parameters"]}
    assert {"q", "actor", "type", "limit", "cursor"} <= stories
    post = ingest["paths"]["/v1/articles"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"url", "title", "body", "published_at", "outlet"} <= set(
        ingest["components"]["schemas"][body_ref]["required"]
    )
    assert {"202", "401", "422"} <= set(post["responses"])
    assert "requestBody" in ingest["paths"]["/v1/corrections"]["post"]
    for doc_ in (query, ingest):
        assert doc_["components"]["schemas"]["Error"]["properties"]["error"]
    # the documented error format is the one served
    for err in (
        api.query.get("/v1/stories?limit=x").get_json(),
        api.ingest.post("/v1/articles", json={"title": 1}, headers=KEY).get_json(),
        api.ingest.post("/v1/articles", json={}).get_json(),
    ):
        assert ErrorSchema().validate(err) == {}, err
