"""Quotations, who said them and which event they belong to, on the project's own articles
(tests/corpus/quotes_dates.json: one construction each), through extract(), `storyline extract`
and POST /v1/articles; the seed article's quotations checked against the sample file's own text."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone

import pytest
from postpass_support import CLI, ROOT, SHARED, find, gold_events, load, norm, published, short_clause_problems

from services.ingest.extraction import extract, extract_many
from services.ingest.extraction.quotes import quotations
from services.ingest.schemas import ArticleSchema
from services.ingest.service import events_for

OWN = load()
QUOTED = list(gold_events(OWN, "quote"))


# --- finding quotations ---------------------------------------------------------------------


def test_straight_and_curly_marks_and_apostrophes():
    body = "Lena said: \"We're ready.\" Omar replied, \u201cThe board\u2019s plan is late.\u201d It's Omar's view."
    assert [q.text for q in quotations(body)] == ["We're ready.", "The board\u2019s plan is late."]


def test_a_quotation_over_several_sentences_is_one():
    body = 'Ruth Alder said: "The roof leaks. The boiler fails. Nobody answers the phone." Then she left.'
    assert [q.text for q in quotations(body)] == ["The roof leaks. The boiler fails. Nobody answers the phone."]


def test_a_quotation_carried_over_paragraphs_is_one():
    # the press convention: no closing mark at a paragraph's end, an opening one at the next
    body = 'Kofi Mensah said: "We waited a year for the repair.\n\n"Then the ceiling came down," he said.'
    got = quotations(body)
    assert len(got) == 1
    assert got[0].text.startswith("We waited a year") and got[0].text.endswith("came down")


def test_an_unclosed_mark_ends_with_its_paragraph():
    body = 'Ana Ruiz called it "a shambles.\n\nThe vote is on Friday.'
    assert [q.text for q in quotations(body)] == ["a shambles."]


# --- attribution and attachment, one construction per article ---------------------------------


@pytest.fixture(scope="module")
def extracted():
    found = extract_many([(a["title"], a["body"], published(a)) for a in OWN["articles"]])
    return {a["id"]: [vars(f) for f in fs] for a, fs in zip(OWN["articles"], found)}


@pytest.mark.parametrize("article, gold", QUOTED, ids=[f"{a['id']}-{g['type']}" for a, g in QUOTED])
def test_each_event_takes_its_speakers_quotation(extracted, article, gold):
    ev = find(extracted[article["id"]], gold)
    assert ev is not None, f"no {gold['type']} by {gold['actor'][0]}"
    assert norm(gold["quote"]) in norm(ev["quote"]), ev["quote"]


def test_events_without_a_quotation_by_their_actor_have_none(extracted):
    for article, gold in gold_events(OWN):
        ev = find(extracted[article["id"]], gold)
        if "quote" not in gold and ev is not None:
            assert ev["quote"] is None, (article["id"], gold["type"], ev["quote"])


def test_an_allegation_and_a_rebuttal_by_one_speaker_take_different_quotations(extracted):
    for aid, found in extracted.items():
        by_actor = {}
        for ev in found:
            if ev["quote"]:
                by_actor.setdefault(ev["actor"]["name"], []).append(ev["quote"])
        for actor, quotes in by_actor.items():
            assert len(set(quotes)) == len(quotes), (aid, actor, quotes)


# --- through the CLI -------------------------------------------------------------------------


def test_storyline_extract_attaches_quotes_and_dates(tmp_path):
    paths = []
    for a in OWN["articles"]:
        p = tmp_path / f"{a['id']}.json"
        p.write_text(json.dumps({k: v for k, v in a.items() if k != "story"}))
        paths.append(str(p))
    out = subprocess.run([str(CLI), "extract", *paths], capture_output=True, text=True, cwd=ROOT, check=True)
    events = json.loads(out.stdout)
    by_article = {}
    for ev in events:
        by_article.setdefault(ev["source"]["article_id"], []).append(ev)
    for article, gold in gold_events(OWN):
        ev = find(by_article.get(article["id"], []), gold)
        assert ev is not None, (article["id"], gold["type"])
        if "quote" in gold:
            assert norm(gold["quote"]) in norm(ev["quote"]), (article["id"], ev["quote"])
        assert ev["occurred_at"] == gold["date"] or (
            gold["date"] and str(ev["occurred_at"]).startswith(gold["date"])
        ), (article["id"], gold["type"], ev["occurred_at"], gold["date"])
        assert not short_clause_problems(ev["summary"], ev["actor"]["name"], article["body"]), ev["summary"]


# --- through HTTP, read back from the timeline --------------------------------------------------


def _post_all(system, articles):
    for a in articles:
        body = {k: a[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": a["story"]}
        r = system.post(body)
        assert r.status_code in (200, 201, 202), r.text


def _expected_count(article) -> int:
    schema = ArticleSchema()
    raw = {k: v for k, v in article.items() if k in schema.fields}
    return len(events_for(schema.load(raw), "1970-01-01T00:00:00.000Z"))


def test_quotes_dates_and_summaries_over_http(system):
    seed = next(a for a in load(SHARED / "articles.json")["articles"] if a["id"] == "seed")
    _post_all(system, OWN["articles"] + [seed])
    for article in OWN["articles"]:
        entries = system.timeline(article["story"], want=_expected_count(article))["entries"]
        for gold in OWN["gold"][article["id"]]["required"]:
            entry = find(entries, gold)
            assert entry is not None, (article["id"], gold["type"])
            if "quote" in gold:
                assert norm(gold["quote"]) in norm(entry["quote"]), (article["id"], entry["quote"])
            got = entry["occurred_at"]
            assert (got is None and gold["date"] is None) or (gold["date"] and str(got).startswith(gold["date"])), (
                article["id"],
                gold["type"],
                got,
                gold["date"],
            )
            assert not short_clause_problems(entry["summary"], entry["actor"]["name"], article["body"]), entry[
                "summary"
            ]
    _check_seed(system, seed)


def _check_seed(system, seed):
    """The seed article: the first rebuttal carries the quotation of the sentence after it, the
    allegation the phrase quoted in its own sentence, every summary is a short clause."""
    gold = load(SHARED / "articles.json")["gold"]["seed"]["required"]
    entries = system.timeline(seed["story"], want=len(gold))["entries"]
    body = seed["body"]
    rebuttals = sorted(
        (e for e in entries if e["event_type"] == "rebuttal_given"), key=lambda e: e["provenance"][0]["char_start"]
    )
    first = rebuttals[0]
    assert first["quote"], "the first rebuttal has no quotation"
    start = body.find(first["quote"].split(" … ")[0])
    # a sentence with the rebuttal's cue word ends right before the quotation opens
    cue = first["details"]["cue"]
    ends = [m.end() for m in re.finditer(r"[^.!?\n]*\b%s\b[^.!?\n]*[.!?]" % re.escape(cue), body)]
    assert any(e <= start and not body[e:start].strip(' \n"\u201c') for e in ends), (
        "the first rebuttal's quotation is not the one in the sentence after it"
    )
    allegation = next(e for e in entries if e["event_type"] == "allegation_made")
    quoted = [
        q
        for m in allegation["details"]["mentions"]
        for q in re.findall(r"[\"\u201c]([^\"\u201c\u201d]+)[\"\u201d]", m["sentence"])
    ]
    assert quoted and allegation["quote"] in quoted, (allegation["quote"], quoted)
    for e in entries:
        assert not short_clause_problems(e["summary"], e["actor"]["name"], body), e["summary"]


@pytest.mark.parametrize(
    "name, person",
    [
        ("Dr Ana Pereira of the Institute", "Dr Ana Pereira"),
        ("Tomasz Wilk of the Northern Rowing Club", "Tomasz Wilk"),
        ("National Bank of Arden", None),  # a body's own name, not a person with an affiliation
        ("University of Wessex", None),
        ("Mirela Vasquez", None),
    ],
)
def test_a_person_named_with_the_body_she_belongs_to(name, person):
    from services.ingest.extraction.speakers import person_part

    assert person_part(name) == person


# --- he and she: the unified resolver's parties carry a sex where the article gives one ------------

_PUB = datetime(2025, 6, 12, 8, 0, tzinfo=timezone.utc)


def _quotes_by_actor(body: str) -> dict:
    return {(f.event_type, f.actor["name"]): f.quote for f in extract("Row", body, _PUB)}


def test_he_after_a_woman_spoke_is_the_man_her_form_of_address_sets_apart():
    body = (
        "Harbour trustee Mr Anselm Quarry accused the Tollmere Lock Company on Monday of overcharging narrowboats.\n\n"
        "The company's director, Mrs Rina Sawle, rejected the allegation on Tuesday. "
        "\u201cOur tolls are set by the canal board,\u201d she said.\n\n"
        "\u201cThe board has not met for two years,\u201d he said."
    )
    got = _quotes_by_actor(body)
    assert got[("allegation_made", "Anselm Quarry")] == "The board has not met for two years"
    assert got[("rebuttal_given", "Rina Sawle")] == "Our tolls are set by the canal board"


def test_a_possessive_in_her_own_clause_tells_her_from_the_man_named_before():
    body = (
        "Piet Rendall accused the Marlow Crafts Guild on Tuesday of fixing its spring fair.\n\n"
        "Guild secretary Orla Varley denied the claim on Wednesday and said her committee had drawn the stalls by lot. "
        "\u201cEvery maker had the same chance,\u201d Varley said.\n\n"
        "\u201cThe best pitches went to the committee\u2019s friends,\u201d he said."
    )
    got = _quotes_by_actor(body)
    assert got[("allegation_made", "Piet Rendall")] == "The best pitches went to the committee\u2019s friends"


def test_without_a_word_on_sex_he_said_stays_with_the_last_speaker():
    # nothing says the secretary is a woman: "he said" continues her, as before
    body = (
        "Glassblower Piet Rendall accused the Marlow Crafts Guild on Tuesday of fixing its spring fair.\n\n"
        "Guild secretary Orla Varley denied the claim on Wednesday. \u201cEvery maker had the same chance,\u201d "
        "Varley said. \u201cWe drew the stalls by lot,\u201d he said."
    )
    got = _quotes_by_actor(body)
    assert "We drew the stalls by lot" in (got[("rebuttal_given", "Orla Varley")] or "")


def test_a_bodys_first_word_inside_another_name_is_no_mention_of_it():
    # "Energy" in "Varden Energy" is Varden, not the Energy Workers' Federation: the spokesperson
    # speaks for the body last mentioned, which is Varden
    body = (
        "Former technician Marta Quell has accused Varden Energy of skipping turbine inspections at its coastal "
        "wind farms.\n\n"
        'Varden Energy, which runs 40 wind farms, rejected her account. "Every turbine is inspected twice a year," '
        "a company spokesperson said.\n\n"
        "The Energy Workers' Federation said it had lodged a complaint with the Offshore Safety Executive about "
        'Varden\'s inspection records in March. The OSE said it "reads every complaint it receives".'
    )
    got = _quotes_by_actor(body)
    assert got[("rebuttal_given", "Varden Energy")] == "Every turbine is inspected twice a year"
    assert got[("complaint_filed", "Energy Workers' Federation")] is None  # neither Varden's words nor the OSE's


def test_a_role_the_article_gave_someone_names_them_later():
    # "the director" is Dr Harwood, whom the article called the trust's medical director, not the
    # surgeon who spoke last
    body = (
        "Surgeon Idris Kell accused the Fenmoor Hospitals Trust on Monday of cancelling operations to meet targets. "
        '"Patients are paying for a spreadsheet," he said.\n\n'
        "The trust's medical director, Dr Wen Harwood, denied the claim on Tuesday.\n\n"
        "Kell said he had raised the matter twice with the board.\n\n"
        '"No operation was cancelled to meet a target," the director said.'
    )
    got = _quotes_by_actor(body)
    assert got[("rebuttal_given", "Wen Harwood")] == "No operation was cancelled to meet a target"
    assert got[("allegation_made", "Idris Kell")] == "Patients are paying for a spreadsheet"
