"""One event per (type, actor, target), and the links between events.

Mentions of the same event (lead and later detail, a repeated denial) merge into one
record that keeps each mention. Then: a rebuttal answers the allegation a reader would
pair it with (the one whose owner it names, the one against the rebutter or whom it
defends, else the nearest before it); a complaint cites the allegation its filer made
and any post named in the same sentence; missing targets are taken from those links and
marked as inferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.ingest.extraction.names import ORG_WORDS as _ORG_WORDS


@dataclass
class Record:
    event_type: str
    actor: str
    kind: str
    target: str | None
    target_kind: str | None
    mentions: list[dict]
    cue_tokens: list
    details: dict
    when: str | None
    precision: str | None
    quote: str | None
    reasons: list[str] = field(default_factory=list)
    answers: str | None = None
    defends: str | None = None
    sentences: set[int] = field(default_factory=set)
    responds_to: list[int] = field(default_factory=list)
    forward: tuple | None = None  # (sentence end token, kind, head word) of a description named later
    target_forward: tuple | None = None
    answers_forward: tuple | None = None
    needs_accusation: bool = False  # a rebuttal only if someone accused its actor
    needs_accuser: bool = False  # a rebuttal only if the party it answers accused someone

    @property
    def start(self) -> int:
        return self.mentions[0]["char_start"]


def same_party(a: str | None, b: str | None) -> bool:
    """'Fenwick' and 'Tamsin Fenwick', 'Orrin' and 'Orrin campaign': one party named two ways."""
    if not a or not b:
        return False
    a, b = _core(a), _core(b)
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if not re.search(r"\b%s\b" % re.escape(short), long_):
        return False
    # "Fenwick" in "Tamsin Fenwick", "Kestrel" in "Kestrel Party"; not "X University" in "X University Students' Union"
    extra = long_.replace(short, " ").split()
    return " " not in short or all(w in _ORG_WORDS for w in extra)


def _implied(r: Record) -> bool:
    """An allegation known only from its rebuttal: its target is a guess, so it joins the stated one."""
    return "allegation named by its rebuttal" in r.reasons


def _core(name: str) -> str:
    return re.sub(r"\s+(?:campaign|team|office|camp)$", "", name.lower().strip())


def merge(records: list[Record]) -> list[Record]:
    out: list[Record] = []
    for r in records:
        twin = next(
            (
                o
                for o in out
                if o.event_type == r.event_type
                and same_party(o.actor, r.actor)
                and (
                    o.target is None or r.target is None or same_party(o.target, r.target) or _implied(o) or _implied(r)
                )
            ),
            None,
        )
        if twin is None:
            out.append(r)
            continue
        for m, cue in zip(r.mentions, r.cue_tokens):
            if m not in twin.mentions:
                twin.mentions.append(m)
                twin.cue_tokens.append(cue)
        twin.sentences |= r.sentences
        twin.needs_accusation = twin.needs_accusation and r.needs_accusation
        twin.needs_accuser = twin.needs_accuser and r.needs_accuser
        if (
            len(r.actor) > len(twin.actor)
            and r.kind == twin.kind
            and not r.actor.lower().endswith((" campaign", " team", " office"))
        ):
            twin.actor = r.actor
        if _implied(twin) and not _implied(r):
            twin.target, twin.target_kind, twin.reasons = r.target, r.target_kind, list(r.reasons)
        for attr in ("target", "target_kind", "answers", "defends", "quote"):
            if getattr(twin, attr) is None and getattr(r, attr) is not None:
                setattr(twin, attr, getattr(r, attr))
        if twin.when is None and r.when:
            twin.when, twin.precision = r.when, r.precision
        for k, v in r.details.items():
            twin.details.setdefault(k, v)
        # a second, surer mention lifts what the first lacked
        twin.reasons = [x for x in twin.reasons if x in r.reasons]
    return out


def _nearest(cands: list[Record], at: int) -> Record | None:
    before = [c for c in cands if c.start <= at]
    if before:
        return max(before, key=lambda c: c.start)
    return min(cands, key=lambda c: c.start) if cands else None


def link(records: list[Record], kind_of, citing: set[int] = frozenset()) -> None:
    """Fill responds_to (indices into `records`) and the targets links imply."""
    index = {id(r): i for i, r in enumerate(records)}
    allegations = [r for r in records if r.event_type == "allegation_made"]
    posts = [r for r in records if r.event_type == "post_deleted"]
    for r in records:
        if r.event_type == "rebuttal_given":
            others = [a for a in allegations if not same_party(a.actor, r.actor)]
            pick = None
            if r.answers:
                pick = _nearest([a for a in others if same_party(a.actor, r.answers)], r.start)
            if pick is None and r.defends:
                pick = _nearest([a for a in others if same_party(a.target, r.defends)], r.start)
            if pick is None:
                pick = _nearest([a for a in others if same_party(a.target, r.actor)], r.start)
            if pick is None:
                pick = _nearest(others, r.start)
            if pick is not None:
                r.responds_to.append(index[id(pick)])
            if r.target is None:
                who = r.answers or (pick.actor if pick is not None else None)
                if who and not same_party(who, r.actor):
                    r.target, r.target_kind = who, kind_of(who)
                    if not r.answers:
                        r.reasons.append("inferred target")
        elif r.event_type == "complaint_filed":
            own = [a for a in allegations if same_party(a.actor, r.actor)]
            pick = _nearest(own, r.start)
            if pick is None and r.target:
                pick = _nearest([a for a in allegations if same_party(a.target, r.target)], r.start)
            if pick is not None:
                r.responds_to.append(index[id(pick)])
                if r.target is None and pick.target:
                    r.target, r.target_kind = pick.target, pick.target_kind
                    r.reasons.append("inferred target")
            for p in posts:
                if (p.sentences & r.sentences or p.sentences & citing and p.start > r.start) and index[
                    id(p)
                ] not in r.responds_to:
                    r.responds_to.append(index[id(p)])
    for a in allegations:
        if a.target is None:
            filed = [
                c for c in records if c.event_type == "complaint_filed" and same_party(c.actor, a.actor) and c.target
            ]
            if filed:
                a.target, a.target_kind = filed[0].target, filed[0].target_kind
                a.reasons.append("inferred target")
