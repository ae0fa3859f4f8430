"""What the spaCy parse adds to the rules: vetoes, passive agents, entity kinds, targets,
cross-article agreement. Short invented articles, through the public extract() and the CLI."""

from __future__ import annotations

import json
import pathlib
import subprocess
from datetime import datetime, timezone

import pytest

from services.ingest.extraction import EXTRACTOR_VERSION, extract, extract_many
from shared.domain.read_model import entry_id_for

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "storyline"
PUB = datetime(2025, 3, 14, 9, 0, tzinfo=timezone.utc)  # a Friday


def events(body, published=PUB):
    return extract("Row", body, published)


def of_type(found, event_type):
    return [f for f in found if f.event_type == event_type]


@pytest.mark.parametrize(
    "body",
    [
        "Hundreds of small firms were denied loans by Castle Bank last quarter, figures show.",
        "Chef Dario Russo claimed the title of best pizza in the region at last year's awards.",
        "Insurance claims for storm damage rose sharply in November.",
        "Councillor Amal Reavey was accused of bullying staff.",
    ],
)
def test_words_that_only_look_like_cues_yield_nothing(body):
    assert [f for f in events(body) if f.event_type in ("allegation_made", "rebuttal_given")] == []


def test_passive_rebuttal_names_the_agent():
    body = "Hollow Pine Ltd was criticised by neighbours. The claims were denied by the company on Tuesday."
    f = of_type(events(body), "rebuttal_given")
    assert [(x.actor["name"], x.occurred_at) for x in f] == [("Hollow Pine Ltd", "2025-03-11")]


def test_passive_accusation_with_agent_names_the_accuser():
    f = of_type(
        events("Councillor Amal Reavey was accused by union leader Tariq Banks of bullying staff."), "allegation_made"
    )
    assert [x.actor["name"] for x in f] == ["Tariq Banks"]


def test_allegation_passive_across_a_relative_clause():
    body = (
        "Allegations that the Harbour Trust hid safety reports were first made by former engineer "
        "Inka Carvalho on March 3."
    )
    f = of_type(events(body), "allegation_made")
    assert [(x.actor["name"], x.occurred_at) for x in f] == [("Inka Carvalho", "2025-03-03")]


def test_named_apposition_wins_over_a_description():
    body = "The claim had been made by a former aide, Tom Becker, in a letter to the commission."
    assert [x.actor["name"] for x in of_type(events(body), "allegation_made")] == ["Tom Becker"]


def test_complaint_passive_with_words_between_verb_and_agent():
    body = "A complaint was lodged with the Information Commissioner by campaign group Open Records on March 10."
    f = of_type(events(body), "complaint_filed")
    assert [(x.actor["name"], x.occurred_at) for x in f] == [("Open Records", "2025-03-10")]
    assert f[0].details["body"] == "Information Commissioner"


def test_spokesperson_acts_for_the_organisation_and_ner_gives_its_kind():
    body = (
        "Residents of Ashby Vale accused Northwater of ignoring leaks. "
        "A spokesperson for Northwater later removed a Facebook post that had blamed residents."
    )
    f = of_type(events(body), "post_deleted")
    assert [x.actor for x in f] == [{"name": "Northwater", "kind": "organisation"}]


def test_unknown_role_word_is_dropped_by_the_person_span_and_he_finds_the_person():
    body = (
        "Sprinter Abel Tesfaye has lodged a complaint with the Sports Resolutions panel after he was left out. "
        "He alleged that selectors ignored his results."
    )
    found = events(body)
    assert sorted((f.event_type, f.actor["name"]) for f in found) == [
        ("allegation_made", "Abel Tesfaye"),
        ("complaint_filed", "Abel Tesfaye"),
    ]


def test_time_phrase_between_subject_and_verb():
    f = of_type(events("Chief Constable Martin Ebo on Tuesday rejected claims of racism."), "rebuttal_given")
    assert [(x.actor["name"], x.occurred_at) for x in f] == [("Martin Ebo", "2025-03-11")]


def test_targets_are_named_parties():
    body = "Striker Leo Mart accused referee Paula Grant of bias on Saturday. Grant denied the accusation on Monday."
    found = events(body)
    (alleg,) = of_type(found, "allegation_made")
    (rebut,) = of_type(found, "rebuttal_given")
    assert alleg.target == {"name": "Paula Grant", "kind": "person"}
    assert rebut.actor["name"] == "Paula Grant"
    assert rebut.target == {"name": "Leo Mart", "kind": "person"}


def test_every_kind_is_person_or_organisation():
    body = (
        "Residents of Millbrook claim the incinerator breaches its permit. A group of tenants submitted "
        "a complaint to the regulator. The operator, Blaze Energy, dismissed the claims."
    )
    kinds = {f.actor["kind"] for f in events(body)} | {f.target["kind"] for f in events(body) if f.target}
    assert kinds <= {"person", "organisation"} and kinds


def test_confidence_is_a_probability_and_higher_for_named_verbal_cues():
    found = events(
        "The caterers, Spoon & Co, said in a letter that they were owed fees. "
        "Alan Finch denied that any money was owed."
    )
    assert all(0 < f.confidence <= 1 for f in found)
    named = next(f for f in found if f.actor["name"] == "Alan Finch")
    inferred = next(f for f in found if f.details.get("cue") == "disputed statement")
    assert named.confidence > inferred.confidence


def test_batched_extraction_gives_the_same_findings():
    bodies = [
        "Kai Lund denied the claims on Tuesday.",
        "The GMB union said on Monday that it had lodged a complaint with the regulator.",
        "Nothing happened today.",
    ]
    single = [extract("t", b, PUB) for b in bodies]
    batched = extract_many([("t", b, PUB) for b in bodies])
    assert single == batched
    assert [len(x) for x in single] == [1, 1, 0]


# --- one real-world event, two articles: the same entry ------------------------------------------

DENIAL_A = {
    "id": "den-a",
    "url": "https://a.test/1",
    "outlet": "Alpha News",
    "story_id": "rail-tender",
    "published_at": "2025-03-14T08:00:00Z",
    "title": "Transport chief denies tender was rigged",
    "body": (
        "Rival bidder Railcraft Services has accused the city of rigging a tram tender. "
        "The city's transport commissioner, Ayesha Nuur, denied the accusation on Wednesday."
    ),
}
DENIAL_B = {
    "id": "den-b",
    "url": "https://b.test/2",
    "outlet": "Beta Times",
    "story_id": "rail-tender",
    "published_at": "2025-03-15T17:30:00Z",
    "title": "Nuur rejects Railcraft claims",
    "body": (
        "Commissioner Ayesha Nuur on Wednesday rejected claims by Railcraft Services that the tram "
        "tender had been rigged, calling them baseless. Railcraft alleged last week that council "
        "officers had seen the winning bid early."
    ),
}


def _cli_events(tmp_path, article):
    path = tmp_path / f"{article['id']}.json"
    path.write_text(json.dumps(article))
    out = subprocess.run([str(CLI), "extract", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_same_denial_in_two_articles_shares_one_entry(tmp_path):
    a = [e for e in _cli_events(tmp_path, DENIAL_A) if e["event_type"] == "rebuttal_given"]
    b = [e for e in _cli_events(tmp_path, DENIAL_B) if e["event_type"] == "rebuttal_given"]
    assert len(a) == len(b) == 1
    assert (a[0]["actor"], a[0]["target"], a[0]["occurred_at"]) == (b[0]["actor"], b[0]["target"], b[0]["occurred_at"])
    assert a[0]["occurred_at"] == "2025-03-12"
    assert a[0]["source"]["article_id"] != b[0]["source"]["article_id"]
    assert entry_id_for(a[0]) == entry_id_for(b[0])
    assert a[0]["extractor"]["version"] == EXTRACTOR_VERSION and 0 < a[0]["extractor"]["confidence"] <= 1


def test_different_denials_get_different_entries(tmp_path):
    other = {
        **DENIAL_B,
        "id": "den-c",
        "url": "https://c.test/3",
        "body": "Commissioner Ayesha Nuur on Friday rejected claims by Railcraft Services about a bus contract.",
    }
    a = [e for e in _cli_events(tmp_path, DENIAL_A) if e["event_type"] == "rebuttal_given"]
    c = [e for e in _cli_events(tmp_path, other) if e["event_type"] == "rebuttal_given"]
    assert entry_id_for(a[0]) != entry_id_for(c[0])
