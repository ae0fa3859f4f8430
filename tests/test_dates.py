"""Dates (issue 11): phrase resolution against the publication time (fast, no parse), and which
phrase dates which event (the cue's clause, its sentence without the reported claim, the next
sentence, a later retelling), on invented sentences and on the project's own articles."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from postpass_support import find, gold_events, load, published

from services.ingest.extraction import Finding, extract, grammar, postpass
from services.ingest.extraction.dates import resolve

# Wednesday 11 June 2025, mid-morning
WED = datetime(2025, 6, 11, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "phrase, expected, precision",
    [
        ("on Monday", "2025-06-09", "day"),
        ("on Wednesday", "2025-06-11", "day"),  # the day of publication itself
        ("on Thursday", "2025-06-05", "day"),  # the latest Thursday on or before publication
        ("last Wednesday", "2025-06-04", "day"),
        ("on Monday night", "2025-06-09", "day"),
        ("on Tuesday morning", "2025-06-10", "day"),
        ("yesterday", "2025-06-10", "day"),
        ("last night", "2025-06-10", "day"),
        ("today", "2025-06-11", "day"),
        ("last week", "2025-06-04", "week"),
        ("earlier this month", "2025-06", "month"),
        ("this month", "2025-06", "month"),
        ("last month", "2025-05", "month"),
        ("on 3 June", "2025-06-03", "day"),
        ("on June 3", "2025-06-03", "day"),
        ("on the 3rd of June", "2025-06-03", "day"),
        ("in May", "2025-05", "month"),
        ("in August", "2024-08", "month"),  # a past August: last year's
        ("last July", "2024-07", "month"),
        ("in March 2023", "2023-03", "month"),
        ("last year", "2024", "year"),
        ("earlier this year", "2025", "year"),
        ("on 2025-06-02", "2025-06-02", "day"),
        ("three days ago", "2025-06-08", "day"),
        ("two weeks ago", "2025-05-28", "week"),
    ],
)
def test_phrases_resolve_against_publication(phrase, expected, precision):
    assert resolve(f"The panel met {phrase}.", WED) == (expected, precision)


@pytest.mark.parametrize(
    "sentence",
    [
        "The hearing is set for 2025-07-01.",  # after publication: a plan, not a past event
        "The inquiry will report on June 30, 2025.",
        "The panel met to discuss the plans.",  # no date at all
    ],
)
def test_no_past_date_stays_unknown(sentence):
    assert resolve(sentence, WED) == (None, None)


def test_the_next_day_needs_an_earlier_date():
    assert resolve("They replied the next day.", WED, anchor="2025-06-02") == ("2025-06-03", "day")
    assert resolve("They replied the next day.", WED) == (None, None)


def test_precise_phrase_wins_over_a_vaguer_one():
    assert resolve("Last month, on 14 May, the board met.", WED) == ("2025-05-14", "day")


# --- which phrase dates which event -----------------------------------------------------------


def one(body, event_type, pub=WED):
    found = [f for f in extract("Row", body, pub) if f.event_type == event_type]
    assert len(found) == 1, [(f.event_type, f.actor) for f in extract("Row", body, pub)]
    return found[0]


def test_the_cue_clause_date_not_another_clause_in_the_sentence():
    f = one(
        "Curator Elin Hagberg denied the report on Tuesday, a week after the museum closed on 2 June.", "rebuttal_given"
    )
    assert (f.occurred_at, f.occurred_precision) == ("2025-06-10", "day")


def test_a_date_in_the_claim_dates_the_conduct_not_the_claim():
    f = one(
        "Tenant Bashir Okoro alleged on Monday that the landlord had cut the heating in January.", "allegation_made"
    )
    assert f.occurred_at == "2025-06-09"
    f = one("Tenant Bashir Okoro alleged that the landlord had cut the heating in January.", "allegation_made")
    assert f.occurred_at is None


def test_an_event_the_text_does_not_date_stays_undated():
    f = one("Referee Dana Whitlow rejected the criticism from the away fans.", "rebuttal_given")
    assert (f.occurred_at, f.occurred_precision) == (None, None)


def test_the_next_sentence_elaborating_the_event_dates_it():
    body = (
        "Baker Ottilie Grange accused the market trust of doubling stall fees. "
        "Speaking at the market gates yesterday, she said traders had been given no warning."
    )
    assert one(body, "allegation_made").occurred_at == "2025-06-10"


def _finding(doc, event_type, actor, cue_word, kind="person"):
    """A finding as detection hands it over (the post-pass contract), with its cue token."""
    cue = next(t for t in doc if t.text == cue_word)
    sent = cue.sent
    mention = {"sentence": sent.text, "char_start": sent.start_char, "char_end": sent.end_char}
    return Finding(
        event_type=event_type,
        actor={"name": actor, "kind": kind},
        target=None,
        quote=None,
        summary="",
        details={},
        occurred_at=None,
        occurred_precision=None,
        sentence=sent.text,
        char_start=sent.start_char,
        char_end=sent.end_char,
        confidence=0.9,
        mentions=[mention],
        cue_tokens=[cue.i],
    )


def test_a_later_paragraph_retelling_the_event_dates_it():
    body = (
        "Cyclist Joren Maes has deleted a post mocking the race organisers.\n\n"
        "The organisers had complained about the message. Maes removed it on Sunday after a day of criticism."
    )
    doc = grammar.parse(body)
    f = _finding(doc, "post_deleted", "Joren Maes", "deleted")
    postpass.complete([f], doc, body, WED)
    assert (f.occurred_at, f.occurred_precision) == ("2025-06-08", "day")


def test_a_retelling_by_someone_else_does_not_date_it():
    body = (
        "Cyclist Joren Maes has accused the organisers of rigging the draw.\n\n"
        "Team manager Aino Virtanen made the same claim on Sunday."
    )
    doc = grammar.parse(body)
    f = _finding(doc, "allegation_made", "Joren Maes", "accused")
    postpass.complete([f, _finding(doc, "allegation_made", "Aino Virtanen", "made")], doc, body, WED)
    assert f.occurred_at is None


def test_an_event_inside_another_takes_its_date():
    body = (
        "Parents' group Safe Lanes filed a complaint with the county council on Friday, alleging that "
        "the new crossing was built without a safety audit in 2023."
    )
    doc = grammar.parse(body)
    complaint = _finding(doc, "complaint_filed", "Safe Lanes", "filed", "organisation")
    allegation = _finding(doc, "allegation_made", "Safe Lanes", "alleging", "organisation")
    postpass.complete([complaint, allegation], doc, body, WED)
    assert complaint.occurred_at == allegation.occurred_at == "2025-06-06"


@pytest.mark.parametrize(
    "gap, expected", [("a day after", "2025-06-05"), ("three days after", "2025-06-03"), ("a day before", "2025-06-07")]
)
def test_an_event_a_stated_gap_from_another_is_dated_from_it(gap, expected):
    body = (
        f"The Orchard Growers' Cooperative filed a complaint with the county council on Friday, {gap} "
        "chair Wilma Strand accused the council of blocking the new market hall."
    )
    doc = grammar.parse(body)
    complaint = _finding(doc, "complaint_filed", "Orchard Growers' Cooperative", "filed", "organisation")
    allegation = _finding(doc, "allegation_made", "Wilma Strand", "accused")
    postpass.complete([complaint, allegation], doc, body, WED)
    assert complaint.occurred_at == "2025-06-06"
    # "a day before" Friday is the Saturday after it, still before publication (Wednesday the 11th)
    assert allegation.occurred_at == expected


# --- the project's own articles ----------------------------------------------------------------

OWN = load()
DATED = list(gold_events(OWN, "date"))


@pytest.mark.parametrize("article, gold", DATED, ids=[f"{a['id']}-{g['type']}" for a, g in DATED])
def test_own_articles_dates(article, gold):
    found = [vars(f) for f in extract(article["title"], article["body"], published(article))]
    ev = find(found, gold)
    assert ev is not None
    if gold["date"] is None:
        assert ev["occurred_at"] is None
    else:
        assert str(ev["occurred_at"]).startswith(gold["date"]), (ev["occurred_at"], gold["date"])
