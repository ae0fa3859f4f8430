"""The order a story's entries are told in: by time, with answers after what they answer.

ORDER (the API's `order` string) states the rule. In short:
1. Links. An entry answers the entries its reports link to (`responds_to`, from extraction).
   A rebuttal with no link answers the latest allegation, not dated or reported after it,
   whose actor it rebuts or whose target it speaks for (the same target, or the accused
   answering); with no target named, the latest such allegation of the story.
2. Days. A dated entry is shown at its date. An undated entry is shown at the earliest of
   its first report's publication day and the days of the entries that answer it (it must
   have happened by then); that position is inferred, and the entry says why.
3. Order. Entries nothing links keep the plain rule: day, dated before undated on a day,
   then publication time, then log position. Links then only move an entry later within
   its day, never before what it answers. A link against the dates (an answer dated before
   what it answers) does not move anything.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from shared.domain.matching import Aliases, LogOrder, name_relation
from shared.domain.wording import in_text, long_day, possessive

ORDER = (
    "causal time order: an entry never comes before an entry it responds to (responds_to links from "
    "extraction; a rebuttal with no link answers the latest earlier allegation against the same target). "
    "A dated entry sits at its event day; an undated entry at the earliest of its publication day and the "
    "days of the entries that answer it (placement.inferred, with placement.reason). Otherwise event time (the event "
    "day), dated before undated on a day, then publication time, then log position (partition, offset)"
)

NOUNS = {
    "allegation_made": "allegation",
    "rebuttal_given": "rebuttal",
    "complaint_filed": "complaint",
    "post_deleted": "deletion",
    "investigation_opened": "investigation",
    "statement_made": "statement",
    "apology_issued": "apology",
}


@dataclass
class Item:
    """What ordering needs to know of one entry."""

    entry_id: str
    event_type: str
    actor: str
    target: str | None
    occurred_at: str | None  # the entry's shown date (YYYY-MM-DD), None when undated
    published_at: str  # its first report's publication time
    log: LogOrder  # its first report's log position
    links: list[str] = field(default_factory=list)  # entry ids it responds to (from extraction)
    precision: str | None = None  # of occurred_at: day (default), week, month, year


@dataclass
class Placement:
    date: str  # YYYY-MM-DD: the day the entry is shown at
    inferred: bool
    reason: str | None
    responds_to: list[str]  # entry ids, extraction's links and inferred ones
    inferred_links: list[str]  # those among them the rebuttal rule added

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "inferred": self.inferred, "reason": self.reason}


def _day(item: Item) -> str:
    return (item.occurred_at or item.published_at)[:10]


def _answers(responder: Item) -> str:
    return "answers" if responder.event_type == "rebuttal_given" else "refers to"


def label(item: Item, day: str | None = None) -> str:
    """ "Jane Doe's rebuttal of 11 March 2025"."""
    exact = item.occurred_at and day == item.occurred_at[:10]
    when = f" of {long_day(day, item.precision if exact else 'day')}" if day else ""
    return f"{possessive(in_text(item.actor))} {NOUNS.get(item.event_type, item.event_type.replace('_', ' '))}{when}"


def _speaks_for(rebuttal: Item, allegation: Item, aliases: Aliases) -> bool:
    pairs = [
        (rebuttal.target, allegation.actor),
        (rebuttal.target, allegation.target),
        (rebuttal.actor, allegation.target),
    ]
    return any(a and b and name_relation(a, b, aliases) for a, b in pairs)


def infer_links(items: list[Item], aliases: Aliases) -> dict[str, list[str]]:
    """Rebuttals extraction left unlinked -> the allegation each answers (rule 1)."""
    latest_first = sorted(
        (i for i in items if i.event_type == "allegation_made"),
        key=lambda a: (_day(a), a.published_at, a.log),
        reverse=True,
    )
    out: dict[str, list[str]] = {}
    for r in items:
        if r.event_type != "rebuttal_given" or r.links:
            continue
        fallback = None
        for a in latest_first:
            # not after the rebuttal: by its date when dated, else by when it was reported
            if not (a.occurred_at <= _day(r) if a.occurred_at else a.published_at <= r.published_at):
                continue
            if _speaks_for(r, a, aliases):
                out[r.entry_id] = [a.entry_id]
                break
            fallback = fallback or a
        else:
            if fallback and not r.target:
                out[r.entry_id] = [fallback.entry_id]
    return out


def place(items: list[Item], aliases: Aliases | None = None) -> list[tuple[Item, Placement]]:
    """The entries in causal order, each with where it is shown and why."""
    aliases = aliases or Aliases()
    by_id = {i.entry_id: i for i in items}
    inferred = infer_links(items, aliases)
    links = {
        i.entry_id: [x for x in dict.fromkeys(i.links + inferred.get(i.entry_id, [])) if x in by_id and x != i.entry_id]
        for i in items
    }
    answered_by: dict[str, list[str]] = {i.entry_id: [] for i in items}
    for rid, sources in links.items():
        for s in sources:
            answered_by[s].append(rid)

    # Rule 2: days. Undated entries take the earliest day of what answers them (to a fixed point).
    day = {i.entry_id: _day(i) for i in items}
    bound_by: dict[str, str] = {}
    for _ in range(len(items)):
        changed = False
        for i in items:
            if i.occurred_at:
                continue
            for rid in answered_by[i.entry_id]:
                if day[rid] < day[i.entry_id]:
                    day[i.entry_id], bound_by[i.entry_id] = day[rid], rid
                    changed = True
        if not changed:
            break

    # Rule 3: a topological order (Kahn), smallest plain key first; edges only within or forward in days.
    def key(i: Item) -> tuple[str, str, str, LogOrder, str]:
        moved = i.entry_id in bound_by
        return (
            day[i.entry_id],
            "0" if i.occurred_at or moved else "1",
            "" if moved else i.published_at,
            i.log,
            i.entry_id,
        )

    edges: dict[str, list[str]] = {i.entry_id: [] for i in items}
    waiting = {i.entry_id: 0 for i in items}
    for rid, sources in links.items():
        for s in sources:
            if day[s] <= day[rid]:
                edges[s].append(rid)
                waiting[rid] += 1
    heap = [(key(i), i.entry_id) for i in items if waiting[i.entry_id] == 0]
    heapq.heapify(heap)
    done: list[str] = []
    left = set(by_id)
    while left:
        if not heap:  # a cycle of links: release its smallest member
            smallest = min(left, key=lambda x: key(by_id[x]))
            waiting[smallest] = 0
            heap = [(key(by_id[smallest]), smallest)]
        _, eid = heapq.heappop(heap)
        if eid not in left:
            continue
        left.discard(eid)
        done.append(eid)
        for nxt in edges[eid]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0 and nxt in left:
                heapq.heappush(heap, (key(by_id[nxt]), nxt))

    out = []
    for eid in done:
        i = by_id[eid]
        out.append(
            (
                i,
                Placement(
                    date=day[eid],
                    inferred=not i.occurred_at,
                    reason=_reason(i, day, bound_by, links, answered_by, by_id),
                    responds_to=links[eid],
                    inferred_links=inferred.get(eid, []),
                ),
            )
        )
    return out


def _reason(
    i: Item,
    day: dict[str, Any],
    bound_by: dict[str, Any],
    links: dict[str, Any],
    answered_by: dict[str, Any],
    by_id: dict[str, Any],
) -> str | None:
    if i.occurred_at:
        later = [by_id[s] for s in links[i.entry_id] if day[s] > day[i.entry_id]]
        if later:  # rule 3: a link against the dates moves nothing; say so
            return f"dated before {label(later[0], day[later[0].entry_id])}, which it is linked to answer; the dates decide"
        return None
    eid = i.entry_id
    if eid in bound_by:
        r = by_id[bound_by[eid]]
        return f"undated; placed before {label(r, day[r.entry_id])} that {_answers(r)} it"
    reported = f"undated; placed on the day it was first reported ({long_day(day[eid])})"
    answers = sorted((by_id[r] for r in answered_by[eid]), key=lambda r: (day[r.entry_id], r.log))
    if answers:
        first = answers[0]
        return f"{reported}, before {label(first, first.occurred_at)} that {_answers(first)} it"
    if links[eid]:
        s = by_id[links[eid][0]]
        return f"{reported}, after {label(s, s.occurred_at)} it {'answers' if i.event_type == 'rebuttal_given' else 'refers to'}"
    return reported
