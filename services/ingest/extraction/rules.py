"""Rule-based extraction: cue verbs per event type, the named subject as actor.

Deliberately simple for the spine; it is transparent (every finding names its cue) and
offline. One real-world event per (type, actor) in an article; later mentions become
provenance of the first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from services.ingest.extraction.dates import resolve

EXTRACTOR_VERSION = "rules-0.1"

_CUES = {
    "complaint_filed": re.compile(r"\b(?:has |have |had )?(?:filed|lodged|submitted|files|lodges)\b[^.]*?\bcomplaint\b", re.I),
    "post_deleted": re.compile(r"\b(?:now-deleted|deleted|removed|took down)\b[^.]*?\b(?:post|tweet|page|video)\b", re.I),
    "rebuttal_given": re.compile(r"\b(?:denied|denies|rejected|rejects|downplayed|downplays|defended|defends|hit back|dismissed)\b", re.I),
    "allegation_made": re.compile(r"\b(?:has |have |had )?(?:claimed|alleged|accused|accuses|alleges|claims)\b", re.I),
}
_MODAL = re.compile(r"\b(?:would|could|might|may|considering|threatened to|plans? to|not|never|if)\s+(?:\w+\s+){0,2}$", re.I)
_TITLES = re.compile(r"^(?:(?:UK|US|former|Deputy|Prime|Minister|President|Vice|Democratic|Republican|Dr|Mr|Mrs|Ms|"
                     r"Sir|Dame|Chief|Executive|Secretary|Senator|Governor|Mayor|Head|The|the)\.?\s+)+")
_WORD = r"[A-Z][\w\-]*(?:['’](?!s\b)\w+)?"
_NAME = re.compile(r"(%s(?:\s+(?:of\s+)?%s)*)(?:['’]s\s+(campaign|team|lawyers|party|office))?" % (_WORD, _WORD))
_ADJECTIVAL = re.compile(r"\b(?:regarding|about|of|the|an|a|over|concerning|for|into)\s+$", re.I)
_PRONOUN = re.compile(r"\b(he|she|they|it)\b", re.I)
_ORG_WORDS = re.compile(r"\b(?:Party|campaign|Commission|Council|Trust|Ltd|Inc|Group|Union|Committee|Department|"
                        r"Ministry|Agency|Company|Association|Guild|Board|Authority|Office|Labour)\b")
_QUOTE = re.compile(r"[\"“]([^\"“”]{3,})[\"”]")
_BODY = re.compile(r"\bwith (?:the )?((?:[A-Z][\w’'\-]+\s*)+(?:\([A-Z]+\))?)")
_PLATFORM = re.compile(r"\b(LinkedIn|Twitter|X|Facebook|Instagram|TikTok|YouTube|Threads|Bluesky|website|blog)\b")
_BY = re.compile(r"\bby ((?:[A-Z][\w’'\-]+\s?)+)")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"”’]?|$)")


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


def sentences(text: str):
    """Yield (sentence, start, end) with offsets into text; quotes stay inside their sentence."""
    for para in re.finditer(r"[^\n]+", text):
        chunk, base = para.group(0), para.start()
        pos = 0
        for m in re.finditer(r"(?:(?<=[.!?])|(?<=[.!?][\"”’]))\s+(?=[A-Z\"“])", chunk):
            piece = chunk[pos:m.start()]
            if piece.count('"') % 2 == 0 and piece.count("“") <= piece.count("”"):
                yield piece, base + pos, base + m.start()
                pos = m.end()
        if chunk[pos:].strip():
            yield chunk[pos:], base + pos, base + len(chunk)


def _kind(name: str) -> str:
    return "organisation" if _ORG_WORDS.search(name) else "person"


def _clean(name: str) -> str:
    name = _TITLES.sub("", name.strip()).strip()
    return re.sub(r"['’]s$", "", name)


def _subject(before: str, last_person: str | None) -> str | None:
    """The actor: the last name before the cue verb, or a pronoun's antecedent."""
    names = [m for m in _NAME.finditer(before) if _clean(m.group(1))]
    tail = before[names[-1].end():] if names else before
    if _PRONOUN.search(tail) and last_person:
        return last_person
    if not names:
        return last_person if _PRONOUN.search(before) else None
    m = names[-1]
    base = _clean(m.group(1))
    if m.group(2):
        return f"{base} {m.group(2)}"
    return base


def _full_name(actor: str, known: list[str]) -> str:
    """'Starmer' after 'Keir Starmer' is the same person; 'Trump campaign' keeps its head."""
    head, _, rest = actor.partition(" ")
    for name in reversed(known):
        if name.split()[-1] == head and name != head:
            return f"{name} {rest}".strip() if rest in ("campaign", "team", "lawyers", "party", "office") else (name if not rest else actor)
    return actor


def extract(title: str, body: str, published: datetime) -> list[Finding]:
    findings: dict[tuple[str, str], Finding] = {}
    last_person: str | None = None
    known: list[str] = []
    for sent, start, end in sentences(body):
        for event_type, cue in _CUES.items():
            m = cue.search(sent)
            if not m or _MODAL.search(sent[:m.start()]) or (
                    event_type == "allegation_made" and _ADJECTIVAL.search(sent[:m.start()])):
                continue
            before = sent[:m.start()]
            if event_type == "post_deleted":
                by = _BY.search(sent[m.end():]) or _BY.search(sent)
                actor = _clean(by.group(1)) if by else _subject(before, last_person)
            else:
                actor = _subject(before, last_person)
            if not actor or actor.lower() in ("in", "while", "the", "reports"):
                continue
            actor = _full_name(actor, known)
            details = {"cue": m.group(0).strip()}
            if event_type == "complaint_filed":
                body_m = _BODY.search(sent[m.start():])
                if body_m:
                    details["body"] = body_m.group(1).strip()
            if event_type == "post_deleted":
                plat = _PLATFORM.search(sent)
                if plat:
                    details["platform"] = plat.group(1)
            quote_m = _QUOTE.search(sent)
            when, precision = resolve(sent, published)
            key = (event_type, actor.lower())
            mention = {"sentence": sent.strip(), "char_start": start, "char_end": end}
            if key in findings:
                findings[key].mentions.append(mention)
                continue
            findings[key] = Finding(
                event_type=event_type, actor={"name": actor, "kind": _kind(actor)}, target=None,
                quote=quote_m.group(1) if quote_m else None,
                summary=f"{actor}: {sent.strip()[:200]}", details=details,
                occurred_at=when, occurred_precision=precision, sentence=sent.strip(),
                char_start=start, char_end=end, confidence=0.6, mentions=[mention])
            if event_type in ("complaint_filed", "post_deleted"):
                break  # a stronger cue wins over a generic verb in the same sentence
        for m in _NAME.finditer(sent):
            name = _clean(m.group(1))
            if len(name.split()) >= 2 and _kind(name) == "person" and not m.group(2):
                last_person = name
                known.append(name)
    return list(findings.values())
