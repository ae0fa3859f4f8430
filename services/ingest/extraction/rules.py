"""Extraction from the parse: cue predicates, their parties, and one event per (type, actor, target).

Per article:
  * the body is parsed once (grammar.parse); sentences keep their character offsets;
  * cues.Detector finds cue predicates by word and dependency relation, with the actor from
    the subject / passive agent / relative-clause head, and the target from the object,
    the reported clause, or "against X";
  * modality.unreal drops cues that did not happen (negated, modal, conditional, intended);
  * entities.Resolver names the parties (titles dropped, organisation names whole,
    spokespeople and lawyers act for their principal, pronouns and descriptions resolved);
  * links.merge / links.link merge mentions and connect rebuttals and complaints to what
    they answer or cite.
Last, postpass.complete (quotes.py / dates.py / summaries.py) attaches quotes, resolves dates
and writes summaries from these findings, resolving speakers through the same Resolver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from services.ingest.extraction import grammar, postpass
from services.ingest.extraction import lexicon as lx
from services.ingest.extraction.cues import Detector, subject
from services.ingest.extraction.dates import resolve
from services.ingest.extraction.entities import Actor, Resolver
from services.ingest.extraction.links import Record, link, merge
from services.ingest.extraction.links import same_party as links_same

EXTRACTOR_VERSION = "rules-0.4+spacy-parse"

_QUOTE = re.compile(r"[\"“]([^\"“”]{3,})[\"”]")
_CONFIDENCE_COST = {
    "pronoun": 0.15,
    "description": 0.1,
    "unnamed speaker": 0.15,
    "actor via document": 0.15,
    "inferred target": 0.1,
    "no explicit cue": 0.3,
    "filer from the speaker": 0.15,
    "author from earlier post": 0.1,
    "negated acceptance": 0.05,
}


@dataclass
class Finding:
    event_type: str
    actor: dict
    target: dict | None
    quote: str | None
    summary: str
    details: dict
    occurred_at: str | None
    occurred_precision: str | None
    sentence: str
    char_start: int
    char_end: int
    confidence: float
    mentions: list = field(default_factory=list)
    # indices, in the returned list, of the findings this one answers (a rebuttal's allegation)
    responds_to: list[int] = field(default_factory=list)
    # token index (in the parsed body) of the cue predicate, one per mention, None where a
    # pattern found it without the parse; for the post-pass (quotes, dates, summaries)
    cue_tokens: list = field(default_factory=list)


def sentences(text: str):
    """Yield (sentence, start, end, paragraph start) with offsets into text; quotes stay inside their sentence."""
    for para in re.finditer(r"[^\n]+", text):
        chunk, base = para.group(0), para.start()
        pos = 0
        for m in re.finditer(r"(?:(?<=[.!?])|(?<=[.!?][\"”’]))\s+(?=[A-Z\"“])", chunk):
            piece = chunk[pos : m.start()]
            if piece.count('"') % 2 == 0 and piece.count("“") <= piece.count("”"):
                yield piece, base + pos, base + m.start(), para.start()
                pos = m.end()
        if chunk[pos:].strip():
            yield chunk[pos:], base + pos, base + len(chunk), para.start()


def extract_many(articles: list[tuple[str, str, datetime]]) -> list[list[Finding]]:
    """extract() for several articles, parsed in one batch (nlp.pipe): the same findings, faster."""
    docs = grammar.parse_many([body for _, body, _ in articles])
    return [extract(title, body, published, doc) for (title, body, published), doc in zip(articles, docs)]


def _public_kind(kind: str | None) -> str:
    """The contract knows persons and organisations; a named collective counts as the latter."""
    return "person" if kind == "person" else "organisation"


def _date_for(c, sent: str, start: int, published, anchor):
    when, prec = resolve(sent, published, anchor)
    if c.event_type in ("allegation_made", "rebuttal_given"):
        # a date inside the reported claim ("alleged that ... in August") dates the conduct, not the claim
        rel = c.cue.idx - start
        that = re.search(r"\bthat\b", sent[rel:])
        if that:
            when, prec = resolve(sent[: rel + that.start()], published, anchor)
    return when, prec


def _statement(span, resolver: Resolver) -> Actor | None:
    """'X said (in a letter) that ...': a reported statement, the claim a later denial may answer.
    A quotation is not one: it is the speaker's own words, which a denial seldom answers."""
    for tok in span:
        if (
            tok.lower_ in lx.SAY
            and tok.pos_ == "VERB"
            and any(c.dep_ == "mark" and c.lower_ == "that" for c in tok.subtree if c.i != tok.i)
        ):
            s = subject(tok)
            if s is not None:
                return resolver.actor(s)
    return None


def extract(title: str, body: str, published: datetime, doc=None) -> list[Finding]:
    """The findings of one article. `doc`: the body already parsed by grammar.nlp()."""
    doc = doc if doc is not None else grammar.parse(body)
    resolver = Resolver(doc, body)
    detector = Detector(resolver)
    sents = list(sentences(body))
    records: list[Record] = []
    statements: list[tuple[int, Actor, dict]] = []
    dated: list[tuple[str | None, str | None, bool]] = []
    citing: set[int] = set()  # sentences that speak of a complaint ("the complaint cites a post ...")
    anchor = None
    for idx, (sent, start, end, para) in enumerate(sents):
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            dated.append((None, None, False))
            continue
        when_s, prec_s = resolve(sent, published, anchor)
        detector.note_post_authors(span)
        mention = {"sentence": sent.strip(), "char_start": start, "char_end": end}
        found = []
        for c in detector.candidates(span):
            if any(f.event_type == c.event_type and f.actor.name == c.actor.name for f in found):
                continue
            found.append(c)
        for c in found:
            when, prec = _date_for(c, sent, start, published, anchor)
            details = {"cue": c.cue_text}
            if c.body:
                details["body"] = c.body
            if c.platform:
                details["platform"] = c.platform
            quote_m = _QUOTE.search(sent)
            records.append(
                Record(
                    event_type=c.event_type,
                    actor=c.actor.name,
                    kind=c.actor.kind,
                    target=c.target.name if c.target else None,
                    target_kind=c.target.kind if c.target else None,
                    mentions=[dict(mention)],
                    cue_tokens=[c.cue.i],
                    details=details,
                    when=when,
                    precision=prec,
                    quote=quote_m.group(1) if quote_m else None,
                    reasons=list(dict.fromkeys(c.actor.reasons + (c.target.reasons if c.target else []) + c.reasons)),
                    answers=c.answers.name if c.answers else None,
                    defends=c.defends.name if c.defends else None,
                    sentences={idx},
                    needs_accusation=c.needs_accusation,
                    needs_accuser=c.needs_accuser,
                    forward=(c.cue.sent.end, c.actor.kind, c.actor.name) if c.actor.forward else None,
                    target_forward=(c.cue.sent.end, c.target.kind, c.target.name)
                    if c.target is not None and c.target.forward
                    else None,
                    answers_forward=(c.cue.sent.end, c.answers.kind, c.answers.name)
                    if c.answers is not None and c.answers.forward
                    else None,
                )
            )
            if c.event_type == "complaint_filed":
                detector.filers.append(c.actor)
            if c.event_type == "post_deleted":
                detector.post_authors.append(c.actor)
        if not found:
            st = _statement(span, resolver)
            if st is not None:
                statements.append((idx, st, dict(mention, when=when_s, prec=prec_s)))
        dated.append((when_s, prec_s, bool(found)))
        if any(t.lower_ in lx.COMPLAINT_NOUNS and t.pos_ == "NOUN" for t in span):
            citing.add(idx)
        subjects = [c.actor for c in found]
        root_subj = [t for t in span if t.dep_ == "nsubj" and t.head.dep_ == "ROOT"]
        if root_subj:
            a = resolver.actor(root_subj[0])
            if a is not None:
                subjects.append(a)
        resolver.note_sentence(span, subjects)
        if when_s:
            anchor = when_s
    _date_from_next_sentence(records, sents, dated)
    _disputed_statements(records, statements, sents)
    for r in records:
        if r.forward is not None:
            e = resolver.roster.named_after(*r.forward)
            if e is not None:
                r.actor, r.kind = e.name, e.kind
        if r.target_forward is not None:
            e = resolver.roster.named_after(*r.target_forward, exclude=r.actor)
            if e is not None:
                r.target, r.target_kind = e.name, e.kind
            else:
                r.target = r.target_kind = None
        if r.answers_forward is not None:
            e = resolver.roster.named_after(*r.answers_forward, exclude=r.actor)
            r.answers = e.name if e is not None else None
        client = resolver.acts_for.get(resolver.roster.canonical(r.actor).lower())
        if client is not None:
            r.actor, r.kind = client.name, client.kind
        r.actor = resolver.roster.canonical(r.actor)
        known = resolver.roster.find(r.actor)
        if known is not None:
            r.kind = known.kind
        if r.target:
            r.target = resolver.roster.canonical(r.target)
            known_target = resolver.roster.find(r.target)
            if known_target is not None:
                r.target_kind = known_target.kind
        for attr in ("answers", "defends"):
            if getattr(r, attr):
                setattr(r, attr, resolver.roster.canonical(getattr(r, attr)))
    for r in records:
        if r.target and links_same(r.target, r.actor):
            r.target = r.target_kind = None  # nobody accuses or answers themselves
    records = merge(records)
    records.sort(key=lambda r: r.start)
    link(records, resolver.kind_of, citing)
    records = _accused_denials(records)
    return postpass.complete([_finding(r) for r in records], doc, body, published, resolver)


def _accused_denials(records: list[Record]) -> list[Record]:
    """A first-person denial without a cue word counts only when someone accused the speaker, and
    "said X was wrong" only when X accused someone; indices in responds_to are rebuilt for the records that stay."""
    from services.ingest.extraction.links import same_party

    accusing = [r for r in records if r.event_type in ("allegation_made", "complaint_filed")]
    accused = [r.target for r in accusing if r.target]
    keep = [
        r
        for r in records
        if (not r.needs_accusation or any(same_party(r.actor, a) for a in accused))
        and (not r.needs_accuser or any(same_party(r.answers, a.actor) for a in accusing))
    ]
    if len(keep) == len(records):
        return records
    new_index = {id(r): i for i, r in enumerate(keep)}
    old = {i: r for i, r in enumerate(records)}
    for r in keep:
        r.responds_to = [new_index[id(old[i])] for i in r.responds_to if id(old[i]) in new_index]
    return keep


def _date_from_next_sentence(records, sents, dated) -> None:
    """The date often sits in the next sentence of the paragraph that elaborates the same event."""
    for r in records:
        if r.when is not None:
            continue
        idx = min(r.sentences)
        if idx + 1 < len(sents) and sents[idx + 1][3] == sents[idx][3] and not dated[idx + 1][2]:
            r.when, r.precision = dated[idx + 1][0], dated[idx + 1][1]


def _disputed_statements(records, statements, sents) -> None:
    """A denial with no allegation on record answers the latest statement by another party
    just before it ("X said that ... . Y denied that ...")."""
    if any(r.event_type == "allegation_made" for r in records):
        return
    for r in [r for r in records if r.event_type == "rebuttal_given"]:
        idx = min(r.sentences)
        for s_idx, actor, m in reversed(statements):
            if 0 < idx - s_idx <= 2 and actor.name.lower() != r.actor.lower():
                records.append(
                    Record(
                        event_type="allegation_made",
                        actor=actor.name,
                        kind=actor.kind,
                        target=None,
                        target_kind=None,
                        mentions=[{k: m[k] for k in ("sentence", "char_start", "char_end")}],
                        cue_tokens=[None],
                        details={"cue": "disputed statement"},
                        when=m["when"],
                        precision=m["prec"],
                        quote=None,
                        reasons=actor.reasons + ["no explicit cue"],
                        sentences={s_idx},
                    )
                )
                return


def _finding(r: Record) -> Finding:
    first = r.mentions[0]
    reasons = list(dict.fromkeys(r.reasons))
    details = dict(r.details)
    details["mentions"] = len(r.mentions)
    if reasons:
        details["confidence_reasons"] = reasons
    confidence = max(0.3, round(0.9 - sum(_CONFIDENCE_COST.get(x, 0.05) for x in reasons), 2))
    target = {"name": r.target, "kind": _public_kind(r.target_kind)} if r.target else None
    return Finding(
        event_type=r.event_type,
        actor={"name": r.actor, "kind": _public_kind(r.kind)},
        target=target,
        quote=r.quote,
        summary=f"{r.actor}: {first['sentence'][:200]}",
        details=details,
        occurred_at=r.when,
        occurred_precision=r.precision,
        sentence=first["sentence"],
        char_start=first["char_start"],
        char_end=first["char_end"],
        confidence=confidence,
        mentions=r.mentions,
        responds_to=list(r.responds_to),
        cue_tokens=r.cue_tokens,
    )
