"""Resolve relative date phrases against the article's publication time, and date each finding.

Past events are never dated after publication; an unresolvable phrase leaves the date unknown,
and an event the text does not date stays undated (never the publication date).

`resolve(text, published)` reads one phrase's worth of text; `date_findings(findings, doc,
published)` (the post-pass) chooses the text for each event: the cue's own clause (its
prepositional and adverbial time modifiers: "denied the claim on Tuesday"), then its sentence
without the reported claim ("alleged that ... in August" dates the conduct, not the claim) and
without quotations, then the next sentence of the paragraph when it elaborates the same event.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from services.ingest.extraction.speakers import text_of

MONTHS = {
    m: i
    for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1
    )
}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_M = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUM = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}

_MONTH_DAY = re.compile(r"\b(?:on\s+)?(%s)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?" % _M, re.I)
_DAY_MONTH = re.compile(
    r"\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(%s)\b(?:,?\s+(\d{4}))?" % _M, re.I
)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEKDAY = re.compile(r"\b(on|last|this|earlier on|late on|early on)?\s*(%s)\b" % "|".join(WEEKDAYS), re.I)
_MONTH = re.compile(
    r"\b(in|last|this|since|early|late|earlier in|during|mid-|back in)\s*(%s)\b(?:\s+(\d{4}))?" % _M, re.I
)
_RELATIVE = re.compile(
    r"\b(the next day|the following day|the day after|the day before|the previous day|"
    r"the next morning|the following morning|yesterday|today|this morning|this afternoon|"
    r"tonight|last night|earlier today|last week|earlier this week|this week|last month|"
    r"earlier this month|this month|last year|earlier this year|"
    r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten) (day|week|month)s? ago)\b",
    re.I,
)


def _past_month(pub: date, month: int) -> date:
    year = pub.year if month <= pub.month else pub.year - 1
    return date(year, month, 1)


def _day(pub: date, month: int, day: int, year: str | None) -> date | None:
    try:
        d = date(int(year) if year else pub.year, month, day)
    except ValueError:
        return None
    if d > pub:
        if year or (d - pub).days < 180:
            return None  # a future plan, not the time of a past event
        d = d.replace(year=d.year - 1)
    return d


@lru_cache(maxsize=4096)  # pure, and asked of one sentence by detection and the post-pass alike
def resolve(sentence: str, published: datetime, anchor: str | None = None) -> tuple[str | None, str | None]:
    """Return (ISO date, precision) for the first date phrase, never after publication.

    anchor: the last date resolved earlier in the article, for "the next day".
    """
    pub = published.date()
    hits: list[tuple[int, str, str]] = []
    m = _ISO.search(sentence)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if d <= pub:
                hits.append((m.start(), d.isoformat(), "day"))
        except ValueError:
            pass
    for m in _MONTH_DAY.finditer(sentence):
        d = _day(pub, MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3))
        if d:
            hits.append((m.start(), d.isoformat(), "day"))
            break
    for m in _DAY_MONTH.finditer(sentence):
        d = _day(pub, MONTHS[m.group(2).lower()], int(m.group(1)), m.group(3))
        if d:
            hits.append((m.start(), d.isoformat(), "day"))
            break
    m = _WEEKDAY.search(sentence)
    if m:
        back = (pub.weekday() - WEEKDAYS[m.group(2).lower()]) % 7
        if (m.group(1) or "").lower() == "last" and back == 0:
            back = 7
        hits.append((m.start(), (pub - timedelta(days=back)).isoformat(), "day"))
    m = _RELATIVE.search(sentence)
    if m:
        phrase = m.group(1).lower()
        val = None
        if phrase.startswith(("the next", "the following", "the day after")):
            if anchor and len(anchor) == 10:
                d = date.fromisoformat(anchor) + timedelta(days=1)
                val = (min(d, pub).isoformat(), "day")
        elif phrase in ("the day before", "the previous day"):
            if anchor and len(anchor) == 10:
                val = ((date.fromisoformat(anchor) - timedelta(days=1)).isoformat(), "day")
        elif phrase in ("yesterday", "last night"):
            val = ((pub - timedelta(days=1)).isoformat(), "day")
        elif phrase in ("today", "this morning", "this afternoon", "tonight", "earlier today"):
            val = (pub.isoformat(), "day")
        elif phrase == "last week":
            val = ((pub - timedelta(days=7)).isoformat(), "week")
        elif phrase in ("earlier this week", "this week"):
            val = ((pub - timedelta(days=pub.weekday())).isoformat(), "week")
        elif phrase == "last month":
            first = pub.replace(day=1) - timedelta(days=1)
            val = (first.isoformat()[:7], "month")
        elif phrase in ("earlier this month", "this month"):
            val = (pub.isoformat()[:7], "month")
        elif phrase == "last year":
            val = (str(pub.year - 1), "year")
        elif phrase == "earlier this year":
            val = (str(pub.year), "year")
        elif m.group(2):
            n = int(m.group(2)) if m.group(2).isdigit() else _NUM[m.group(2).lower()]
            unit = m.group(3).lower()
            if unit == "day":
                val = ((pub - timedelta(days=n)).isoformat(), "day")
            elif unit == "week":
                val = ((pub - timedelta(days=7 * n)).isoformat(), "week")
            else:
                y, mo = divmod(pub.year * 12 + pub.month - 1 - n, 12)
                val = (f"{y:04d}-{mo + 1:02d}", "month")
        if val:
            hits.append((m.start(), *val))
    m = _MONTH.search(sentence)
    if m and not any(h[0] <= m.start() + len(m.group(0)) and h[2] == "day" and h[0] >= m.start() for h in hits):
        month = MONTHS[m.group(2).lower()]
        if m.group(3):
            if date(int(m.group(3)), month, 1) <= pub:
                hits.append((m.start(), f"{int(m.group(3)):04d}-{month:02d}", "month"))
        else:
            hits.append((m.start(), _past_month(pub, month).isoformat()[:7], "month"))
    if not hits:
        return None, None
    # precise dates win over vaguer ones; among equals, the first in the sentence
    rank = {"day": 0, "week": 1, "month": 2, "year": 3}
    _, value, precision = min(hits, key=lambda h: (rank[h[2]], h[0]))
    return value, precision


# clauses under the cue that are not the cue's own: what was claimed, what else happened
_CLAUSAL = {"ccomp", "xcomp", "advcl", "relcl", "acl", "conj", "parataxis", "csubj", "pcomp", "appos"}
_KEEP_VERBAL = {"aux", "auxpass", "neg", "prt"}
_RANK = {"day": 0, "week": 1, "month": 2, "year": 3}


def _clause_tokens(tok):
    """The cue's own simple clause: it and its modifiers, stopping at embedded clauses."""
    out, stack = [], [tok]
    while stack:
        t = stack.pop()
        out.append(t)
        for c in t.children:
            if c.dep_ in _CLAUSAL or (c.pos_ in ("VERB", "AUX") and c.dep_ not in _KEEP_VERBAL):
                continue
            stack.append(c)
    return sorted(out, key=lambda t: t.i)


_SPANS = {"day": 1, "days": 1, "week": 7, "weeks": 7}


def _apart_from_host(cue, published, anchor, quoted) -> tuple[str | None, str | None]:
    """'X did A on Sunday, two days after Y did B': B is dated from A's day, the gap taken off
    (or added, for "before"). Only a day is shifted; a vaguer date says nothing of the gap."""
    mark = next((c for c in cue.children if c.dep_ == "mark" and c.lower_ in ("after", "before")), None)
    # the parser hangs "two days" from the verb or from "after", and "after" from the verb or the span
    span = next(
        (
            c
            for c in [*cue.children, *(mark.children if mark is not None else ())]
            if c.dep_ == "npadvmod" and c.lower_ in _SPANS
        ),
        None,
    )
    if mark is None and span is not None:
        mark = next((c for c in span.children if c.dep_ == "prep" and c.lower_ in ("after", "before")), None)
    if mark is None or span is None or cue.dep_ != "advcl" or cue.head.i == cue.i:
        return None, None
    count = next(
        (
            _NUM.get(c.lower_) or (int(c.text) if c.text.isdigit() else None)
            for c in span.children
            if c.dep_ == "nummod"
        ),
        None,
    )
    if count is None:
        count = 1 if any(c.dep_ == "det" and c.lower_ in ("a", "one") for c in span.children) else None
    if count is None:
        return None, None
    host = resolve(_text(_clause_tokens(cue.head), quoted), published, anchor)
    if host[1] != "day":
        return None, None
    gap = timedelta(days=count * _SPANS[span.lower_])
    day = date.fromisoformat(host[0]) + (-gap if mark.lower_ == "after" else gap)
    return (day.isoformat(), "day") if day <= published.date() else (None, None)


def _text(tokens, quoted) -> str:
    """The tokens as text, spaced as in the article ("2025-10-07" stays one date)."""
    out, prev = [], None
    for t in tokens:
        if any(a <= t.idx < b for a, b in quoted):
            continue
        if prev is not None and not (prev.i + 1 == t.i and not prev.whitespace_):
            out.append(" ")
        out.append(t.text)
        prev = t
    return "".join(out)


_RECENT_DAY = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"last night|this morning)\b",
    re.I,
)


def _gerund_tokens(tok):
    """The gerund complement of a cue ("accused X of ignoring ..."), as token indices."""
    out = set()
    for c in tok.children:
        if c.dep_ == "prep" and any(g.dep_ == "pcomp" for g in c.children):
            out.update(t.i for t in c.subtree)
    return out


def _claim_tokens(tok):
    """What the cue reports (its clausal complements), which a sentence-level date must skip."""
    skip = set()
    for c in tok.children:
        if c.dep_ in ("ccomp", "xcomp", "pcomp") or (c.dep_ == "prep" and any(g.dep_ == "pcomp" for g in c.children)):
            skip.update(t.i for t in c.subtree)
    return skip


# how a later sentence can tell the same event again: its verbs and the nouns naming it
TYPE_VERBS = {
    "complaint_filed": {"file", "lodge", "submit", "make", "send", "report", "refer", "bring"},
    "post_deleted": {"delete", "remove", "take", "pull", "scrub", "wipe", "erase"},
    "allegation_made": {"make", "allege", "accuse", "claim", "say", "tell", "write", "level", "repeat"},
    "rebuttal_given": {"deny", "reject", "dismiss", "dispute", "rebut", "refute", "say", "tell", "defend"},
}
EVENT_NOUNS = {
    "complaint_filed": {
        "complaint",
        "grievance",
        "petition",
        "referral",
        "report",
        "lawsuit",
        "suit",
        "claim",
        "application",
        "submission",
        "filing",
    },
    "post_deleted": {
        "post",
        "tweet",
        "video",
        "clip",
        "message",
        "photo",
        "picture",
        "entry",
        "page",
        "comment",
        "it",
        "story",
        "update",
        "blog",
    },
    "allegation_made": {
        "claim",
        "claims",
        "allegation",
        "allegations",
        "accusation",
        "accusations",
        "charge",
        "remarks",
        "comments",
    },
    "rebuttal_given": {"denial", "claim", "claims", "allegation", "allegations", "accusation", "accusations"},
}


def date_findings(findings, doc, published: datetime, entities=None) -> None:
    """Set occurred_at / occurred_precision on each finding from the text around its cue:
    its clause, its sentence, the next sentence of its paragraph; failing those, a later
    sentence (same or next paragraph) that tells the same event again ("The complaint,
    submitted last Friday, ..."); failing that, the event it is part of ("filed a complaint
    ..., alleging that ..." dates the allegation with the complaint)."""
    import re as _re

    body = text_of(doc)
    quoted = [(m.start(), m.end()) for m in _re.finditer(r"[\"“][^\"“”]*[\"”]", body)]
    paragraphs = [0] + [m.end() for m in _re.finditer(r"\n+", body)]
    spans = {(m["char_start"], m["char_end"]) for f in findings for m in (f.mentions or [])}
    anchors = _anchors(doc, published, quoted)
    for f in findings:
        found = []
        mentions = f.mentions or [{"char_start": f.char_start, "char_end": f.char_end}]
        cues = list(f.cue_tokens or []) + [None] * len(mentions)
        for order, (m, ci) in enumerate(zip(mentions, cues)):
            a, b = m["char_start"], m["char_end"]
            sent = doc.char_span(a, b, alignment_mode="expand")
            if sent is None:
                continue
            anchor = _anchor_before(anchors, a)
            cue = doc[ci] if ci is not None and 0 <= ci < len(doc) else None
            if cue is not None and cue.pos_ in ("VERB", "AUX"):
                when = resolve(_text(_clause_tokens(cue), quoted), published, anchor)
                if not when[0]:
                    when = _apart_from_host(cue, published, anchor, quoted)
                if when[0]:
                    found.append((0, _RANK[when[1]], order, when))
                    continue
            skip = _claim_tokens(cue) if cue is not None else set()
            when = resolve(_text([t for t in sent if t.i not in skip], quoted), published, anchor)
            if not when[0] and cue is not None:
                # "accused X of ignoring warnings on Wednesday": a day of the last week at the end
                # of a gerund goes with the accusation; a year or month there dates the conduct
                gerund = _text([t for t in sent if t.i in _gerund_tokens(cue)], quoted)
                if _RECENT_DAY.search(gerund):
                    when = resolve(gerund, published, anchor)
            if when[0]:
                found.append((1, _RANK[when[1]], order, when))
                continue
            nxt = _next_sentence(doc, b, paragraphs, spans)
            if nxt is not None:
                when = resolve(
                    _text(_setting_tokens(nxt.root), quoted), published, _anchor_before(anchors, nxt.start_char)
                )
                if when[0]:
                    found.append((2, _RANK[when[1]], order, when))
        if not found and f.event_type == "allegation_made":
            when = _published_when(f, doc, published, anchors, quoted)
            if when is not None:
                found.append((3, _RANK[when[1]], 0, when))
        if not found and entities is not None:
            when = _retold(f, doc, published, entities, paragraphs, quoted, anchors)
            if when is not None:
                found.append((3, _RANK[when[1]], 0, when))
        best = min(found)[3] if found else (None, None)
        f.occurred_at, f.occurred_precision = best
    _dated_by_enclosing_event(findings, doc)


_PUBLISHED_VERBS = {"published", "broadcast", "aired", "posted", "printed", "released", "screened", "run"}


def _published_when(f, doc, published, anchors, quoted):
    """'an article that alleged ...' and, by the next sentence, 'the article, published in March,
    ...': what a published piece alleges was alleged when it came out."""
    for ci in f.cue_tokens or []:
        if ci is None or not 0 <= ci < len(doc):
            continue
        cue = doc[ci]
        if cue.dep_ != "relcl" or cue.head.pos_ != "NOUN":
            continue
        piece = cue.head.lower_
        end = min(len(doc), cue.sent.end + 80)  # this sentence and about the next
        for t in doc[cue.head.i : end]:
            if t.lower_ == piece and t.pos_ == "NOUN":
                for acl in t.children:
                    if acl.dep_ == "acl" and acl.lower_ in _PUBLISHED_VERBS:
                        when = resolve(_text(list(acl.subtree), quoted), published, _anchor_before(anchors, acl.idx))
                        if when[0]:
                            return when
    return None


def _anchors(doc, published, quoted):
    """(sentence start, the last date that sentence resolves to), in order: for "the next day"."""
    out, anchor = [], None
    for sent in _sentences(doc):
        when = resolve(_text(list(sent), quoted), published, anchor)
        if when[0]:
            anchor = when[0]
            out.append((sent.start_char, anchor))
    return out


def _anchor_before(anchors, char: int):
    prior = [d for at, d in anchors if at < char]
    return prior[-1] if prior else None


def _retold(f, doc, published, entities, paragraphs, quoted, anchors):
    """The date of a later sentence, in the mention's paragraph or the next (or of an earlier one
    describing the event's noun: "a petition it handed in
    on Monday"), that tells the
    event again: a verb of the event's kind whose subject is the actor ("Ruddock removed it
    on Saturday", "Quennell made the claim on Tuesday") or whose object, or the noun it
    describes, names the event ("The complaint, submitted last Friday")."""
    import bisect as _bisect

    verbs, nouns = TYPE_VERBS.get(f.event_type, set()), EVENT_NOUNS.get(f.event_type, set())
    actor = entities.match(f.actor["name"])
    first = min(m["char_start"] for m in f.mentions) if f.mentions else f.char_start
    para = _bisect.bisect_right(paragraphs, first) - 1
    last_para_end = paragraphs[para + 2] if para + 2 < len(paragraphs) else len(text_of(doc))
    for sent in _sentences(doc):
        earlier = sent.start_char <= first
        if sent.start_char >= last_para_end or earlier and sent.end_char > first:
            continue
        for v in sent:
            if v.pos_ not in ("VERB", "AUX") or any(a <= v.idx < b for a, b in quoted):
                continue
            if _lemma(v) not in verbs:
                continue
            subj = [c for c in v.children if c.dep_ in ("nsubj", "nsubjpass")]
            objs = [c for c in v.children if c.dep_ in ("dobj", "nsubjpass")]
            by_actor = bool(subj) and actor is not None and entities.resolve(subj[0]) is actor
            # "the complaint" / "The complaint, submitted last Friday": a definite noun names the event again
            definite = [
                o
                for o in objs
                if o.lower_ in nouns
                and (
                    o.lower_ == "it"
                    or any(c.dep_ in ("det", "poss") and c.lower_ not in ("a", "an", "another") for c in o.children)
                )
            ]
            described = v.dep_ in ("acl", "relcl") and v.head.lower_ in nouns
            names_event = bool(definite) or described
            if earlier and not described:
                continue  # before the mention only "a complaint it lodged in May" tells the same event
            if not by_actor and not names_event:
                continue
            if f.event_type in ("allegation_made", "rebuttal_given") and not by_actor:
                continue  # a claim or denial is the speaker's act: the speaker must be named
            when = resolve(_text(_setting_tokens(v), quoted), published, _anchor_before(anchors, sent.start_char))
            if when[0]:
                return when
    return None


def _setting_tokens(v):
    """The verb's own clause plus where and when it was said: a participial opener
    ("Speaking on Tuesday, X said"), a participle in its prepositions ("in an interview
    published on Sunday")."""
    toks = list(_clause_tokens(v))
    for c in v.children:
        if c.dep_ == "advcl" and c.tag_ == "VBG" and c.i < v.i:
            toks.extend(c.subtree)
        if c.dep_ == "prep":
            for p in c.children:
                for a in p.children:
                    if a.dep_ == "acl" and a.tag_ == "VBN":
                        toks.extend(a.subtree)
    return sorted(set(toks), key=lambda t: t.i)


def _lemma(tok) -> str:
    return _verb_lemma(tok.lower_)


@lru_cache(maxsize=4096)
def _verb_lemma(word: str) -> str:
    from lemminflect import getLemma

    found = getLemma(word, upos="VERB")
    return found[0] if found else word


def _dated_by_enclosing_event(findings, doc) -> None:
    """'filed a complaint ..., alleging that ...': an undated event whose cue hangs from
    another event's cue (a participle, a purpose clause) happened with it."""
    by_cue = {}
    for f in findings:
        for ci in f.cue_tokens or []:
            if ci is not None and f.occurred_at:
                by_cue[ci] = f
    for f in findings:
        if f.occurred_at:
            continue
        for ci in f.cue_tokens or []:
            if ci is None or not 0 <= ci < len(doc):
                continue
            tok = doc[ci]
            if tok.dep_ in ("advcl", "xcomp", "conj") and tok.head.i in by_cue:
                host = by_cue[tok.head.i]
                f.occurred_at, f.occurred_precision = host.occurred_at, host.occurred_precision
                break
    # "The petition, handed in on Monday, accuses the council of ...": what a complaint's own
    # document alleges was alleged when the complaint was made, and the other way round
    for allegation in (f for f in findings if f.event_type == "allegation_made"):
        if not any(_said_by_document(doc, ci) for ci in allegation.cue_tokens or []):
            continue
        for complaint in (
            f for f in findings if f.event_type == "complaint_filed" and f.actor["name"] == allegation.actor["name"]
        ):
            dated, undated = (allegation, complaint) if allegation.occurred_at else (complaint, allegation)
            if dated.occurred_at and not undated.occurred_at:
                undated.occurred_at, undated.occurred_precision = dated.occurred_at, dated.occurred_precision


def _said_by_document(doc, ci) -> bool:
    """The cue's subject is the complaint itself ("the petition claims", "the lawsuit alleges"),
    or the cue is said in it ("in its submission, the union alleged")."""
    if ci is None or not 0 <= ci < len(doc):
        return False
    nouns = EVENT_NOUNS["complaint_filed"]
    cue = doc[ci]
    if any(c.dep_ == "nsubj" and c.lower_ in nouns for c in cue.children):
        return True
    # "In its letter to the regulator, the group alleged ...": said inside the complaint
    return any(
        c.dep_ == "prep"
        and c.lower_ in ("in", "within")
        and any(p.dep_ == "pobj" and p.lower_ in nouns for p in c.children)
        for c in cue.children
    )


def _sentences(doc):
    """The parse's sentences, listed once per doc (Token.sent walks the whole doc each time)."""
    cached = doc.user_data.get("storyline.sentences")
    if cached is None:
        cached = doc.user_data["storyline.sentences"] = list(doc.sents)
    return cached


def _next_sentence(doc, end: int, paragraphs: list[int], spans):
    """The sentence after a mention, in the same paragraph, that is no other event's mention."""
    import bisect as _bisect

    rest = text_of(doc)[end:]
    stripped = len(rest) - len(rest.lstrip(" "))
    start = end + stripped
    if start >= len(text_of(doc)) or text_of(doc)[start : start + 1] == "\n":
        return None
    if _bisect.bisect_right(paragraphs, start) != _bisect.bisect_right(paragraphs, max(0, end - 1)):
        return None
    sents = _sentences(doc)
    i = _bisect.bisect_right([x.start_char for x in sents], start) - 1
    if i < 0:
        return None
    sent = sents[i]
    if sent.end_char <= start:
        return None
    if any(a <= sent.start_char < b or sent.start_char <= a < sent.end_char for a, b in spans):
        return None
    return sent
