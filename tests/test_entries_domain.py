"""Fast tier: the pure domain of entries (shared.domain.matching, causal_order, lead) and the
narrative's wording (services.query.render), on our own fictional names."""

from __future__ import annotations

import random

from services.query import render
from shared.domain import causal_order, lead, matching, timeline, wording
from shared.domain.causal_order import Item


def report(
    n: int,
    kind: str,
    actor: str,
    *,
    article: str,
    published: str,
    occurred: str | None = None,
    precision: str | None = "day",
    target: str | None = None,
    body: str | None = None,
    responds_to=(),
    sentence: str | None = None,
    quote: str | None = None,
    confidence: float = 0.7,
) -> dict:
    return {
        "event_id": f"ev-{n:03d}",
        "event_type": kind,
        "story_id": "s",
        "occurred_at": occurred,
        "occurred_precision": precision if occurred else None,
        "published_at": published,
        "recorded_at": published[:19] + ".000Z",
        "actor": {"name": actor, "kind": "person"},
        "target": {"name": target, "kind": "organisation"} if target else None,
        "quote": quote,
        "summary": f"{actor}: {sentence or 'something happened.'}",
        "details": {"body": body} if body else {},
        "source": {
            "article_id": article,
            "url": f"https://news.example.test/{article}",
            "outlet": f"Outlet {article}",
            "title": "t",
            "sentence": sentence or f"Sentence {n}.",
            "char_start": 0,
            "char_end": 9,
        },
        "extractor": {"version": "test", "confidence": confidence},
        "responds_to": list(responds_to),
        "log": {"partition": 0, "offset": n},
        "status": "active",
        "history": [],
    }


ALIASES = matching.Aliases(["Reports reached the Coastal Planning Board (CPB) on Friday."])


def test_name_variants_are_one_entity_and_different_names_are_not():
    same = [
        ("Hollis Grant's campaign", "the Hollis Grant campaign"),
        ("Grant campaign", "Hollis Grant campaign"),
        ("Grant", "Hollis Grant"),
        ("the Party", "Party"),
        ("Verity", "the Verity Party"),
        ("the Verity Party", "the Northern Verity Party"),
        ("CPB", "Coastal Planning Board"),
        ("Coastal Planning Board (CPB)", "CPB"),
        ("Hollis Grant", "Hollis Grant's team"),
    ]
    for a, b in same:
        assert matching.name_relation(a, b, ALIASES), (a, b)
        assert matching.name_relation(b, a, ALIASES), (b, a)
    for a, b in [
        ("Hollis Grant", "Hollis Bray"),
        ("Verity Party", "Unity Party"),
        ("CPB", "Harbour Office"),
        ("Grant", "Bray campaign"),
    ]:
        assert matching.name_relation(a, b, ALIASES) is None, (a, b)
    # initials count even without the text spelling them out
    assert matching.name_relation("Marsh Valley Water", "MVW", matching.Aliases())


def test_dates_are_compatible_within_their_precision():
    def ev(occurred, precision="day", published="2025-05-20T09:00:00Z"):
        return {"occurred_at": occurred, "occurred_precision": precision, "published_at": published}

    assert matching.date_relation(ev("2025-05-12"), ev("2025-05-12")) == "same date"
    assert matching.date_relation(ev("2025-05-12"), ev("2025-05-01", "month"))
    assert matching.date_relation(ev("2025-05-12"), ev("2025-05-10", "week"))
    assert matching.date_relation(ev("2025-05-12"), ev("2025-05-19", "week")) is None
    assert matching.date_relation(ev("2025-05-12"), ev("2025-05-13")) is None
    assert matching.date_relation(ev("2025-05-12"), ev(None)).startswith("undated report")
    # an undated report published before the dated one's day cannot be the same event
    assert matching.date_relation(ev("2025-05-12"), ev(None, published="2025-05-11T09:00:00Z")) is None


def test_reports_group_into_entries_and_different_events_stay_apart():
    evs = [
        report(
            1,
            "complaint_filed",
            "Hollis Grant campaign",
            article="a",
            published="2025-05-20T09:00:00Z",
            body="Coastal Planning Board (CPB)",
        ),
        report(
            2,
            "complaint_filed",
            "the Grant campaign",
            article="b",
            published="2025-05-21T09:00:00Z",
            occurred="2025-05-19",
            body="CPB",
            target="the Verity Party",
        ),
        # same actor, another body: another complaint
        report(
            3, "complaint_filed", "Grant campaign", article="c", published="2025-05-22T09:00:00Z", body="Harbour Office"
        ),
        report(
            4, "rebuttal_given", "Inka Molloy", article="a", published="2025-05-20T09:00:00Z", occurred="2025-05-18"
        ),
        # a second denial days later
        report(5, "rebuttal_given", "Molloy", article="c", published="2025-05-22T09:00:00Z", occurred="2025-05-21"),
        report(6, "rebuttal_given", "Inka Molloy", article="b", published="2025-05-21T09:00:00Z"),
        # one article never gives two reports of one event
        report(
            7, "rebuttal_given", "Inka Molloy", article="a", published="2025-05-20T09:00:00Z", occurred="2025-05-18"
        ),
    ]
    groups = matching.group_reports(evs)
    got = [[r["event_id"] for r in g.reports] for g in groups]
    assert got == [["ev-001", "ev-002"], ["ev-003"], ["ev-004", "ev-006"], ["ev-005"], ["ev-007"]]
    assert [g.entry_id for g in groups] == ["ev-001", "ev-003", "ev-004", "ev-005", "ev-007"]
    assert groups[0].reasons[0] == "first report"
    assert "body: " in groups[0].reasons[1] and "undated report" in groups[0].reasons[1]
    # replay-deterministic: the log order decides, not the order the store returns documents in
    shuffled = evs[:]
    random.Random(4).shuffle(shuffled)
    assert [[r["event_id"] for r in g.reports] for g in matching.group_reports(shuffled)] == got


def test_the_best_supported_value_is_shown_and_the_others_kept():
    evs = [
        report(1, "allegation_made", "Grant", article="a", published="2025-05-20T09:00:00Z", target="Verity"),
        report(
            2,
            "allegation_made",
            "Hollis Grant",
            article="b",
            published="2025-05-21T09:00:00Z",
            occurred="2025-05-01",
            precision="month",
            target="the Verity Party",
        ),
        report(
            3,
            "allegation_made",
            "Hollis Grant",
            article="c",
            published="2025-05-22T09:00:00Z",
            occurred="2025-05-14",
            target="the Verity Party",
        ),
    ]
    [entry] = [e.to_dict() for e in timeline.group(evs)]
    assert entry["actor"]["name"] == "Hollis Grant" and entry["target"]["name"] == "the Verity Party"
    assert (entry["occurred_at"], entry["occurred_precision"]) == ("2025-05-14", "day")  # 1 vs 1: the finer date
    assert entry["alternatives"]["actor"] == [{"value": {"name": "Grant", "kind": "person"}, "event_ids": ["ev-001"]}]
    assert entry["alternatives"]["when"] == [
        {"value": {"occurred_at": "2025-05-01", "occurred_precision": "month"}, "event_ids": ["ev-002"]}
    ]
    assert [p["reported"]["target"]["name"] for p in entry["provenance"]] == [
        "Verity",
        "the Verity Party",
        "the Verity Party",
    ]


def _item(eid, kind, actor, published, occurred=None, target=None, links=(), offset=0):
    return Item(
        entry_id=eid,
        event_type=kind,
        actor=actor,
        target=target,
        occurred_at=occurred,
        published_at=published,
        log=(0, offset),
        links=list(links),
    )


def test_causal_order_moves_an_undated_claim_before_its_dated_answer():
    items = [
        _item("claim", "allegation_made", "Ada Lark", "2025-03-14T09:00:00Z", offset=1),
        _item(
            "denial", "rebuttal_given", "Ben Moss", "2025-03-14T09:00:00Z", "2025-03-11", target="Ada Lark", offset=2
        ),
        _item("other", "statement_made", "Cy Dunn", "2025-03-12T09:00:00Z", "2025-03-12", offset=0),
    ]
    placed = causal_order.place(items)
    order = [(i.entry_id, p.date, p.inferred, p.reason) for i, p in placed]
    assert order == [
        ("claim", "2025-03-11", True, "undated; placed before Ben Moss's rebuttal of 11 March 2025 that answers it"),
        ("denial", "2025-03-11", False, None),
        ("other", "2025-03-12", False, None),
    ]
    assert placed[1][1].inferred_links == ["claim"]


def test_causal_order_rules_for_links_chains_and_conflicts():
    # an extraction link, a chain of undated answers, a link against the dates, a cycle
    items = [
        _item("a", "allegation_made", "Ada Lark", "2025-03-20T09:00:00Z", offset=1),
        _item("b", "statement_made", "Ben Moss", "2025-03-20T09:00:00Z", links=["a"], offset=2),
        _item("c", "complaint_filed", "Cy Dunn", "2025-03-20T09:00:00Z", "2025-03-15", links=["b"], offset=3),
        _item("d", "statement_made", "Di Roe", "2025-03-20T09:00:00Z", "2025-03-10", links=["e"], offset=4),
        _item("e", "statement_made", "Ed Poe", "2025-03-20T09:00:00Z", "2025-03-18", offset=5),
        _item("x", "statement_made", "Xu Li", "2025-03-21T09:00:00Z", links=["y"], offset=6),
        _item("y", "statement_made", "Yo Ki", "2025-03-21T09:00:00Z", links=["x"], offset=7),
    ]
    placed = {i.entry_id: p for i, p in causal_order.place(items)}
    order = [i.entry_id for i, _ in causal_order.place(items)]
    # a and b are undated: c (15 March) answers b which answers a, so both move to 15 March, in link order
    assert order[:4] == ["d", "a", "b", "c"]
    assert placed["a"].date == placed["b"].date == "2025-03-15"
    assert "before Ben Moss's statement of 15 March 2025" in placed["a"].reason
    # d (10 March) "answers" e (18 March): the dates win, the link does not move either
    assert order.index("d") < order.index("e") and placed["d"].responds_to == ["e"]
    assert (
        placed["d"].reason
        == "dated before Ed Poe's statement of 18 March 2025, which it is linked to answer; the dates decide"
    )
    # a cycle of links does not lose entries
    assert sorted(order) == sorted(i.entry_id for i in items) and order[-2:] == ["x", "y"]


def test_an_undated_claim_before_a_month_dated_answer_says_so():
    items = [
        _item("claim", "allegation_made", "Ada Lark", "2025-03-20T09:00:00Z", offset=1),
        Item(
            entry_id="reply",
            event_type="rebuttal_given",
            actor="Ben Moss",
            target="Ada Lark",
            occurred_at="2025-03-01",
            published_at="2025-03-20T09:00:00Z",
            log=(0, 2),
            precision="month",
        ),
    ]
    (_, claim), (_, reply) = causal_order.place(items)
    assert (claim.date, claim.reason) == (
        "2025-03-01",
        "undated; placed before Ben Moss's rebuttal of March 2025 that answers it",
    )
    assert reply.reason is None


def test_the_rebuttal_rule_picks_the_latest_earlier_allegation_against_the_same_target():
    items = [
        _item(
            "old", "allegation_made", "Ada Lark", "2025-03-01T09:00:00Z", "2025-03-01", target="Port Board", offset=1
        ),
        _item("new", "allegation_made", "Cy Dunn", "2025-03-03T09:00:00Z", "2025-03-03", target="Port Board", offset=2),
        _item(
            "elsewhere",
            "allegation_made",
            "Di Roe",
            "2025-03-04T09:00:00Z",
            "2025-03-04",
            target="Mill Trust",
            offset=3,
        ),
        _item(
            "later", "allegation_made", "Ed Poe", "2025-03-09T09:00:00Z", "2025-03-09", target="Port Board", offset=4
        ),
        _item("r", "rebuttal_given", "Port Board", "2025-03-05T09:00:00Z", "2025-03-05", offset=5),
        _item("unaimed", "rebuttal_given", "Fay Orr", "2025-03-06T09:00:00Z", "2025-03-06", offset=6),
    ]
    links = causal_order.infer_links(items, matching.Aliases())
    assert links == {"r": ["new"], "unaimed": ["elsewhere"]}


def test_lead_and_narrative_wording():
    assert [wording.plural(n, "outlet") for n in (0, 1, 2)] == ["0 outlets", "1 outlet", "2 outlets"]
    assert wording.and_list(["A", "B", "C"]) == "A, B and C"
    assert lead.date_range("2025-03-30", "2025-04-02") == "Between 30 March and 2 April 2025"
    assert wording.in_text("Verity Party") == "the Verity Party" and lead.in_text("Ada Lark") == "Ada Lark"
    evs = [
        report(
            1,
            "allegation_made",
            "Ada Lark",
            article="a",
            published="2025-03-14T09:00:00Z",
            target="Port Board",
            quote="the figures were hidden",
        ),
        report(2, "rebuttal_given", "Port Board", article="a", published="2025-03-14T09:00:00Z", occurred="2025-03-13"),
        report(
            3,
            "complaint_filed",
            "Ada Lark",
            article="b",
            published="2025-03-15T09:00:00Z",
            occurred="2025-03-14",
            body="Harbour Ombudsman",
        ),
    ]
    evs[2]["history"] = [
        {
            "change_id": "c1",
            "kind": "corrected",
            "recorded_at": "2025-03-16T10:00:00.000Z",
            "changes": {"occurred_at": "2025-03-14"},
            "previous": {"occurred_at": "2025-03-12"},
            "reason": "the filing was on Friday",
            "editor": "Night desk",
        }
    ]
    evs[2]["status"] = "corrected"
    entries = [e.to_dict() for e in timeline.group(evs)]
    data = lead.story_lead(entries)
    assert data["text"] == (
        "Between 13 and 14 March 2025, Ada Lark accused the Port Board of “the figures were hidden”. "
        "The Port Board rejected the allegation. Ada Lark filed a complaint with the Harbour Ombudsman. "
        "Reported by 2 outlets (Outlet a and Outlet b), 3 events in all."
    )
    text = render.narrative_plain("Port row", "s", entries, None)
    assert (
        "13 March 2025. Ada Lark accused the Port Board, saying “the figures were hidden” (Outlet a; date not "
        "reported; placed before the Port Board's rebuttal of 13 March 2025 that answers it). In response, the Port "
        "Board rejected the allegation (Outlet a)."
    ) in text
    assert "14 March 2025. The next day, Ada Lark filed a complaint with the Harbour Ombudsman (Outlet b)." in text
    assert (
        "Corrected on 16 March 2025 by Night desk: the date changed from 2025-03-12 to 2025-03-14, "
        "because the filing was on Friday."
    ) in text


def test_a_lead_whose_only_date_is_known_to_the_month_reads_it_so():
    # a story left with one month-dated event (a new reading dropped the rest) has a lead too
    assert lead.date_range("2025-05", "2025-05", "month") == "In May 2025"
    assert lead.date_range("2025", "2025", "year") == "In 2025"
    assert lead.date_range("2025-05", "2025-06-10", "month") == "Between May and 10 June 2025"
    assert wording.long_day("2025-05") == "May 2025"


def _random_story(seed: int, n: int) -> list[dict]:
    """Reports of a few invented parties over a few days: merges, undated reports, rebuttals
    linked and unlinked, bodies, and an alias spelled out in one sentence."""
    rnd = random.Random(seed)
    actors = [
        "Orla Penhale",
        "Penhale",
        "Tamsin Vey",
        "Vey",
        "Brackwater Rowing Club",
        "BRC",
        "Brackwater Rowing Club team",
    ]
    kinds = ["allegation_made", "rebuttal_given", "complaint_filed", "statement_made"]
    evs = []
    for i in range(n):
        day = 1 + rnd.randrange(6)
        evs.append(
            report(
                i,
                rnd.choice(kinds),
                rnd.choice(actors),
                article=f"art-{rnd.randrange(n // 3 + 1)}",
                published=f"2025-06-{day + rnd.randrange(2):02d}T{rnd.randrange(24):02d}:00:00Z",
                occurred=f"2025-06-{day:02d}" if rnd.random() < 0.7 else None,
                precision=rnd.choice(["day", "day", "week", "month"]),
                target=rnd.choice([None, "Tamsin Vey", "Brackwater Rowing Club", "BRC"]),
                body=rnd.choice([None, None, "Harbour Ombudsman"]),
                responds_to=[f"ev-{rnd.randrange(i):03d}"] if i and rnd.random() < 0.2 else [],
                sentence="Members of the Brackwater Rowing Club (BRC) met." if i == 0 else None,
                confidence=rnd.choice([0.5, 0.7, 0.9]),
            )
        )
    return evs


def test_a_grouping_extended_with_later_reports_is_the_grouping_of_them_all():
    for seed in range(40):
        evs = _random_story(seed, 24)
        cut = random.Random(seed).randrange(1, len(evs))
        base = timeline.Grouping(evs[:cut])
        before = [e.to_dict() for e in base.entries()]  # as a kept story has: its entries made
        extended = base.extended(evs[cut:])
        assert extended is not None
        assert [e.to_dict() for e in extended.entries()] == [e.to_dict() for e in timeline.group(evs)], seed
        assert [e.to_dict() for e in base.entries()] == before  # the grouping it came from is as it was


def test_a_grouping_is_not_extended_by_an_earlier_report_or_a_new_alias():
    evs = _random_story(3, 12)
    grouping = timeline.Grouping(evs[1:])
    assert grouping.extended([evs[0]]) is None  # earlier in the log than the others
    later = dict(evs[5], event_id="ev-900", log={"partition": 0, "offset": 900})
    later["source"] = {**later["source"], "sentence": "Tamsin Vey of the Quay Rowing Trust (QRT) spoke."}
    assert grouping.extended([later]) is None  # spells out an alias the story did not know
    later["source"] = {**later["source"], "sentence": "Nothing new."}
    assert grouping.extended([later]) is not None
