"""The query API through HTTP, on both backends (embedded, and real Kafka + MongoDB-wire).

Events are published as the wire contract (shared.domain.events) to the log, so dates, sources and
ingest times are known exactly; the projector turns them into the read model as in production.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from conftest import API_KEY

from services.query import schemas
from shared.domain import events
from shared.ports import Record

STORY = "gov-row"
TITLES = {
    STORY: "Row over the ministry",
    "harbour-row": "Harbour dredging dispute",
    "sewer.*-row": "Sewer works apology",
    "busy-day": "A crowded day",
}


def event(
    n: int,
    event_type: str,
    actor: str,
    *,
    occurred: str | None,
    published: str,
    recorded: str,
    article: str = "a1",
    target: str | None = None,
    precision: str | None = "day",
    story: str = STORY,
    confidence: float = 0.7,
    outlet: str = "Daily Test",
) -> dict:
    sentence = f"Sentence {n}: {actor} {event_type.replace('_', ' ')}."
    return {
        "event_id": f"{story}-ev-{n:04d}",
        "event_type": event_type,
        "schema_version": events.SCHEMA_VERSION,
        "story_id": story,
        "occurred_at": occurred,
        "occurred_precision": precision if occurred else None,
        "published_at": published,
        "recorded_at": recorded,
        "actor": {"name": actor, "kind": "person"},
        "target": {"name": target, "kind": "organisation"} if target else None,
        "quote": None,
        "summary": f"{actor}: event {n}",
        "details": {},
        "source": {
            "article_id": article,
            "url": f"https://news.example.test/{article}",
            "outlet": outlet,
            "title": f"{TITLES[story]} ({article})",
            "sentence": sentence,
            "char_start": 0,
            "char_end": len(sentence),
        },
        "extractor": {"version": "rules-test", "confidence": confidence},
    }


# In log order. e1 and e2 are one real-world event reported by two articles (one entry).
EVENTS = [
    event(
        1,
        "allegation_made",
        "Jane Doe",
        target="Ministry of Tests",
        occurred="2025-03-01",
        published="2025-03-02T09:00:00Z",
        recorded="2025-03-02T10:00:00.000Z",
    ),
    event(
        2,
        "allegation_made",
        "Jane Doe",
        target="Ministry of Tests",
        occurred="2025-03-01",
        published="2025-03-03T08:00:00Z",
        recorded="2025-03-03T09:00:00.000Z",
        article="a2",
        outlet="Other Times",
        confidence=0.9,
    ),
    event(
        3,
        "rebuttal_given",
        "John Roe",
        target="Jane Doe",
        occurred="2025-03-02",
        published="2025-03-02T09:00:00Z",
        recorded="2025-03-02T10:00:00.000Z",
    ),
    event(
        4,
        "post_deleted",
        "John Roe",
        occurred=None,
        published="2025-03-02T09:00:00Z",
        recorded="2025-03-02T10:00:00.000Z",
    ),
    event(
        5,
        "complaint_filed",
        "Jane Doe",
        occurred="2025-03-05",
        published="2025-03-06T07:00:00Z",
        recorded="2025-03-06T08:00:00.000Z",
        article="a3",
    ),
    event(
        6,
        "statement_made",
        "Jane Doe",
        occurred="2025-02-01",
        precision="month",
        published="2025-03-06T07:00:00Z",
        recorded="2025-03-06T08:00:00.000Z",
        article="a3",
    ),
    # same day as e3, published earlier: publication time breaks the tie
    event(
        7,
        "statement_made",
        "Ministry of Tests",
        occurred="2025-03-02",
        published="2025-03-01T18:00:00Z",
        recorded="2025-03-06T08:00:00.000Z",
        article="a0",
    ),
    # between e1 and e2 in the order: the merged entry's members straddle it
    event(
        10,
        "rebuttal_given",
        "Ministry of Tests",
        occurred="2025-03-01",
        published="2025-03-02T12:00:00Z",
        recorded="2025-03-06T08:00:00.000Z",
        article="a4",
    ),
    # identical times: the log position breaks the tie (e9 is published to the log first, below)
    event(
        9,
        "investigation_opened",
        "Police",
        occurred="2025-03-05",
        published="2025-03-06T07:00:00Z",
        recorded="2025-03-06T08:00:00.000Z",
        article="a3",
    ),
    event(
        8,
        "apology_issued",
        "John Roe",
        occurred="2025-03-05",
        published="2025-03-06T07:00:00Z",
        recorded="2025-03-06T08:00:00.000Z",
        article="a3",
    ),
]
# The documented order, by event id number (entry of e1+e2 shown as 1).
EXPECTED_ORDER = [6, 1, 10, 7, 3, 4, 5, 9, 8]
OTHER = [
    event(
        20,
        "allegation_made",
        "Zed Quill",
        target="Harbour Board",
        occurred="2025-01-10",
        published="2025-01-11T09:00:00Z",
        recorded="2025-01-11T10:00:00.000Z",
        story="harbour-row",
        article="h1",
    ),
    event(
        21,
        "apology_issued",
        "Amy (Chair) Stone",
        occurred="2025-01-12",
        published="2025-01-12T09:00:00Z",
        recorded="2025-03-09T10:00:00.000Z",
        story="sewer.*-row",
        article="s1",
    ),
]


def publish(system, evs: list[dict]) -> None:
    for ev in evs:  # one at a time keeps the log order exactly as listed
        system.log.publish([Record(ev["story_id"], events.encode(ev))])


def wait_cited(system, story: str, want: int, **params) -> dict:
    body = system.timeline(story, want=want, **params)
    assert sum(len(e["provenance"]) for e in body["entries"]) >= want, body
    return body


@pytest.fixture
def loaded(system):
    publish(system, EVENTS + OTHER)
    wait_cited(system, STORY, len(EVENTS), limit=500)
    wait_cited(system, "harbour-row", 1)
    wait_cited(system, "sewer.*-row", 1)
    return system


def get(system, path: str, **params) -> requests.Response:
    return requests.get(f"{system.query_url}{path}", params=params, timeout=10)


def number(entry: dict) -> int:
    return min(int(p["event_id"].rsplit("-", 1)[1]) for p in entry["provenance"])


# ---------------------------------------------------------------- timeline


def test_timeline_is_in_the_documented_order_with_provenance(loaded):
    r = get(loaded, f"/v1/stories/{STORY}/timeline")
    assert r.status_code == 200
    body = r.json()
    assert schemas.TimelinePageSchema().validate(body) == {}
    assert [number(e) for e in body["entries"]] == EXPECTED_ORDER
    assert "event time" in body["order"] and "publication time" in body["order"] and "log position" in body["order"]
    assert "responds to" in body["order"]
    merged = body["entries"][1]
    assert [p["article_id"] for p in merged["provenance"]] == ["a1", "a2"]
    assert [p["sentence"] for p in merged["provenance"]] == [
        "Sentence 1: Jane Doe allegation made.",
        "Sentence 2: Jane Doe allegation made.",
    ]
    assert {p["extractor_version"] for p in merged["provenance"]} == {"rules-test"}
    assert [p["confidence"] for p in merged["provenance"]] == [0.7, 0.9] and merged["confidence"] == 0.9
    assert merged["target"] == {"name": "Ministry of Tests", "kind": "organisation"}
    undated = body["entries"][5]
    assert (number(undated), undated["dated"], undated["occurred_at"]) == (4, False, None)
    assert all(e["dated"] for e in body["entries"] if number(e) != 4)
    assert body["entries"][0]["occurred_precision"] == "month"
    assert body["next_cursor"] is None and body["as_of"] is None
    assert body["freshness"]["generation"] == 1
    assert sum(body["freshness"]["positions"].values()) == len(EVENTS) + len(OTHER)
    assert r.headers["X-Storyline-Position"] == body["freshness"]["position"]


def test_timeline_filters(loaded):
    def numbers(**params):
        r = get(loaded, f"/v1/stories/{STORY}/timeline", **params)
        assert r.status_code == 200, r.text
        return [number(e) for e in r.json()["entries"]]

    assert numbers(types="statement_made") == [6, 7]
    assert numbers(types="statement_made,rebuttal_given") == [6, 10, 7, 3]
    assert numbers(types=["statement_made", "post_deleted"]) == [6, 7, 4]
    assert numbers(actor="john roe") == [3, 4, 8]
    assert numbers(actor="John") == []  # exact name, not a substring
    assert numbers(since="2025-03-02") == [7, 3, 4, 5, 9, 8]  # the undated e4 counts by its publication day
    assert numbers(until="2025-03-01") == [6, 1, 10]
    assert numbers(since="2025-03-02", until="2025-03-02") == [7, 3, 4]
    assert numbers(since="2025-03-02", until="2025-03-05", actor="Jane Doe", types="complaint_filed") == [5]


def test_timeline_cursor_pages_cover_everything_once(loaded):
    for limit in (1, 2, 3):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            body = get(loaded, f"/v1/stories/{STORY}/timeline", **params).json()
            assert len(body["entries"]) <= limit
            seen += [number(e) for e in body["entries"]]
            # the merged entry always arrives whole
            assert all(len(e["provenance"]) == 2 for e in body["entries"] if number(e) == 1)
            pages += 1
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert seen == EXPECTED_ORDER and pages == -(-len(EXPECTED_ORDER) // limit)
    # a filtered walk
    first = get(loaded, f"/v1/stories/{STORY}/timeline", limit=1, actor="Jane Doe").json()
    second = get(loaded, f"/v1/stories/{STORY}/timeline", limit=5, actor="Jane Doe", cursor=first["next_cursor"]).json()
    assert [number(e) for e in first["entries"] + second["entries"]] == [6, 1, 5]


def test_paging_through_a_crowded_day(system):
    """More events on one day than a page scans at once, several articles reporting the same events."""
    story = "busy-day"
    evs = [
        event(
            100 + i,
            "statement_made" if i % 3 else "allegation_made",
            f"Speaker {i % 7}",
            occurred="2025-04-01",
            published=f"2025-04-0{1 + i % 3}T{i % 24:02d}:00:00Z",
            recorded="2025-04-03T00:00:00.000Z",
            article=f"b{i % 3}",
            story=story,
        )
        for i in range(40)
    ]
    evs.append(
        event(
            200,
            "post_deleted",
            "Speaker 1",
            occurred=None,
            published="2025-04-01T05:00:00Z",
            recorded="2025-04-03T00:00:00.000Z",
            story=story,
        )
    )
    publish(system, evs)
    whole = wait_cited(system, story, len(evs), limit=500)["entries"]
    assert sum(len(e["provenance"]) for e in whole) == len(evs) and len(whole) < len(evs)  # some merged
    for limit in (1, 2, 5):
        seen, cursor = [], None
        while True:
            body = get(
                system, f"/v1/stories/{story}/timeline", limit=limit, **({"cursor": cursor} if cursor else {})
            ).json()
            seen += [(e["entry_id"], len(e["provenance"])) for e in body["entries"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert seen == [(e["entry_id"], len(e["provenance"])) for e in whole], limit


def test_as_of_shows_what_had_been_ingested_by_then(loaded):
    url = f"/v1/stories/{STORY}/timeline"

    def cited(as_of):
        body = get(loaded, url, as_of=as_of).json()
        assert body["as_of"] == as_of.replace("2025-03-03T10:00:00+01:00", "2025-03-03T09:00:00.000Z")  # in UTC
        return [(number(e), len(e["provenance"])) for e in body["entries"]]

    assert cited("2025-03-01T00:00:00.000Z") == []
    # before a2 was ingested, the allegation had one source; e5..e9 were not known yet
    assert cited("2025-03-02T12:00:00.000Z") == [(1, 1), (3, 1), (4, 1)]
    assert cited("2025-03-03T09:00:00.000Z") == [(1, 2), (3, 1), (4, 1)]
    # other time zones name the same instant
    assert cited("2025-03-03T10:00:00+01:00") == [(1, 2), (3, 1), (4, 1)]
    # as_of is ingest time; since/until are event time: they combine
    body = get(loaded, url, as_of="2025-03-03T09:00:00.000Z", since="2025-03-02").json()
    assert [number(e) for e in body["entries"]] == [3, 4]
    paged = get(loaded, url, as_of="2025-03-03T09:00:00.000Z", limit=2).json()
    rest = get(loaded, url, as_of="2025-03-03T09:00:00.000Z", limit=2, cursor=paged["next_cursor"]).json()
    assert [number(e) for e in paged["entries"] + rest["entries"]] == [1, 3, 4] and rest["next_cursor"] is None


def _post_correction(system, event_id: str, action: str, changes: dict, reason: str) -> str:
    """An editor's correction through the ingest API; returns when it was recorded."""
    r = requests.post(
        f"{system.ingest_url}/v1/corrections",
        headers={"X-API-Key": API_KEY},
        timeout=10,
        json={
            "story_id": STORY,
            "event_id": event_id,
            "action": action,
            "changes": changes,
            "reason": reason,
            "editor": "Desk",
        },
    )
    assert r.status_code == 202, r.text
    return r.json()["event"]["recorded_at"]


def _until(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := predicate():
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_corrections_and_retractions_change_the_timeline_and_as_of_undoes_them(loaded):
    url = f"/v1/stories/{STORY}/timeline"
    numbers = lambda entries: [number(e) for e in entries]  # noqa: E731
    corrected_at = _post_correction(
        loaded,
        f"{STORY}-ev-0005",
        "correct",
        {"occurred_at": "2025-03-04", "summary": "Jane Doe: complaint, corrected date"},
        "wrong date",
    )
    _until(
        lambda: (
            numbers(get(loaded, url).json()["entries"]) == [6, 1, 10, 7, 3, 4, 5, 9, 8]
            and next(e for e in get(loaded, url).json()["entries"] if number(e) == 5)["status"] == "corrected"
        ),
        "the correction",
    )
    retracted_at = _post_correction(loaded, f"{STORY}-ev-0003", "retract", {}, "source withdrew")
    assert retracted_at > corrected_at
    now = _until(lambda: (b := get(loaded, url).json()["entries"]) and 3 not in numbers(b) and b, "the retraction")

    assert numbers(now) == [6, 1, 10, 7, 4, 5, 9, 8]  # e3 hidden, e5 moved to 4 March
    fixed = next(e for e in now if number(e) == 5)
    assert (fixed["status"], fixed["occurred_at"], fixed["summary"]) == (
        "corrected",
        "2025-03-04",
        "Jane Doe: complaint, corrected date",
    )
    change = fixed["provenance"][0]["corrections"][0]
    assert (change["kind"], change["reason"], change["editor"]) == ("corrected", "wrong date", "Desk")
    assert change["previous"]["occurred_at"] == "2025-03-05"

    shown = get(loaded, url, include_retracted="true").json()["entries"]
    gone = next(e for e in shown if number(e) == 3)
    assert gone["status"] == "retracted" and gone["retracted"] is True
    assert numbers(shown) == [6, 1, 10, 7, 3, 4, 5, 9, 8]

    # as known before the correction: the original date, summary and place; e3 not yet retracted
    before = get(loaded, url, as_of="2025-03-09T00:00:00.000Z").json()["entries"]
    assert numbers(before) == EXPECTED_ORDER
    old = next(e for e in before if number(e) == 5)
    assert (old["status"], old["occurred_at"], old["summary"]) == ("active", "2025-03-05", "Jane Doe: event 5")
    assert old["provenance"][0]["corrections"] == []
    # between the two: corrected, not yet retracted
    between = get(loaded, url, as_of=corrected_at).json()["entries"]
    assert numbers(between) == [6, 1, 10, 7, 3, 4, 5, 9, 8]
    assert next(e for e in between if number(e) == 5)["occurred_at"] == "2025-03-04"
    assert next(e for e in between if number(e) == 3)["status"] == "active"
    # the narrative follows the same rules
    text = requests.get(
        f"{loaded.query_url}/v1/stories/{STORY}/narrative",
        headers={"Accept": "text/plain"},
        params={"include_retracted": "true"},
        timeout=10,
    ).text
    assert "[retracted] Answering Jane Doe's allegation, John Roe rejected" not in text
    assert "[retracted] John Roe rejected Jane Doe's allegation (Daily Test)." in text
    assert (
        "Retracted on " in text
        and "by Desk: John Roe rejected Jane Doe's allegation (Daily Test), because source withdrew." in text
    )
    assert "4 March 2025. Jane Doe filed a complaint (Daily Test)." in text
    assert "by Desk: the date changed from 2025-03-05 to 2025-03-04 and the summary changed from" in text


# ---------------------------------------------------------------- stories


def test_story_list_search_filters_and_paging(loaded):
    def ids(**params):
        r = get(loaded, "/v1/stories", **params)
        assert r.status_code == 200, r.text
        assert schemas.StoriesPageSchema().validate(r.json()) == {}
        return [s["story_id"] for s in r.json()["stories"]]

    # newest activity first: last_recorded_at 2025-03-09, 2025-03-06, 2025-01-11
    assert ids() == ["sewer.*-row", STORY, "harbour-row"]
    assert ids(q="ministry") == [STORY]  # title
    assert ids(q="QUILL") == ["harbour-row"]  # an actor, any case
    assert ids(q="harbour board") == ["harbour-row"]  # a target
    assert ids(q="(chair)") == ["sewer.*-row"]  # punctuation is literal
    assert ids(q=".*") == ["sewer.*-row"]  # not a regular expression
    assert ids(q="nothing like this") == []
    assert ids(actor="jane doe") == [STORY]
    assert ids(actor="Ministry of Tests") == [STORY]  # acted in e7
    assert ids(actor="Harbour Board") == []  # only ever a target
    assert ids(type="apology_issued") == ["sewer.*-row", STORY]
    seen, cursor = [], None
    while True:
        body = get(loaded, "/v1/stories", limit=1, **({"cursor": cursor} if cursor else {})).json()
        seen += [s["story_id"] for s in body["stories"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ["sewer.*-row", STORY, "harbour-row"]
    for params, field in (
        ({"limit": "x"}, "limit"),
        ({"type": "rumour"}, "type"),
        ({"q": ""}, "q"),
        ({"cursor": "AAAA"}, "cursor"),
        ({"q[$ne]": "x"}, "q[$ne]"),
    ):
        r = get(loaded, "/v1/stories", **params)
        assert r.status_code == 400 and field in r.json()["error"]["fields"], r.text


def test_story_summary(loaded):
    r = get(loaded, f"/v1/stories/{STORY}")
    assert r.status_code == 200
    s = r.json()
    assert schemas.StorySummarySchema().validate(s) == {}
    assert s["title"] == "Row over the ministry (a0)"
    roles = {p["name"]: sorted(p["roles"]) for p in s["participants"]}
    assert roles == {
        "Jane Doe": ["actor", "target"],
        "John Roe": ["actor"],
        "Ministry of Tests": ["actor", "target"],
        "Police": ["actor"],
    }
    assert s["counts"] == {
        "allegation_made": 2,
        "rebuttal_given": 2,
        "post_deleted": 1,
        "complaint_filed": 1,
        "statement_made": 2,
        "investigation_opened": 1,
        "apology_issued": 1,
    }
    assert (s["first_date"][:10], s["last_date"][:10]) == ("2025-02-01", "2025-03-05")
    assert [a["article_id"] for a in s["sources"]] == ["a0", "a1", "a4", "a2", "a3"]  # by publication
    assert s["sources"][1]["url"] == "https://news.example.test/a1"
    assert s["freshness"]["position"] == r.headers["X-Storyline-Position"]
    assert get(loaded, "/v1/stories/nope").status_code == 404


# ---------------------------------------------------------------- narrative and TimelineJS


def test_narrative_as_markdown_or_plain_text(loaded):
    url = f"{loaded.query_url}/v1/stories/{STORY}/narrative"
    md = requests.get(url, timeout=10)
    assert md.status_code == 200 and md.headers["Content-Type"].startswith("text/markdown")
    assert md.text.startswith("# Row over the ministry (a0)\n")  # the earliest article's title
    paragraphs = [p for p in md.text.split("\n\n") if p.startswith("**")]
    assert [p.split(".**")[0] for p in paragraphs] == [
        "**February 2025",
        "**1 March 2025",
        "**2 March 2025",
        "**5 March 2025",
    ]
    # one sentence per entry, in the timeline's order; the merged entry cites both articles
    assert paragraphs[1].startswith(
        "**1 March 2025.** Jane Doe accused the Ministry of Tests "
        "([Daily Test](https://news.example.test/a1), [Other Times](https://news.example.test/a2)). "
        "In response, the Ministry of Tests rejected the allegation"
    )
    assert paragraphs[2].startswith("**2 March 2025.** The next day, the Ministry of Tests made a statement")
    assert (
        "A post by John Roe was deleted ([Daily Test](https://news.example.test/a1); _date not reported_)."
        in paragraphs[2]
    )
    lead = md.text.split("\n\n")[1]
    assert lead.startswith("Between February and 5 March 2025, Jane Doe accused the Ministry of Tests.")
    assert "Reported by 2 outlets (Daily Test and Other Times), 9 events in all." in lead

    plain = requests.get(url, headers={"Accept": "text/plain"}, timeout=10)
    assert plain.headers["Content-Type"].startswith("text/plain")
    body = plain.text.splitlines()
    assert body[0] == "Row over the ministry (a0)" and "**" not in plain.text
    assert "1 March 2025. Jane Doe accused the Ministry of Tests (Daily Test, Other Times)." in plain.text
    assert "- Daily Test: Row over the ministry (a0) <https://news.example.test/a0>" in body
    as_of = requests.get(url, params={"as_of": "2025-03-02T12:00:00Z"}, headers={"Accept": "text/plain"}, timeout=10)
    assert [p.split(".")[0] for p in as_of.text.split("\n\n") if re.match(r"\d+ \w+ \d{4}\. ", p)] == [
        "1 March 2025",
        "2 March 2025",
    ]
    assert "3 events from 1 outlet, in the order they happened, as known at 2025-03-02T12:00:00.000Z." in as_of.text
    refused = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
    assert refused.status_code == 406 and refused.json()["error"]["status"] == 406


def test_timelinejs_format(loaded):
    r = get(loaded, f"/v1/stories/{STORY}/timelinejs")
    assert r.status_code == 200
    doc = r.json()
    assert schemas.TimelineJSSchema().validate(doc) == {} and set(doc) == {"title", "events"}
    assert doc["title"]["text"]["headline"] == "Row over the ministry (a0)"
    evs = doc["events"]
    assert len(evs) == len(EXPECTED_ORDER) and len({e["unique_id"] for e in evs}) == len(evs)
    assert evs[0]["start_date"] == {"year": 2025, "month": 2}  # month precision: no day
    assert evs[1]["start_date"] == {"year": 2025, "month": 3, "day": 1}
    assert evs[1]["group"] == "allegation made"
    assert 'href="https://news.example.test/a2"' in evs[1]["text"]["text"]
    assert (
        evs[5]["display_date"]
        == "2 March 2025 (inferred: date not reported; placed on the day it was first reported (2 March 2025))"
    )
    assert evs[5]["start_date"] == {"year": 2025, "month": 3, "day": 2}
    assert evs[1]["text"]["text"].startswith("<p>Jane Doe accused the Ministry of Tests.</p>")
    by_actor = get(loaded, f"/v1/stories/{STORY}/timelinejs", group="actor").json()
    assert [e["group"] for e in by_actor["events"]][:3] == ["Jane Doe", "Jane Doe", "Ministry of Tests"]
    assert get(loaded, f"/v1/stories/{STORY}/timelinejs", group="colour").status_code == 400


# ---------------------------------------------------------------- freshness and ETags


@pytest.mark.parametrize(
    "path,variant",
    [
        (f"/v1/stories/{STORY}/timeline", {"limit": 3}),
        (f"/v1/stories/{STORY}", None),
        ("/v1/stories", {"limit": 3}),
        (f"/v1/stories/{STORY}/narrative", {"actor": "Jane Doe"}),
        (f"/v1/stories/{STORY}/timelinejs", {"group": "actor"}),
    ],
)
def test_etag_holds_until_the_projection_moves(loaded, path, variant):
    url = f"{loaded.query_url}{path}"
    first = requests.get(url, timeout=10)
    etag, position = first.headers["ETag"], first.headers["X-Storyline-Position"]
    assert etag.startswith('W/"') and position.startswith("g1;")
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.content
    if variant:  # another request, another tag
        assert requests.get(url, params=variant, headers={"If-None-Match": etag}, timeout=10).status_code == 200
    else:
        assert requests.get(url, params={"limit": 3}, timeout=10).status_code == 400  # takes no parameters
    publish(
        loaded,
        [
            event(
                30,
                "statement_made",
                "Late Voice",
                occurred="2025-03-07",
                published="2025-03-08T09:00:00Z",
                recorded="2025-03-08T10:00:00.000Z",
            )
        ],
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        moved = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
        if moved.status_code == 200:
            break
        time.sleep(0.2)
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    assert moved.headers["X-Storyline-Position"] != position
