"""Newsroom constructions the extractor used to miss, each in invented articles (no names from the
sample sets), in two phrasings or more, with the look-alikes that must not fire.

  1. "X posted a video ..., then deleted it": the second verb, which the parser leaves hanging
     after the comma, shares the first verb's subject.
  2. "brought a claim at the employment tribunal", "filed a case in the High Court": the forum
     makes a plain claim or case a legal one.
  3. "Y said the mayor had the facts backwards" / "had got it wrong" / "was mistaken": a rebuttal
     of the party said to be wrong, if that party accused someone in the article.
  4. "sued the paper over an article that alleged ...": the article's allegation is its
     publisher's, dated by "the article, published in March, ...".

Domain tier (extract()); one article with all four goes through `storyline extract`.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
from datetime import datetime, timezone

import pytest

from services.ingest.extraction import extract

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "storyline"
PUB = datetime(2025, 6, 13, 8, 0, tzinfo=timezone.utc)  # a Friday


def findings(body):
    return extract("Row", body, PUB)


def of_type(body, event_type):
    return [f for f in findings(body) if f.event_type == event_type]


def names(body, event_type):
    return [f.actor["name"] for f in of_type(body, event_type)]


# --- 1. "..., then deleted it" ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, author",
    [
        (
            "Councillor Brenna Valmont posted a video of the planning meeting on Facebook, "
            "then deleted it two hours later.",
            "Brenna Valmont",
        ),
        (
            "The comedian Oskar Sandqvist posted a long thread about the festival organisers on Tuesday, "
            "then removed it without explanation.",
            "Oskar Sandqvist",
        ),
    ],
)
def test_a_post_then_deleted_it_is_deleted_by_whoever_posted_it(body, author):
    assert names(body, "post_deleted") == [author]


@pytest.mark.parametrize(
    "body",
    [
        # not a post: a letter read out, then deleted from one's files
        "Brenna Valmont read the letter aloud at the meeting, then deleted it from her files.",
        # the second verb deletes something else
        "Brenna Valmont posted a photo of the rally, then deleted her old email address from the page settings.",
    ],
)
def test_a_second_verb_that_deletes_no_post_is_no_deletion(body):
    assert of_type(body, "post_deleted") == []


# --- 2. a claim before a court or tribunal ------------------------------------------------------


@pytest.mark.parametrize(
    "body, filer",
    [
        (
            "Warehouse supervisor Idris Mallam was dismissed in April. "
            "He has brought a claim at the employment tribunal for unfair dismissal.",
            "Idris Mallam",
        ),
        ("The builder Tobias Reyk filed a case in the High Court against Lowmere District Council.", "Tobias Reyk"),
        ("Tenant Nadira Osk brought a claim before the housing tribunal over the eviction.", "Nadira Osk"),
    ],
)
def test_a_claim_or_case_before_a_court_or_tribunal_is_a_complaint(body, filer):
    assert names(body, "complaint_filed") == [filer]


@pytest.mark.parametrize(
    "body",
    [
        # a claim made at a meeting is an assertion, not a legal claim
        "Councillor Nadira Osk made a claim at the budget meeting that the library fund had been cut.",
        # hedged: modality keeps it out
        "Idris Mallam may bring a claim at the employment tribunal.",
        # a case won, not brought
        "Idris Mallam won the case at the tribunal last year.",
    ],
)
def test_a_claim_not_brought_before_a_forum_is_no_complaint(body):
    assert of_type(body, "complaint_filed") == []


# --- 3. "said the accuser was wrong" -------------------------------------------------------------


@pytest.mark.parametrize(
    "body, rebutter, accuser",
    [
        (
            "Mayor Tobin Vrel accused the bus drivers' union of holding the town to ransom. "
            "Sandra Quill, the union's president, said the mayor had the facts backwards.",
            "Sandra Quill",
            "Tobin Vrel",
        ),
        (
            "The minister Olu Brandvold accused the Harbour Workers Union of lying about pay. "
            "The Harbour Workers Union said Brandvold had got it wrong.",
            "Harbour Workers Union",
            "Olu Brandvold",
        ),
        (
            "Councillor Ada Pike accused Hollis Builders of cutting corners on the school roof. "
            "Hollis Builders said Pike was mistaken about the materials.",
            "Hollis Builders",
            "Ada Pike",
        ),
    ],
)
def test_saying_the_accuser_is_wrong_is_a_rebuttal_of_them(body, rebutter, accuser):
    rebuttals = of_type(body, "rebuttal_given")
    assert [r.actor["name"] for r in rebuttals] == [rebutter]
    assert rebuttals[0].target["name"] == accuser


@pytest.mark.parametrize(
    "body",
    [
        # the party said to be wrong accused nobody
        "The forecasters predicted a dry week. Farmer Ned Ashby said the forecasters were wrong.",
        # hedged and negated
        "Ada Pike accused Hollis Builders of cutting corners. Hollis Builders said Pike may be mistaken.",
        "Ada Pike accused Hollis Builders of cutting corners. Hollis Builders said Pike was not wrong.",
        # the speaker owns up: nobody is answered
        "Ada Pike accused Hollis Builders of cutting corners. Pike later said she had been wrong.",
    ],
)
def test_saying_someone_is_wrong_is_no_rebuttal_unless_they_accused_and_it_is_asserted(body):
    assert of_type(body, "rebuttal_given") == []


# --- 4. "sued the paper over an article that alleged ..." ----------------------------------------


@pytest.mark.parametrize(
    "body, publisher, subject",
    [
        (
            "Footballer Cody Marsh has filed a defamation lawsuit against the news site The Ledger over an "
            "article that alleged he bet on his own matches.",
            "Ledger",
            "Cody Marsh",
        ),
        (
            "The actor Pia Laine sued the Morning Courier over a story that claimed she had lied to investors.",
            "Morning Courier",
            "Pia Laine",
        ),
    ],
)
def test_a_piece_a_lawsuit_is_over_alleges_for_its_publisher(body, publisher, subject):
    allegations = of_type(body, "allegation_made")
    assert [a.actor["name"] for a in allegations] == [publisher]
    assert allegations[0].target["name"] == subject


def test_the_published_piece_dates_its_allegation_and_the_accused_denies_it():
    body = (
        "Footballer Cody Marsh has filed a defamation lawsuit against the news site The Ledger over an "
        "article that alleged he bet on his own matches.\n\n"
        "The claim says the article, published in January, damaged his career.\n\n"
        '"I have never bet on a game in my life," Marsh said.'
    )
    got = findings(body)
    allegation = next(f for f in got if f.event_type == "allegation_made")
    assert (allegation.actor["name"], allegation.occurred_at[:7]) == ("Ledger", "2025-01")
    assert any(f.event_type == "rebuttal_given" and f.actor["name"] == "Cody Marsh" for f in got)


@pytest.mark.parametrize(
    "body",
    [
        # sharing a piece is not suing over it: nobody's allegation
        "Pia Laine shared an article that claimed the mayor had lied.",
        # the complaint is over the piece, but the piece praises
        "Pia Laine filed a complaint against the Morning Courier about a column that praised her rival.",
    ],
)
def test_a_piece_not_sued_over_or_not_alleging_makes_no_allegation(body):
    assert of_type(body, "allegation_made") == []


# --- all four through the CLI ---------------------------------------------------------------------

ARTICLE = {
    "id": "recall-1",
    "title": "Winger sues sports site; club chairman deletes post",
    "url": "https://news.example.test/recall-1",
    "outlet": "Invented Sport Wire",
    "published_at": "2025-06-13T08:00:00Z",
    "body": (
        "Winger Dario Penne has filed a defamation lawsuit against the sports site Touchline Daily over an "
        "article that alleged he faked an injury to miss the cup final.\n\n"
        "Penne, who left Castlebay Rovers in May, has also brought a claim at the employment tribunal "
        "for unpaid wages.\n\n"
        "Rovers chairman Fergus Harwood accused Penne of walking out on his teammates. "
        "Penne's agent, Lotte Brink, said the chairman had the facts backwards.\n\n"
        "Harwood posted a video about the dispute on Instagram, then deleted it an hour later."
    ),
}


def test_the_four_constructions_through_the_cli(tmp_path):
    path = tmp_path / "article.json"
    path.write_text(json.dumps(ARTICLE))
    out = subprocess.run([str(CLI), "extract", str(path)], capture_output=True, text=True, cwd=ROOT, check=True)
    events = json.loads(out.stdout)
    events = events["events"] if isinstance(events, dict) else events
    got = {(e["event_type"], e["actor"]["name"]) for e in events}
    assert ("allegation_made", "Touchline Daily") in got
    assert ("complaint_filed", "Dario Penne") in got
    assert ("allegation_made", "Fergus Harwood") in got
    assert ("rebuttal_given", "Lotte Brink") in got
    assert ("post_deleted", "Fergus Harwood") in got
    complaints = [e for e in events if e["event_type"] == "complaint_filed"]
    assert {(e.get("target") or {}).get("name") for e in complaints} >= {"Touchline Daily"}
