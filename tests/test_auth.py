"""Writes need a valid X-API-Key; several keys are valid at once (rotation); reads are public.

The check is the ingest app's (shared/http.py require_api_key), so it runs in the fast tier on
the apps the composition root builds, through Flask's test client.
"""

from __future__ import annotations

import pytest
from conftest import API_KEY, NEXT_API_KEY, Api, api_env

ARTICLE = {
    "id": "auth-1",
    "url": "https://news.example.test/auth-1",
    "title": "Depot plan questioned",
    "body": "Ilsa Brenn has claimed that the depot plan ignored the flood survey. "
    "The planning chief, Tobias Quill, denied the claim on Friday.",
    "published_at": "2025-06-03T08:00:00Z",
    "outlet": "Auth Test Herald",
    "story_id": "depot-plan",
}
CORRECTION = {
    "story_id": "depot-plan",
    "event_id": "no-such-event",
    "action": "retract",
    "reason": "checking the key comes first",
    "editor": "Desk",
}


@pytest.mark.parametrize("path, body", [("/v1/articles", ARTICLE), ("/v1/corrections", CORRECTION)])
def test_writes_without_a_valid_key_are_401_with_the_reason(api, path, body):
    no_key = api.ingest.post(path, json=body)
    wrong = api.ingest.post(path, json=body, headers={"X-API-Key": "x" * 24})
    near = api.ingest.post(path, json=body, headers={"X-API-Key": API_KEY[:-1]})
    assert (no_key.status_code, wrong.status_code, near.status_code) == (401, 401, 401)
    assert no_key.get_json()["error"] == {"status": 401, "reason": "missing X-API-Key header"}
    assert wrong.get_json()["error"]["reason"] == near.get_json()["error"]["reason"] == "invalid API key"
    # refused before the body is read: an invalid body with no key is still a 401, not a 422
    assert api.ingest.post(path, json={"title": 1}).status_code == 401
    # a refused request still carries a request id
    assert no_key.headers["X-Request-Id"]


def test_rotation_keeps_both_keys_valid_and_reads_stay_public(api):
    assert api.post(ARTICLE, key=API_KEY).status_code == 202
    assert api.post(ARTICLE, key=NEXT_API_KEY).status_code == 202
    for path in ("/v1/stories", "/healthz", "/openapi.json"):
        assert api.query.get(path).status_code == 200, path
    assert api.ingest.get("/openapi.json").status_code == 200


def test_a_rotated_out_key_is_refused(tmp_path):
    rotated = Api(api_env(tmp_path, STORYLINE_API_KEYS="only-the-new-key-0123456789"))
    try:
        r = rotated.post(ARTICLE, key=API_KEY)
        assert r.status_code == 401 and r.get_json()["error"]["reason"] == "invalid API key"
        assert rotated.post(ARTICLE, key="only-the-new-key-0123456789").status_code == 202
    finally:
        rotated.close()


def test_with_no_keys_configured_writes_are_disabled(tmp_path):
    keyless = Api(api_env(tmp_path, STORYLINE_API_KEYS=""))
    try:
        r = keyless.post(ARTICLE, key=API_KEY)
        assert r.status_code == 401 and "no API keys are configured" in r.get_json()["error"]["reason"]
        assert keyless.query.get("/v1/stories").status_code == 200
    finally:
        keyless.close()
