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


@pytest.mark.parametrize(
    "body, actor",
    [
        # a time or place adverbial between subject and verb
        ("Harbour master Ewan Tullis on Wednesday denied the claims about the dredging contract.", "Ewan Tullis"),
        ("Ewan Tullis, speaking in Grimsby, rejected the allegations outright.", "Ewan Tullis"),
        # the actor inside an apposition
        ("The ferry operator's chief executive, Moira Castell, dismissed the claims as baseless.", "Moira Castell"),
        # a by-passive
        ("The accusations were rejected by the Tidewater Ferry Company on Tuesday.", "Tidewater Ferry Company"),
    ],
)
def test_rebuttal_actor_through_adverbials_appositions_and_passives(body, actor):
    assert only(body, "rebuttal_given").actor["name"] == actor


def test_actor_in_a_relative_clause():
    body = (
        "Pia Lorentz, who accused the rowing club of hiding its accounts, has also deleted a video about the treasurer."
    )
    got = found(body)
    assert ("allegation_made", "Pia Lorentz", "rowing club") in got or any(
        t == "allegation_made" and a == "Pia Lorentz" for t, a, _ in got
    )
    assert any(t == "post_deleted" and a == "Pia Lorentz" for t, a, _ in got)


def test_spokesperson_and_lawyer_act_for_their_principal():
    body = (
        "Councillor Ada Brook accused Meadowline Buses of cutting rural routes in secret. "
        "A spokesperson for Meadowline Buses rejected the claim."
    )
    assert only(body, "rebuttal_given").actor["name"] == "Meadowline Buses"


@pytest.mark.parametrize(
    "body, actor",
    [
        (
            "Tomasz Wren accused the orchard trust of selling land cheaply. He later deleted a post about it.",
            "Tomasz Wren",
        ),
        (
            "Greystone Orchard Trust was accused by Tomasz Wren of selling land. The trust denied the claims.",
            "Greystone Orchard Trust",
        ),
    ],
)
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
    body = "Beekeeper Ruth Amadi accused Kessel Agrochem of poisoning her hives, a claim the company flatly rejected."
    fs = extract("Row", body, PUB)
    alleg = next(f for f in fs if f.event_type == "allegation_made")
    reb = next(f for f in fs if f.event_type == "rebuttal_given")
    assert alleg.actor["name"] == "Ruth Amadi" and alleg.target["name"] == "Kessel Agrochem"
    assert reb.actor["name"] == "Kessel Agrochem" and reb.target["name"] == "Ruth Amadi"
    assert reb.responds_to == [fs.index(alleg)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Ruth Amadi refused to deny the report.",
        "Ruth Amadi did not commit to filing a complaint with the ombudsman.",
        "Ruth Amadi may file a complaint with the ombudsman.",
        "If the hives die, Ruth Amadi will lodge a complaint with the ombudsman.",
        "Ruth Amadi threatened to sue Kessel Agrochem.",
        "Ruth Amadi declined to confirm or deny the claims.",
    ],
)
def test_negation_and_modality_come_from_the_cue_clause(sentence):
    assert found(sentence) == []


def test_complaint_body_target_and_link_to_the_allegation():
    body = (
        "LAGOS — The Coastal Traders Guild accused Portline Logistics of overcharging at the quay. "
        "On Monday the guild lodged a complaint with the Maritime Standards Board against Portline Logistics."
    )
    fs = extract("Row", body, PUB)
    c = next(f for f in fs if f.event_type == "complaint_filed")
    assert c.actor["name"] == "Coastal Traders Guild"  # not the dateline, not the day, not the body
    assert c.details["body"] == "Maritime Standards Board"
    assert c.target["name"] == "Portline Logistics"
    assert [fs[i].event_type for i in c.responds_to] == ["allegation_made"]


def test_repeated_mentions_merge_with_provenance():
    body = "Olga Brandvold accused the rink of unsafe ice. Brandvold repeated the accusation on Tuesday."
    f = only(body, "allegation_made")
    assert len(f.mentions) == 2 and len(f.cue_tokens) == 2 and all(isinstance(i, int) for i in f.cue_tokens)


ARTICLE = {
    "id": "cx1",
    "title": "Quarry row",
    "url": "https://news.example.test/cx1",
    "outlet": "Example",
    "published_at": "2025-06-13T08:00:00Z",
    "story_id": "quarry-row",
    "body": (
        "Parish councillor Nia Okoro accused Fellside Aggregates of blasting outside permitted hours. "
        "Fellside Aggregates denied the claim. "
        "Okoro has lodged a complaint with the Mineral Planning Authority against Fellside Aggregates. "
        "Okoro later deleted a tweet about the firm's manager."
    ),
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
    assert {e["event_type"] for e in entries} == {
        "allegation_made",
        "rebuttal_given",
        "complaint_filed",
        "post_deleted",
    }
    reb = next(e for e in entries if e["event_type"] == "rebuttal_given")
    assert (reb.get("target") or {}).get("name") == "Nia Okoro"
    assert reb.get("responds_to")


# --- the rules the development set asked for, each on an invented article -----------------------


def test_dateline_parsed_as_subject_yields_the_named_apposition():
    body = "VALLETTA — Dock worker Karl Zammit has alleged that the Grand Harbour Authority ignored crane faults."
    f = only(body, "allegation_made")
    assert f.actor["name"] == "Karl Zammit"
    assert f.target["name"] == "Grand Harbour Authority"


def test_label_hung_on_the_claim_is_a_rebuttal():
    body = (
        "Fishers' leader Rosa Quispe accused the port authority of lying. "
        'Harbour chief Dario Mendez called the allegation "pure invention".'
    )
    f = only(body, "rebuttal_given")
    assert f.actor["name"] == "Dario Mendez"
    assert f.target["name"] == "Rosa Quispe"


def test_post_on_a_partys_website_belongs_to_that_party():
    body = (
        "Dock worker Karl Zammit has alleged that the Grand Harbour Authority ignored crane faults. "
        "A page on the authority's website listing inspections was taken down on Tuesday."
    )
    f = only(body, "post_deleted")
    assert f.actor["name"] == "Grand Harbour Authority"
    assert f.target is None


def test_lede_description_is_the_party_named_later_and_a_rebutted_claim_has_its_maker():
    body = (
        "An environmental charity has rejected claims by a former volunteer that donations were misused. "
        "Juno Reyes, who volunteered at Greenleaf Wildlife Trust until May, said the money went on salaries."
    )
    fs = extract("Row", body, PUB)
    reb = next(f for f in fs if f.event_type == "rebuttal_given")
    alleg = next(f for f in fs if f.event_type == "allegation_made")
    assert reb.actor["name"] == "Greenleaf Wildlife Trust" and alleg.actor["name"] == "Juno Reyes"
    assert reb.target["name"] == "Juno Reyes" and reb.responds_to == [fs.index(alleg)]
    assert "description" in reb.details["confidence_reasons"]


def test_the_charge_is_not_part_of_the_accused_name():
    body = (
        "Tenor Ivo Brandvold accused the Lakeside Opera Guild of blacklisting him. "
        'Brandvold later accused the guild of "quiet cruelty".'
    )
    f = only(body, "allegation_made")
    assert f.target["name"] == "Lakeside Opera Guild"
    assert len(f.mentions) == 2


def test_standing_by_a_party_defends_it_and_standing_by_ones_words_needs_an_accusation():
    defended = "Pundit Gary Lowe accused striker Omar Diallo of diving. Riverside Athletic stood by its player."
    assert [
        (f.actor["name"], f.target["name"]) for f in extract("Row", defended, PUB) if f.event_type == "rebuttal_given"
    ] == [("Riverside Athletic", "Gary Lowe")]
    unprompted = "The columnist Ada Kerr said she stood by every word of her review."
    assert found(unprompted) == []


def test_first_person_denial_counts_only_for_the_accused():
    accused = (
        "Councillor Mei Tan accused builder Rob Hale of skipping inspections. "
        '"I have never skipped an inspection," Hale said.'
    )
    assert [f.actor["name"] for f in extract("Row", accused, PUB) if f.event_type == "rebuttal_given"] == ["Rob Hale"]
    bystander = '"I have never been to the site," the architect Lena Ruiz said.'
    assert found(bystander) == []


def test_a_university_is_not_its_students_union():
    body = (
        "The Northgate University Students' Union accused the university of spying on protesters. "
        "The university denied that any monitoring had taken place."
    )
    f = only(body, "rebuttal_given")
    assert f.actor["name"] == "Northgate University"
    assert f.target["name"] == "Northgate University Students' Union"


def test_a_claim_said_to_be_without_foundation_is_a_rebuttal():
    body = (
        "The Quayside Traders Guild has accused two ferry firms, Orca Lines and Brindle Sailings, of "
        'fixing fares. Orca Lines said the accusation was "entirely without foundation".'
    )
    f = only(body, "rebuttal_given")
    assert f.actor["name"] == "Orca Lines"
    assert f.target["name"] == "Quayside Traders Guild"


def test_the_claims_had_no_basis_is_a_rebuttal_and_a_plain_statement_is_not():
    assert (
        only(
            "Lorna Pike accused the harbour board of neglect. The harbour board said the claims had no basis in fact.",
            "rebuttal_given",
        ).actor["name"]
        == "harbour board"
    )
    assert not [
        f
        for f in extract(
            "Row",
            "Lorna Pike accused the harbour board of neglect. The harbour board said the repairs were without delay.",
            PUB,
        )
        if f.event_type == "rebuttal_given"
    ]


def test_dismay_at_what_was_said_answers_it_and_dismay_at_a_result_does_not():
    body = (
        "Ilse Marwick accused the Tamsin Dance Company of cancelling her show out of spite. "
        'Tamsin Dance Company said it was "saddened" by her remarks.'
    )
    f = only(body, "rebuttal_given")
    assert f.actor["name"] == "Tamsin Dance Company"
    assert f.target["name"] == "Ilse Marwick"
    assert not [
        f
        for f in extract(
            "Row", "Crofton Rovers lost 3-1 at home. The club said it was disappointed by the result.", PUB
        )
        if f.event_type == "rebuttal_given"
    ]


def test_bare_dismay_is_a_rebuttal_only_from_the_accused():
    accused = (
        "Ravi Solanki accused the Westby Orchestra of underpaying its players. The orchestra said it was disappointed."
    )
    assert [a for t, a, _ in found(accused) if t == "rebuttal_given"]
    bystander = (
        "Ravi Solanki accused the Westby Orchestra of underpaying its players. The Fenmoor Choir said "
        "it was disappointed."
    )
    assert not [a for t, a, _ in found(bystander) if t == "rebuttal_given"]


def test_calling_the_allegation_a_long_label_is_a_rebuttal():
    body = (
        "Tobias Renn accused the Kelby water board of hiding leak figures. Una Dray, who chairs the board, "
        'called the accusation "a fairy tale told for headlines".'
    )
    f = only(body, "rebuttal_given")
    assert f.actor["name"] == "Una Dray"
    assert f.target["name"] == "Tobias Renn"
    assert not [
        f
        for f in extract("Row", 'Una Dray called the claim process "a maze".', PUB)
        if f.event_type == "rebuttal_given"
    ]


def test_a_named_speaker_saying_he_never_did_it_is_a_rebuttal_only_when_accused():
    accused = (
        'Selma Ruud accused councillor Anders Vik of selling planning votes. Vik said he had "never '
        'taken a krone from anyone".'
    )
    assert ("rebuttal_given", "Anders Vik", "Selma Ruud") in found(accused)
    bystander = (
        "Selma Ruud accused councillor Anders Vik of selling planning votes. Jon Hauge said he had never met Vik."
    )
    assert not [a for t, a, _ in found(bystander) if t == "rebuttal_given"]


def test_a_body_named_after_another_is_not_its_fuller_name():
    body = (
        "Nadira Brook accused Carrow Police of hiding the arrest footage. Carrow Police said it would release "
        "the footage. The Carrow Police Federation, which represents junior officers, defended the two "
        "constables."
    )
    got = found(body)
    assert ("allegation_made", "Nadira Brook", "Carrow Police") in got
    assert any(t == "rebuttal_given" and a == "Carrow Police Federation" for t, a, _ in got)


def test_a_legal_form_or_a_body_word_completes_a_short_name():
    body = (
        "Tilda Moss accused Brindle Foods Ltd of mislabelling its honey. Brindle Foods denied the claim. "
        "Separately, the Greens accused the Fenwick Labour of hypocrisy; the Fenwick Labour Party "
        "rejected the accusation."
    )
    got = found(body)
    assert ("rebuttal_given", "Brindle Foods Ltd", "Tilda Moss") in got
    assert any(t == "rebuttal_given" and a == "Fenwick Labour Party" for t, a, _ in got)


def test_a_verb_the_parser_took_for_a_modifier_of_the_next_name_still_counts():
    # "The NVB defended Kerr." comes out as "defended" modifying "Kerr", the root
    body = (
        "Coach Idris Mallon accused umpire Tessa Kerr of bias. Mallon's club wrote to the National Volleyball "
        "Board (NVB) on Monday. The NVB defended Kerr."
    )
    f = only(body, "rebuttal_given")
    assert f.actor["name"] == "National Volleyball Board"
    assert f.target["name"] == "Idris Mallon"


def test_a_complaint_named_by_the_clause_that_filed_it():
    body = (
        "The Kestrel Drivers Union has withdrawn a complaint it lodged with the transport regulator in March, "
        "in which it accused the depot manager Olu Banjo of rigging rotas."
    )
    got = found(body)
    assert any(t == "complaint_filed" and a == "Kestrel Drivers Union" for t, a, _ in got), got
    assert any(t == "allegation_made" and a == "Kestrel Drivers Union" for t, a, _ in got), got
    assert any(
        t == "complaint_filed" and a == "Saoirse Dunne"
        for t, a, _ in found("The lawsuit Saoirse Dunne filed in May accuses the clinic of negligence.")
    )


def test_we_raised_this_complaint_is_the_complaint_already_filed_and_the_union_is_not_its_president():
    body = (
        "The Kestrel Drivers Union has withdrawn a complaint it lodged with the transport regulator in March, "
        'in which it accused the depot manager Olu Banjo of rigging rotas. "We raised this complaint '
        'because drivers were exhausted," union president Ama Quaye said. In its submission, the union '
        "alleged that rotas were changed overnight."
    )
    got = found(body)
    assert [a for t, a, _ in got if t == "complaint_filed"] == ["Kestrel Drivers Union"], got
    assert [a for t, a, _ in got if t == "allegation_made"] == ["Kestrel Drivers Union"], got


def test_seed_through_http_gives_the_gold_events_links_and_targets(system):
    """The seed article (../shared/corpus) through POST /v1/articles; compared with its own gold."""
    data = json.loads((ROOT.parent / "shared" / "corpus" / "articles.json").read_text())
    seed = dict(next(a for a in data["articles"] if a["id"] == "seed"))
    gold = data["gold"]["seed"]["required"]
    seed = {k: seed[k] for k in ("title", "url", "outlet", "published_at", "body")} | {"story_id": "seed-row"}
    assert system.post(seed).status_code in (200, 201, 202)
    entries = system.timeline("seed-row", want=len(gold))["entries"]
    by_type: dict[str, list] = {}
    for e in entries:
        by_type.setdefault(e["event_type"], []).append(e)
    for g in gold:
        assert any(e["actor"]["name"] in g["actor"] for e in by_type.get(g["type"], [])), g
    alleg_gold = next(g for g in gold if g["type"] == "allegation_made")
    alleg = by_type["allegation_made"][0]
    for reb in by_type["rebuttal_given"]:
        assert reb["target"]["name"] in alleg_gold["actor"]  # the accuser
        assert alleg["entry_id"] in reb["responds_to"]
    complaint = by_type["complaint_filed"][0]
    assert complaint["details"]["body"] and complaint["details"]["body"] not in complaint["actor"]["name"]
    assert complaint["target"]["name"] == alleg["target"]["name"]  # the accused party
    assert alleg["entry_id"] in complaint["responds_to"]
    assert by_type["post_deleted"][0]["target"] is None


# a role the lexicon does not list, which the tagger ran into a person's name, is read off the word's
# make-up (one who does a verb, a compound of two nouns), not from a list of trades
ROLE_IN_NAME = [
    ("Beekeeper Tobias Ferrandez accused the Brenwick Honey Board of rigging its annual prize.", "Tobias Ferrandez"),
    ("Glassblower Piet Rendall accused the Marlow Crafts Guild of fixing its spring fair.", "Piet Rendall"),
    # a name of two words keeps both, whatever its first word means
    ("Hunter Rowlands accused the Marlow Crafts Guild of fixing its spring fair.", "Hunter Rowlands"),
]


@pytest.mark.parametrize("body, actor", ROLE_IN_NAME)
def test_a_role_the_tagger_ran_into_a_name_is_not_part_of_it(body, actor):
    assert only(body, "allegation_made").actor["name"] == actor


def test_a_role_run_into_a_name_through_the_cli(tmp_path):
    article = dict(ARTICLE, id="cx-role", body=ROLE_IN_NAME[1][0] + " The guild rejected the claim.")
    path = tmp_path / "a.json"
    path.write_text(json.dumps(article))
    out = subprocess.run([str(CLI), "extract", str(path)], capture_output=True, text=True, cwd=ROOT, check=True)
    data = json.loads(out.stdout)
    evs = data["events"] if isinstance(data, dict) else data
    allegation = next(e for e in evs if e["event_type"] == "allegation_made")
    assert allegation["actor"]["name"] == "Piet Rendall"
    rebuttal = next(e for e in evs if e["event_type"] == "rebuttal_given")
    assert rebuttal["target"]["name"] == "Piet Rendall"
