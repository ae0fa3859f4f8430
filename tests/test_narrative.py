"""Issue 12 through HTTP: one entry per real-world event across articles, causal order in the
timeline, the narrative and the TimelineJS export, the story's lead, and a rebuild that gives
the same entries.

The seed story's extra reports are our own sentences; the names in them are read from the
sample corpus (its gold and the seed's own extraction), never written here.
"""

from __future__ import annotations

import re

import requests

from services.query import schemas
from services.timeline.rebuild import rebuild

# Two more outlets' reports of the seed story, worded differently: {names} come from the corpus.
SECOND_REPORT = (
    "{accuser}'s campaign lodged a complaint with the {body} on Tuesday over unlawful donations in "
    "kind. On Monday, {accuser_short} had accused the {party} of meddling in the race.\n"
    "{rebutter} dismissed the accusation on Wednesday, saying that supporters were travelling of their "
    "own accord."
)
THIRD_REPORT = (
    "{accuser} accused {party_short} of meddling in the American vote. The {accuser_short} campaign "
    "filed its complaint with the {abbr} last week.\n{rebutter} denied the claims again on Sunday, "
    "telling reporters that no rules had been broken."
)
# A different event by the same actor: a complaint to another body, days later.
FOURTH_REPORT = (
    "The {accuser_short} campaign filed a complaint with the Clearwater County Elections Office on "
    "Saturday, its second in a week."
)

# The README's example article (the project's own text).
README_ARTICLE = {
    "url": "https://news.example.test/a1",
    "title": "Minister denies claims",
    "outlet": "Example",
    "published_at": "2025-03-14T09:00:00Z",
    "story_id": "minister-row",
    "body": "Jane Doe has claimed that the ministry hid the report. The minister, John Roe, denied the claim on Tuesday.",
}

# Three articles of one story on different days; dated and undated events interleave (our own text).
CANAL = [
    {
        "id": "canal-1",
        "published_at": "2025-06-02T08:00:00Z",
        "outlet": "Towpath Times",
        "body": "Councillor Mara Sandqvist has accused the Fenmoor Canal Trust of hiding the cost of lock repairs. "
        "Separately, the Wharfside Residents Association filed a complaint with the regional ombudsman about "
        "towpath closures on Monday.",
    },
    {
        "id": "canal-2",
        "published_at": "2025-06-04T08:00:00Z",
        "outlet": "Lockside Gazette",
        "body": "The Fenmoor Canal Trust rejected the allegation on Tuesday, calling it baseless.",
    },
    {
        "id": "canal-3",
        "published_at": "2025-06-06T08:00:00Z",
        "outlet": "Towpath Times",
        "body": "Boatowners have claimed that the Fenmoor Canal Trust ignored safety warnings about the locks. The "
        "trust’s chair, Owen Fairbairn, denied the claim on Thursday. The trust has also deleted a Facebook "
        "post about the repairs.",
    },
]


def _post(system, article: dict) -> dict:
    r = system.post(article)
    assert r.status_code == 202, r.text
    return r.json()


def _get(system, path: str, **kw) -> requests.Response:
    r = requests.get(f"{system.query_url}{path}", timeout=30, **kw)
    assert r.status_code == 200, r.text
    return r


def _seed_names(corpus: dict, seed: dict, seed_events: list[dict]) -> dict:
    gold = corpus["gold"]["seed"]["required"]
    actors = [g["actor"] for g in gold]
    accuser = next(g["actor"] for g in gold if g["type"] == "allegation_made")
    rebutters = [g["actor"] for g in gold if g["type"] == "rebuttal_given"]
    body = next(e["details"]["body"] for e in seed_events if e["event_type"] == "complaint_filed")
    # the body's full name and the short form the seed spells out after it
    long_body, abbr = re.search(r"((?:[A-Z]\w+ )+[A-Z]\w+) \(([A-Z]{2,})\)", seed["body"]).groups()
    party = re.search(r"by the ((?:[A-Z]\w+ )+Party)", seed["body"]).group(1)
    assert actors and party
    return {
        "accuser": accuser[0],
        "accuser_short": accuser[1],
        "rebutter": rebutters[0][0],
        "other_rebutter": rebutters[1][0],
        "party": party,
        "party_short": party.split()[0],
        "body": long_body,
        "abbr": abbr,
        "seed_body": body,
    }


def _report(seed: dict, n: int, text: str, names: dict, published: str, outlet: str) -> dict:
    return {
        "id": f"own-report-{n}",
        "url": f"https://news.example.test/own-{n}",
        "title": f"Campaign complaint, report {n}",
        "outlet": outlet,
        "published_at": published,
        "story_id": seed["story"],
        "body": text.format(**names),
    }


def _articles(entry: dict) -> set[str]:
    return {p["article_id"] for p in entry["provenance"]}


def _narrative_body(text: str) -> str:
    """The narrative after its lead and counts (the lead names everyone at once)."""
    return text.split(" in the order they happened", 1)[1]


def _entries(system, story: str, want: int) -> list[dict]:
    body = system.timeline(story, want=want)
    assert sum(len(e["provenance"]) for e in body["entries"]) == want, body
    assert schemas.TimelinePageSchema().validate(body) == {}
    return body["entries"]


# ---------------------------------------------------------------- one entry per event


def test_reports_of_one_event_from_four_outlets_make_one_entry(system, corpus, seed):
    seed_events = _post(
        system,
        {
            **{k: seed[k] for k in ("url", "title", "outlet", "published_at", "body")},
            "id": seed["id"],
            "story_id": seed["story"],
        },
    )["events"]
    names = _seed_names(corpus, seed, seed_events)
    reports = [
        _report(seed, 2, SECOND_REPORT, names, "2024-10-25T07:30:00Z", "Harbour Ledger"),
        _report(seed, 3, THIRD_REPORT, names, "2024-10-28T12:00:00Z", "Northgate Courier"),
        _report(seed, 4, FOURTH_REPORT, names, "2024-10-28T15:00:00Z", "Lakeside Bulletin"),
    ]
    posted = len(seed_events) + sum(len(_post(system, r)["events"]) for r in reports)
    entries = _entries(system, seed["story"], posted)
    second, third, fourth = (r["id"] for r in reports)

    def one(kind: str, actor: str, **extra) -> list[dict]:
        return [
            e
            for e in entries
            if e["event_type"] == kind
            and actor in e["actor"]["name"]
            and all(e["details"].get(k) == v for k, v in extra.items())
        ]

    # the allegation: undated in the seed and the third report, dated in the second; the target
    # named "<Party>" in one report and "the <Party> Party" in another
    [claim] = one("allegation_made", names["accuser_short"])
    assert _articles(claim) == {seed["id"], second, third}
    assert (claim["occurred_at"], claim["placement"]) == (
        "2024-10-21",
        {"date": "2024-10-21", "inferred": False, "reason": None},
    )
    assert claim["target"]["name"] == names["party"]
    assert [a["value"]["name"] for a in claim["alternatives"]["target"]] == [names["party_short"]]
    joined = {p["article_id"]: p["joined"] for p in claim["provenance"]}
    assert joined[seed["id"]] == "first report" and "undated report" in joined[third] and "target" in joined[third]
    reported = {p["article_id"]: p["reported"]["occurred_at"] for p in claim["provenance"]}
    assert reported == {seed["id"]: None, second: "2024-10-21", third: None}

    # the complaint: the body spelled out, abbreviated, and both; undated, a day, a week
    [complaint] = [e for e in one("complaint_filed", names["accuser_short"]) if _articles(e) != {fourth}]
    assert _articles(complaint) == {seed["id"], second, third}
    assert complaint["occurred_at"] == "2024-10-22" and complaint["occurred_precision"] == "day"
    assert {p["reported"]["body"] for p in complaint["provenance"]} == {
        names["seed_body"],
        names["body"],
        names["abbr"],
    }
    # a complaint by the same actor to another body stays its own entry
    [other_complaint] = [e for e in one("complaint_filed", names["accuser_short"]) if _articles(e) == {fourth}]
    assert other_complaint["occurred_at"] == "2024-10-26"

    # the first denial (undated in the seed, dated in the second report); a second denial days later stays apart
    first_denial, second_denial = one("rebuttal_given", names["rebutter"])
    assert _articles(first_denial) == {seed["id"], second} and first_denial["occurred_at"] == "2024-10-23"
    assert _articles(second_denial) == {third} and second_denial["occurred_at"] == "2024-10-27"
    [other_rebuttal] = one("rebuttal_given", names["other_rebutter"])
    assert _articles(other_rebuttal) == {seed["id"]}
    assert len(entries) == 7

    # causal order: the allegation first, both rebuttals answer it and come after it
    order = [e["entry_id"] for e in entries]
    assert order[0] == claim["entry_id"]
    for r in (first_denial, second_denial, other_rebuttal):
        assert r["responds_to"] == [claim["entry_id"]] and order.index(r["entry_id"]) > 0
    days = [e["placement"]["date"] for e in entries]
    assert days == sorted(days)
    assert (
        other_rebuttal["placement"]["inferred"]
        and "first reported (24 October 2024)" in other_rebuttal["placement"]["reason"]
    )

    # the lead, as data
    story = _get(system, f"/v1/stories/{seed['story']}").json()
    assert schemas.StorySummarySchema().validate(story) == {}
    lead = story["lead"]
    assert lead["accusers"] == [names["accuser"]] and lead["accused"] == [names["party"]]
    assert set(lead["responders"]) == {names["rebutter"], names["other_rebutter"]}
    assert {f["body"] for f in lead["filed"]} == {names["seed_body"], "Clearwater County Elections Office"}
    assert (lead["first_date"], lead["last_date"], lead["event_count"]) == ("2024-10-21", "2024-10-27", 7)
    assert len(lead["outlets"]) == 4 and "4 outlets" in lead["text"] and "7 events" in lead["text"]
    assert lead["text"].startswith("Between 21 and 27 October 2024, ")

    # a rebuild from the log gives the same entries, in the same order
    def shape(es):
        return [
            (e["entry_id"], sorted(p["event_id"] for p in e["provenance"]), e["placement"], e["responds_to"])
            for e in es
        ]

    before = shape(entries)
    result = rebuild(system.log, system.store, system.settings.group, drop_after_s=0)
    assert result.new_generation != result.old_generation
    after = _get(system, f"/v1/stories/{seed['story']}/timeline").json()
    assert after["freshness"]["generation"] == result.new_generation
    assert shape(after["entries"]) == before


# ---------------------------------------------------------------- causal order, three surfaces


def test_claims_come_before_their_denials_in_timeline_narrative_and_timelinejs(system, corpus, seed):
    _post(system, README_ARTICLE)
    _post(
        system, {**{k: seed[k] for k in ("url", "title", "outlet", "published_at", "body")}, "story_id": "seed-alone"}
    )
    gold = corpus["gold"]["seed"]["required"]
    accuser = next(g["actor"][0] for g in gold if g["type"] == "allegation_made")
    rebutters = [g["actor"][0] for g in gold if g["type"] == "rebuttal_given"]
    for story, first, answers, want in (
        ("minister-row", "Jane Doe", ["John Roe"], 2),
        ("seed-alone", accuser, rebutters, len(gold)),
    ):
        entries = _entries(system, story, want)
        names = [e["actor"]["name"] for e in entries]
        claim = names.index(first)
        assert entries[claim]["event_type"] == "allegation_made"
        for who in answers:
            i = names.index(who)
            assert i > claim and entries[i]["responds_to"] == [entries[claim]["entry_id"]]

        text = _narrative_body(_get(system, f"/v1/stories/{story}/narrative", headers={"Accept": "text/plain"}).text)
        assert all(text.index(first) < text.index(who) for who in answers), text

        slides = _get(system, f"/v1/stories/{story}/timelinejs").json()["events"]
        assert [s["unique_id"] for s in slides] == [f"entry-{e['entry_id']}" for e in entries]
        dates = [tuple(s["start_date"].get(k, 0) for k in ("year", "month", "day")) for s in slides]
        assert dates == sorted(dates)
        for s, e in zip(slides, entries):
            assert "<blockquote>" in s["text"]["text"] if e["quote"] else "<blockquote>" not in s["text"]["text"]
            assert e["provenance"][0]["sentence"] not in s["text"]["text"]  # the summary, not the article's sentence

    # the README example: the undated claim is placed on the day of the denial that answers it
    claim, denial = _entries(system, "minister-row", 2)
    assert denial["occurred_at"] == "2025-03-11" and not denial["placement"]["inferred"]
    assert claim["placement"] == {
        "date": "2025-03-11",
        "inferred": True,
        "reason": "undated; placed before John Roe's rebuttal of 11 March 2025 that answers it",
    }
    slides = _get(system, "/v1/stories/minister-row/timelinejs").json()["events"]
    assert slides[0]["start_date"] == {"year": 2025, "month": 3, "day": 11}
    assert slides[0]["display_date"].startswith("11 March 2025 (inferred: ")
    md = _get(system, "/v1/stories/minister-row/narrative").text
    assert "In response, John Roe" in md and "1 outlet" in md and "1 outlets" not in md
    assert "**11 March 2025.** Jane Doe" in md


def test_three_articles_on_different_days_interleave_dated_and_undated(system):
    for a in CANAL:
        _post(
            system,
            {**a, "url": f"https://news.example.test/{a['id']}", "title": "Canal trust row", "story_id": "canal-row"},
        )
    entries = _entries(system, "canal-row", 6)
    got = [
        (
            e["provenance"][0]["article_id"],
            e["event_type"],
            e["placement"]["date"],
            e["placement"]["inferred"],
            e["placement"]["reason"],
        )
        for e in entries
    ]
    assert got == [
        ("canal-1", "complaint_filed", "2025-06-02", False, None),
        (
            "canal-1",
            "allegation_made",
            "2025-06-02",
            True,
            "undated; placed on the day it was first reported (2 June 2025), before the Fenmoor Canal Trust's rebuttal "
            "of 3 June 2025 that answers it",
        ),
        ("canal-2", "rebuttal_given", "2025-06-03", False, None),
        (
            "canal-3",
            "allegation_made",
            "2025-06-05",
            True,
            "undated; placed before Owen Fairbairn's rebuttal of 5 June 2025 that answers it",
        ),
        ("canal-3", "rebuttal_given", "2025-06-05", False, None),
        (
            "canal-3",
            "post_deleted",
            "2025-06-06",
            True,
            "undated; placed on the day it was first reported (6 June 2025)",
        ),
    ]
    by_article = {(e["provenance"][0]["article_id"], e["event_type"]): e["entry_id"] for e in entries}
    assert entries[2]["responds_to"] == [by_article[("canal-1", "allegation_made")]]
    assert entries[2]["responds_to_inferred"] == entries[2]["responds_to"]
    assert entries[4]["responds_to"] == [by_article[("canal-3", "allegation_made")]]
    text = _get(system, "/v1/stories/canal-row/narrative", headers={"Accept": "text/plain"}).text
    assert "2 outlets" in text and "6 events" in text
    paragraphs = [p for p in text.split("\n\n") if re.match(r"(Reported on )?\d+ June 2025\.", p)]
    assert [p.split(".", 1)[0] for p in paragraphs] == [
        "2 June 2025",
        "3 June 2025",
        "5 June 2025",
        "Reported on 6 June 2025",
    ]
    assert "The next day, in response, " in paragraphs[1]
