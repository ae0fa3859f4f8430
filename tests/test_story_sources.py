"""A story's sources (GET /v1/stories/{id}): every article ingested into it, in every state.

An article whose newest reading has no events (all it had are superseded), or whose events an
editor retracted, is still one of the story's sources; editors see it with its state. Fast
tier: the composition root on the embedded log and the memory store, through test clients.
"""

from __future__ import annotations

import time

from conftest import API_KEY

from services.query.schemas import StorySummarySchema

STORY = "quarry-permit"


def _article(n: int, body: str) -> dict:
    return {
        "id": f"quarry-{n}",
        "url": f"https://news.example.test/quarry/{n}",
        "title": f"Quarry permit dispute, part {n}",
        "body": body,
        "published_at": f"2025-08-0{n}T09:00:00Z",
        "outlet": "Sources Test Courier",
        "story_id": STORY,
    }


FIRST = _article(
    1,
    "Linnea Dorsey has claimed that the county hid the quarry noise study. "
    "The county clerk, Bram Ostrow, denied the claim on Monday.",
)
SECOND = _article(2, "Residents filed a complaint with the planning board over the quarry on Tuesday.")
FIRST_AGAIN = {**FIRST, "body": "The quarry was quiet this week, and the weather stayed mild."}


def _sources(api, want: dict[str, str], timeout: float = 20.0) -> dict[str, dict]:
    """The story's sources by article id, once their states are `want` (or time runs out)."""
    deadline, got = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        r = api.query.get(f"/v1/stories/{STORY}")
        if r.status_code == 200:
            body = r.get_json()
            assert StorySummarySchema().validate(body) == {}, StorySummarySchema().validate(body)
            got = {a["article_id"]: a for a in body["sources"]}
            if {k: a["state"] for k, a in got.items()} == want:
                return got
        time.sleep(0.05)
    raise AssertionError(f"sources never reached {want}: {got}")


def test_an_article_keeps_its_place_among_the_sources_in_every_state(api):
    first = api.post(FIRST).get_json()["events"]
    second = api.post(SECOND).get_json()["events"]
    assert first and second
    got = _sources(api, {"quarry-1": "current", "quarry-2": "current"})
    assert [got["quarry-1"]["events"], got["quarry-2"]["events"]] == [len(first), len(second)]

    # a newer text of the first article in which the extractor finds nothing: its events are superseded
    assert api.post(FIRST_AGAIN).status_code == 202
    got = _sources(api, {"quarry-1": "superseded", "quarry-2": "current"})
    assert got["quarry-1"]["events"] == 0
    assert got["quarry-1"]["url"] == FIRST["url"] and got["quarry-1"]["published_at"] == FIRST["published_at"]

    # an editor retracts every event of the second
    for ev in second:
        r = api.ingest.post(
            "/v1/corrections",
            headers={"X-API-Key": API_KEY},
            json={
                "story_id": STORY,
                "event_id": ev["event_id"],
                "action": "retract",
                "reason": "the complaint was withdrawn",
                "editor": "Sources desk",
            },
        )
        assert r.status_code == 202, r.text
    got = _sources(api, {"quarry-1": "superseded", "quarry-2": "retracted"})
    assert got["quarry-2"]["events"] == 0
    # oldest first, whatever the state
    body = api.query.get(f"/v1/stories/{STORY}").get_json()
    assert [a["article_id"] for a in body["sources"]] == ["quarry-1", "quarry-2"]
