"""A re-post of a known article adds a `reading_replaced` to the events topic only when its
reading would change the timeline; while the projection lags it is published regardless.

Fast tier: ingest and query built at the composition root on the embedded log and the memory
store, through test clients; the projector is driven batch by batch (run_once), so "caught up"
and "lagging" are exact. What is published is read back from the events topic.
"""

from __future__ import annotations

import pytest
from conftest import Api, api_env

from services import bootstrap
from shared.domain import events

STORY = "tramline-fares"
ARTICLE = {
    "id": "tram-1",
    "url": "https://news.example.test/tram-1",
    "title": "Tramline fares row",
    "body": "Odile Marsh has claimed that the transit board hid the fare review. "
    "The board chair, Kasimir Lund, denied the claim on Thursday.",
    "published_at": "2025-09-04T09:00:00Z",
    "outlet": "Repost Test Times",
    "story_id": STORY,
}
# the same article with a different text: one more event (a complaint)
REVISED = {
    **ARTICLE,
    "body": ARTICLE["body"] + " Odile Marsh filed a complaint with the transport ombudsman on Friday.",
}


class Ingest(Api):
    """Api without the projector thread: the test runs the projector's batches itself."""

    def __init__(self, env: dict):
        super().__init__(env, roles=("ingest", "query"))
        self.projector = bootstrap.open_projector(self.settings, store=self.parts.store)

    def project(self) -> None:
        """Apply everything the events topic holds."""
        while self.projector.run_once(timeout_ms=200):
            pass

    def readings(self) -> list[dict]:
        """The reading_replaced events of the events topic, in log order."""
        out = [events.decode(m.value) for m in self.parts.log.read("beginning")]
        return [e for e in out if e["event_type"] == "reading_replaced"]

    def close(self):
        self.projector.consumer.close()
        super().close()


@pytest.fixture
def ingest(tmp_path):
    one = Ingest(api_env(tmp_path))
    yield one
    one.close()


def _cited(api) -> set[str]:
    body = api.query.get(f"/v1/stories/{STORY}/timeline").get_json()
    return {p["event_id"] for e in body["entries"] for p in e["provenance"]}


def test_an_unchanged_repost_publishes_no_reading(ingest):
    first = ingest.post(ARTICLE)
    assert first.status_code == 202, first.text
    ingest.project()
    assert _cited(ingest) == {e["event_id"] for e in first.get_json()["events"]}

    again = ingest.post(ARTICLE)
    assert again.status_code == 202 and again.get_json()["delivery"] == "published"
    assert [e["event_id"] for e in again.get_json()["events"]] == [e["event_id"] for e in first.get_json()["events"]]
    assert ingest.readings() == []

    # a text with other events does get its reading, and the timeline follows
    revised = ingest.post(REVISED)
    assert len(ingest.readings()) == 1
    ingest.project()
    assert _cited(ingest) == {e["event_id"] for e in revised.get_json()["events"]} != _cited_of(first)
    # posting the revised text once more, once it is projected, adds nothing
    ingest.post(REVISED)
    assert len(ingest.readings()) == 1


def _cited_of(response) -> set[str]:
    return {e["event_id"] for e in response.get_json()["events"]}


def test_while_the_projection_lags_a_repost_is_published(ingest):
    """The projection holds the first text; the revised one is in the log, not yet applied. A
    re-post of the first text must be published, or the revised text would win although it
    came earlier."""
    first = ingest.post(ARTICLE)
    ingest.project()
    ingest.post(REVISED)  # not projected
    ingest.post(ARTICLE)
    assert len(ingest.readings()) == 2
    ingest.project()
    assert _cited(ingest) == _cited_of(first)
