"""The constructions issue 11 names, each in an invented article (no names from the sample sets).

Most run at the domain tier (extract()); one article with all of them goes through
`storyline extract` and through POST /v1/articles to the timeline.
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


def found(body):
    return [(f.event_type, f.actor["name"], (f.target or {}).get("name")) for f in extract("Row", body, PUB)]


def only(body, event_type):
    hits = [f for f in extract("Row", body, PUB) if f.event_type == event_type]
    assert len(hits) == 1, found(body)
    return hits[0]


@pytest.mark.parametrize("body, actor", [
    # a time or place adverbial between subject and verb
    ("Harbour master Ewan Tullis on Wednesday denied the claims about the dredging contract.", "Ewan Tullis"),
    ("Ewan Tullis, speaking in Grimsby, rejected the allegations outright.", "Ewan Tullis"),
    # the actor inside an apposition
    ("The ferry operator's chief executive, Moira Castell, dismissed the claims as baseless.", "Moira Castell"),
    # a by-passive
    ("The accusations were rejected by the Tidewater Ferry Company on Tuesday.", "Tidewater Ferry Company"),
])
def test_rebuttal_actor_through_adverbials_appositions_and_passives(body, actor):
    assert only(body, "rebuttal_given").actor["name"] == actor


def test_actor_in_a_relative_clause():
    body = ("Pia Lorentz, who accused the rowing club of hiding its accounts, has also deleted a video "
            "about the treasurer.")
    got = found(body)
    assert ("allegation_made", "Pia Lorentz", "rowing club") in got or any(
        t == "allegation_made" and a == "Pia Lorentz" for t, a, _ in got)
    assert any(t == "post_deleted" and a == "Pia Lorentz" for t, a, _ in got)


def test_spokesperson_and_lawyer_act_for_their_principal():
    body = ("Councillor Ada Brook accused Meadowline Buses of cutting rural routes in secret. "
            "A spokesperson for Meadowline Buses rejected the claim.")
    assert only(body, "rebuttal_given").actor["name"] == "Meadowline Buses"


@pytest.mark.parametrize("body, actor", [
    ("Tomasz Wren accused the orchard trust of selling land cheaply. He later deleted a post about it.",
     "Tomasz Wren"),
    ("Greystone Orchard Trust was accused by Tomasz Wren of selling land. The trust denied the claims.",
     "Greystone Orchard Trust"),
])
def test_pronoun_and_description_subjects_resolve(body, actor):
    types = {"post_deleted"} if "deleted" in body else {"rebuttal_given"}
    hits = [f for f in extract("Row", body, PUB) if f.event_type in types]
    assert [f.actor["name"] for f in hits] == [actor]
    assert "confidence_reasons" in hits[0].details


@pytest.mark.parametrize("cue", ["blamed the regulator for", "criticised the regulator for"])
def test_cue_words_beyond_the_old_lists(cue):
    f = only(f"Jonas Hartley {cue} the delays at the water works.", "allegation_made")
    assert f.actor["name"] == "Jonas Hartley"


def test_denial_and_the_claim_it_answers_in_one_sentence():
    body = ("Beekeeper Ruth Amadi accused Kessel Agrochem of poisoning her hives, a claim the company "
            "flatly rejected.")
    fs = extract("Row", body, PUB)
    alleg = next(f for f in fs if f.event_type == "allegation_made")
    reb = next(f for f in fs if f.event_type == "rebuttal_given")
    assert alleg.actor["name"] == "Ruth Amadi" and alleg.target["name"] == "Kessel Agrochem"
    assert reb.actor["name"] == "Kessel Agrochem" and reb.target["name"] == "Ruth Amadi"
    assert reb.responds_to == [fs.index(alleg)]


@pytest.mark.parametrize("sentence", [
    "Ruth Amadi refused to deny the report.",
    "Ruth Amadi did not commit to filing a complaint with the ombudsman.",
    "Ruth Amadi may file a complaint with the ombudsman.",
    "If the hives die, Ruth Amadi will lodge a complaint with the ombudsman.",
    "Ruth Amadi threatened to sue Kessel Agrochem.",
    "Ruth Amadi declined to confirm or deny the claims.",
])
def test_negation_and_modality_come_from_the_cue_clause(sentence):
    assert found(sentence) == []


def test_complaint_body_target_and_link_to_the_allegation():
    body = ("LAGOS — The Coastal Traders Guild accused Portline Logistics of overcharging at the quay. "
            "On Monday the guild lodged a complaint with the Maritime Standards Board against Portline Logistics.")
    fs = extract("Row", body, PUB)
    c = next(f for f in fs if f.event_type == "complaint_filed")
    assert c.actor["name"] == "Coastal Traders Guild"  # not the dateline, not the day, not the body
    assert c.details["body"] == "Maritime Standards Board"
    assert c.target["name"] == "Portline Logistics"
    assert [fs[i].event_type for i in c.responds_to] == ["allegation_made"]


def test_repeated_mentions_merge_with_provenance():
    body = ("Olga Brandt accused the rink of unsafe ice. Brandt repeated the accusation on Tuesday.")
    f = only(body, "allegation_made")
    assert len(f.mentions) == 2 and len(f.cue_tokens) == 2 and all(isinstance(i, int) for i in f.cue_tokens)


ARTICLE = {
    "id": "cx1", "title": "Quarry row", "url": "https://news.example.test/cx1", "outlet": "Example",
    "published_at": "2025-06-13T08:00:00Z", "story_id": "quarry-row",
    "body": ("Parish councillor Nia Okoro accused Fellside Aggregates of blasting outside permitted hours. "
             "Fellside Aggregates denied the claim. "
             "Okoro has lodged a complaint with the Mineral Planning Authority against Fellside Aggregates. "
             "Okoro later deleted a tweet about the firm's manager."),
}


def _check(events):
    by = {e["event_type"]: e for e in events}
    assert set(by) == {"allegation_made", "rebuttal_given", "complaint_filed", "post_deleted"}
    assert by["allegation_made"]["actor"]["name"] == "Nia Okoro"
    assert by["rebuttal_given"]["target"]["name"] == "Nia Okoro"
    assert by["complaint_filed"]["details"]["body"] == "Mineral Planning Authority"
    assert by["complaint_filed"]["target"]["name"] == "Fellside Aggregates"
    assert by["post_deleted"]["target"] is None


def test_constructions_through_the_cli(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(ARTICLE))
    out = subprocess.run([str(CLI), "extract", str(path)], capture_output=True, text=True, cwd=ROOT, check=True)
    data = json.loads(out.stdout)
    evs = data["events"] if isinstance(data, dict) else data
    _check(evs)
    ids = {e["event_type"]: e["event_id"] for e in evs}
    assert ids["allegation_made"] in next(e for e in evs if e["event_type"] == "rebuttal_given")["responds_to"]


def test_constructions_through_http(system):
    r = system.post(ARTICLE)
    assert r.status_code in (200, 201, 202), r.text
    body = system.timeline("quarry-row", want=4)
    entries = body["entries"]
    assert {e["event_type"] for e in entries} == {"allegation_made", "rebuttal_given", "complaint_filed",
                                                  "post_deleted"}
    reb = next(e for e in entries if e["event_type"] == "rebuttal_given")
    assert (reb.get("target") or {}).get("name") == "Nia Okoro"
    assert reb.get("responds_to")
