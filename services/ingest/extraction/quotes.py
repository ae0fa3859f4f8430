"""Quotations, who said them, and the event each belongs to.

1. `quotations(body)`: every span between quote marks, straight or curly, including a
   quotation running over several sentences and one carried over paragraphs (a paragraph
   that opens with a mark and leaves it open continues into the next one that opens again).
2. `speakers(...)`: the attribution of each quotation, from the parse: the reporting verb
   that governs it ("...," he said / said X / she told reporters: "..." / X said in a
   statement: "..."), "according to X", or, for a quotation standing alone at the start of a
   sentence, the last speaker of the same or the previous paragraph (a quote paragraph after a
   paraphrase). Pronouns, descriptions and spokespeople resolve to an entity (speakers.py).
3. `attach(...)`: each event takes the nearest quotation of its actor in the same or an adjacent
   sentence or paragraph; a quotation inside the cue's own sentence wins; when the actor has
   several events, each quotation goes to the nearest of them (a denial to the rebuttal).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from lemminflect import getLemma
from spacy.tokens import Doc, Token

from services.ingest.extraction.speakers import Entities, Entity, Speaker, text_of

OPEN = '"“'
CLOSE = '"”'
SPEECH_VERBS = {
    "say",
    "tell",
    "add",
    "write",
    "state",
    "insist",
    "argue",
    "claim",
    "allege",
    "accuse",
    "deny",
    "reject",
    "dismiss",
    "warn",
    "explain",
    "note",
    "continue",
    "declare",
    "announce",
    "reply",
    "respond",
    "answer",
    "counter",
    "comment",
    "tweet",
    "complain",
    "maintain",
    "stress",
    "emphasise",
    "emphasize",
    "ask",
    "describe",
    "call",
    "urge",
    "admit",
    "acknowledge",
    "confirm",
    "suggest",
    "recall",
    "conclude",
    "charge",
    "contend",
    "assert",
    "concede",
    "testify",
    "vow",
    "promise",
    "threaten",
    "remark",
    "observe",
    "rebut",
    "refute",
    "dispute",
    "defend",
    "downplay",
    "reiterate",
    "predict",
    "agree",
    "apologise",
    "apologize",
    "caution",
    "plead",
    "demand",
    "criticise",
    "criticize",
    "condemn",
    "protest",
    "brand",
    "label",
    "hit",
    "push",
    "brush",
    "rubbish",
    "lament",
    "quip",
    "joke",
    "shout",
    "inform",
    "assure",
    "recount",
    "cite",
    "quote",
    "blame",
    "slam",
    "attack",
    "question",
    "challenge",
    "welcome",
    "thank",
    "praise",
    "point",
}
# verbs that only report speech (as against event cues such as "accused X of 'fraud'")
SAYING = {
    "say",
    "tell",
    "add",
    "write",
    "state",
    "explain",
    "insist",
    "argue",
    "reply",
    "respond",
    "continue",
    "note",
    "declare",
    "maintain",
    "stress",
    "emphasise",
    "emphasize",
    "remark",
    "recall",
    "tweet",
}
_DENIAL = re.compile(
    r"\b(?:not|never|no|nothing|nobody|false|untrue|deny|denies|denied|reject|baseless|"
    r"groundless|unfounded|nonsense|wrong|incorrect|inaccurate|misleading|categorically|"
    r"n't|absolutely|fully|confident|lawful|lawfully|complied|proud|stand by)\b",
    re.I,
)


@lru_cache(maxsize=4096)
def lemma(word: str) -> str:
    found = getLemma(word.lower(), upos="VERB")
    return found[0] if found else word.lower()


@dataclass
class Quotation:
    start: int  # first character inside the marks
    end: int  # one past the last character inside the marks
    pieces: list[tuple[int, int]] = field(default_factory=list)  # spans when carried over paragraphs
    text: str = ""
    speaker: Entity | None = None
    attributed: bool = False  # a reporting verb or "according to" names the speaker
    alone: bool = False  # opens a sentence or paragraph, not a phrase quoted inside one
    reported: bool = False  # hangs from a plain verb of saying ("she said she had 'never ...'")
    cue_of: set = field(default_factory=set)  # findings whose cue clause holds it (their own words)


def quotations(body: str) -> list[Quotation]:
    """Spans between quote marks, with a quotation carried over paragraphs kept whole."""
    found: list[Quotation] = []
    carry: Quotation | None = None
    pos = 0
    for para in body.split("\n"):
        base = pos
        pos += len(para) + 1
        if not para.strip():
            continue
        lead = len(para) - len(para.lstrip())
        if carry is not None and para[lead : lead + 1] not in OPEN:
            found.append(carry)  # an unclosed quotation ends with its paragraph
            carry = None
        i, opened = 0, None
        while i < len(para):
            ch = para[i]
            if opened is None and ch in OPEN and _opens(para, i):
                opened = i
                if carry is not None and i == lead:
                    opened = i  # the carried quotation continues here
            elif opened is not None and ch in CLOSE and (ch == "”" or para[opened] == '"' or ch == '"'):
                if carry is not None:
                    carry.pieces.append((base + opened + 1, base + i))
                    carry.end = base + i
                    found.append(carry)
                    carry = None
                elif i > opened + 1:
                    found.append(Quotation(base + opened + 1, base + i, [(base + opened + 1, base + i)]))
                opened = None
            i += 1
        if opened is not None:  # open at the paragraph's end: continued if the next opens again
            piece = (base + opened + 1, base + len(para.rstrip()))
            if carry is None:
                carry = Quotation(piece[0], piece[1], [piece])
            else:
                carry.pieces.append(piece)
                carry.end = piece[1]
    if carry is not None:
        found.append(carry)
    for q in found:
        q.text = " ".join(body[a:b].strip() for a, b in q.pieces).strip().rstrip(",").strip()
        q.alone = _stands_alone(body, q)
    return [q for q in found if len(q.text) >= 2]


def _opens(text: str, i: int) -> bool:
    """A straight mark opens at the start or after a space or bracket; curly “ always opens."""
    if text[i] == "“":
        return True
    return i == 0 or not text[i - 1].isalnum()


class Layout:
    """Sentences and paragraphs by character offset; a quotation never splits a sentence's index."""

    def __init__(self, body: str, quotes: list[Quotation]):
        inside = [(q.start, q.end) for q in quotes]
        self.sent_starts = [0]
        self.para_starts = [0]
        for m in re.finditer(r"\n+", body):
            self.para_starts.append(m.end())
            self.sent_starts.append(m.end())
        for m in re.finditer(r"[.!?][\"”’]?\s+(?=[\"“A-Z0-9])", body):
            if not any(a < m.start() < b - 1 for a, b in inside):
                self.sent_starts.append(m.end())
        self.sent_starts = sorted(set(self.sent_starts))

    def sentence(self, char: int) -> int:
        return bisect.bisect_right(self.sent_starts, char) - 1

    def paragraph(self, char: int) -> int:
        return bisect.bisect_right(self.para_starts, char) - 1

    def sentence_span(self, char: int) -> tuple[int, int]:
        i = self.sentence(char)
        end = self.sent_starts[i + 1] if i + 1 < len(self.sent_starts) else None
        return self.sent_starts[i], end if end is not None else 10**9


def speakers(doc: Doc, quotes: list[Quotation], entities: Entities, layout: Layout, findings=()) -> None:
    """Set each quotation's speaker (an entity, or None when the text does not say).

    Reads the article in order, keeping who spoke last (in a quotation or a paraphrase such as
    "X told reporters that ..."), so "she said" after "A spokeswoman said ..." is the
    spokeswoman's organisation, and a quotation standing alone continues the last speaker."""
    text_of(doc)  # builds the cached text and sentences the steps below read
    inside = [(a, b) for q in quotes for a, b in q.pieces]
    steps: list[tuple[int, object]] = [(q.start, q) for q in quotes]
    for t in doc:
        # a verb of saying inside what someone else said ("said the company had written ...") is not a speaker
        if (
            _is_speech(t)
            and not any(a <= t.idx < b for a, b in inside)
            and not any(_is_speech(up) for up in t.ancestors)
        ):
            steps.append((t.idx, t))
    for f in findings:  # an event's actor is an antecedent too ("Acme removed the page. The firm said ...")
        actor = entities.match(f.actor["name"])
        for ci in f.cue_tokens or []:
            if actor is not None and ci is not None and 0 <= ci < len(doc):
                steps.append((doc[ci].idx, actor))
    for sent in doc.sents:  # the named subject of a sentence is the likeliest antecedent of the next "she"
        for t in sent:
            if t.dep_ in ("nsubj", "nsubjpass") and t.head.dep_ == "ROOT" and not _in_any(t, inside):
                if t.pos_ != "PROPN":  # "Her colleague, Dr X, said ...": the name in apposition
                    t = next((c for c in t.children if c.dep_ == "appos" and c.pos_ == "PROPN"), None)
                    if t is None:
                        break
                named = entities.match(_name(t))
                if named is not None:
                    steps.append((t.idx, named))
                break
    steps.sort(key=lambda s: s[0])
    last: Speaker | None = None

    def recent(para: int) -> Speaker | None:
        return last if last is not None and last.paragraph >= para - 1 else None

    for at, step in steps:
        para = layout.paragraph(at)
        if isinstance(step, Entity):
            if not (last is not None and last.paragraph == para and last.entity is step):
                last = Speaker(step, step.kind, para)
            continue
        if isinstance(step, Token):  # a paraphrase: "X said that ...", "X told reporters ..."
            subj = _subject_of(step)
            if subj is not None and not _in_any(subj, inside):
                e = entities.resolve(subj, last=recent(para))
                if e is not None:
                    last = Speaker(e, entities.surface(subj), para)
            continue
        q = step
        subj = _governing_subject(doc, q, layout) or _tail_subject(doc, q, layout) or _head_subject(doc, q, layout)
        verb = subj.head if subj is not None else None
        q.reported = verb is not None and lemma(verb.text) in SAYING
        if subj is not None:
            q.speaker = entities.resolve(subj, at=min(subj.idx, q.start), last=recent(para))
            q.attributed = True  # even when the speaker is no one the article's entities know
            if q.speaker is not None:
                last = Speaker(q.speaker, entities.surface(subj), para)
        elif q.alone and recent(para) is not None:
            # "...," he said. "More." / a quote paragraph right after a paraphrase by the same speaker
            q.speaker = recent(para).entity
            last = Speaker(q.speaker, last.surface, para)


def _name(tok: Token) -> str:
    return tok.doc[tok.left_edge.i : tok.i + 1].text


def _in_any(tok: Token, spans) -> bool:
    return any(a <= tok.idx < b for a, b in spans)


def _next_start(quotes: list[Quotation], q: Quotation) -> int:
    after = [o.start for o in quotes if o.start > q.start]
    return after[0] if after else 10**9


def _stands_alone(body: str, q: Quotation) -> bool:
    """Opens a sentence or a paragraph (not a phrase quoted inside someone's sentence)."""
    before = body[: q.start - 1].rstrip(" ")
    return not before or before[-1] in '.!?:\n”"' or before.endswith(("—", "–"))


def _in_quote(tok: Token, q: Quotation) -> bool:
    return any(a <= tok.idx < b for a, b in q.pieces)


def _quote_tokens(doc: Doc, q: Quotation) -> list[Token]:
    out = []
    for a, b in q.pieces:
        span = doc.char_span(a, b, alignment_mode="expand")
        if span is not None:
            out.extend(span)
    return out


def _is_speech(tok: Token) -> bool:
    return tok.pos_ in ("VERB", "AUX") and lemma(tok.text) in SPEECH_VERBS


def _subject_of(verb: Token, q: Quotation | None = None) -> Token | None:
    """The verb's subject (or a conjoined verb's: "X addressed the matter and said ..."); the
    agent of a passive; never a word inside the quotation itself."""
    v = verb
    for _ in range(4):
        subj = [c for c in v.children if c.dep_ in ("nsubj", "nsubjpass") and (q is None or not _in_quote(c, q))]
        if subj and subj[0].dep_ == "nsubjpass":
            agent = [p for a in v.children if a.dep_ == "agent" for p in a.children if p.dep_ == "pobj"]
            return agent[0] if agent else None
        if subj:
            return subj[0]
        if v.dep_ in ("conj", "xcomp", "advcl") and v.head.i != v.i:
            v = v.head
            continue
        return None
    return None


def _governing_subject(doc: Doc, q: Quotation, layout: Layout):
    """The subject of the reporting verb the quotation hangs from in the parse, or of a
    reporting verb inside a cue clause that contains it (`claimed that ... "a phrase"`), within
    the quotation's own sentence (the parser sometimes joins the next sentence on)."""
    toks = _quote_tokens(doc, q)
    if not toks:
        return None
    lo, _ = layout.sentence_span(max(0, q.start - 1))
    _, hi = layout.sentence_span(max(q.start, q.end - 1))
    roots = [t for t in toks if not _in_quote(t.head, q) or t.head.i == t.i]
    for root in roots:
        node = root
        for _ in range(8):
            if node.head.i == node.i:
                break
            node = node.head
            if not lo <= node.idx < hi:
                break
            if _in_quote(node, q):
                continue
            if _is_speech(node):
                subj = _subject_of(node, q)
                if subj is not None and lo <= subj.idx < hi:
                    return subj
            if node.dep_ in ("relcl",):
                break
    return None


_ACCORDING = re.compile(r"^[\s,;:—–-]*according to\s+", re.I)


def _tail_subject(doc: Doc, q: Quotation, layout: Layout):
    """'"...," said X' / '"...," X said' / '"...", according to X': the clause after the close."""
    body = text_of(doc)
    close = q.end + 1
    _, sent_end = layout.sentence_span(close)
    nxt = body.find("“", close)
    nxt2 = body.find('"', close)
    stop = min(
        [x for x in (sent_end, nxt if nxt >= 0 else None, nxt2 if nxt2 >= 0 else None, len(body)) if x is not None]
    )
    tail = body[close:stop]
    if not tail.strip() or not re.match(r"^[\s,;:—–-]", tail) and not tail.startswith((".", ",")):
        if not re.match(r"^[,.]?\s", tail):
            return None
    acc = _ACCORDING.match(tail)
    span = doc.char_span(close, stop, alignment_mode="contract")
    if span is None:
        return None
    if acc:
        for t in span:
            if t.lower_ == "to" and t.head.lower_ == "according":
                pobj = [c for c in t.children if c.dep_ == "pobj"]
                if pobj:
                    return pobj[0]
    for t in span:
        if _is_speech(t):
            subj = _subject_of(t, q)
            if subj is not None and subj.idx >= close:
                return subj
            break
    return None


def _head_subject(doc: Doc, q: Quotation, layout: Layout):
    """'X said in a statement: "..."' / 'X told reporters, "..."': the clause before the open."""
    body = text_of(doc)
    start, _ = layout.sentence_span(q.start - 1)
    head = body[start : q.start - 1]
    if not re.search(r"[:,]\s*$", head):
        return None
    span = doc.char_span(start, q.start - 1, alignment_mode="contract")
    if span is None:
        return None
    for t in reversed(span):
        if _is_speech(t):
            return _subject_of(t)
    return None


# --- attaching quotations to events -------------------------------------------------------


def _mention_spans(f) -> list[tuple[int, int]]:
    spans = [(m["char_start"], m["char_end"]) for m in (f.mentions or [])]
    return spans or [(f.char_start, f.char_end)]


def _distance(f, q: Quotation, layout: Layout) -> tuple | None:
    """How far a quotation is from an event's mentions: None beyond the adjacent paragraph."""
    best = None
    qs, qe = layout.sentence(q.start), layout.sentence(max(q.start, q.end - 1))
    qp, qp2 = layout.paragraph(q.start), layout.paragraph(max(q.start, q.end - 1))
    for a, b in _mention_spans(f):
        ms, me = layout.sentence(a), layout.sentence(max(a, b - 1))
        mp = layout.paragraph(a)
        inside = a <= q.start and q.end <= b + 1
        if inside or (qs <= me and ms <= qe):
            d = (0, 0, 0, 0)
        else:
            sd = ms - qe if qe < ms else qs - me
            pd = min(abs(qp - mp), abs(qp2 - mp))
            if pd > 3:
                continue
            d = (1, pd, sd, 1 if q.start < a else 0)
        if best is None or d < best:
            best = d
    return best


def attach(findings, doc: Doc, entities: Entities) -> None:
    """Set `quote` on each finding from the article's attributed quotations."""
    quotes = quotations(text_of(doc))
    layout = Layout(text_of(doc), quotes)
    speakers(doc, quotes, entities, layout, findings)
    _cue_objects(findings, doc, quotes, entities)
    quotes = runs(text_of(doc), quotes)
    claims: dict[int, list[tuple[tuple, int]]] = {}  # finding index -> [(distance, quote index)]
    for qi, q in enumerate(quotes):
        if q.speaker is None:
            continue
        own = [(i, f) for i, f in enumerate(findings) if entities.same(q.speaker, f.actor["name"])]
        employer = entities.speaks_for(q.speaker)
        if not own and employer is not None:  # "union president X said": the union's events
            own = [(i, f) for i, f in enumerate(findings) if entities.same(employer, f.actor["name"])]
        scored = [(d, i) for i, f in own if (d := _distance(f, q, layout)) is not None]
        if not scored:
            continue
        scored = sorted(
            ((-1,) if i in q.cue_of else _rank(d, findings[i].event_type, q), i, d[0] == 0) for d, i in scored
        )
        nearest = scored[0][0]
        for rank, i, in_cue_sentence in scored:
            # the nearest event of the speaker takes it; one whose cue sentence holds it shares it
            if rank == nearest or in_cue_sentence:
                claims.setdefault(i, []).append((rank, qi))
    for i, f in enumerate(findings):
        mine = sorted(claims.get(i, []))
        f.quote = quotes[mine[0][1]].text if mine else None
    _complaint_words(findings, entities)
    _deletion_words(findings, quotes, entities, layout)


def _cue_objects(findings, doc: Doc, quotes: list[Quotation], entities: Entities) -> None:
    """A quotation inside the cue's own clause ("the letter accuses the board of 'X'", "it
    accuses them of 'X'") is the event's words, whatever the clause's subject resolved to,
    unless a name of its own is the subject. A deletion's clause quotes the post, so not there."""
    for fi, f in enumerate(findings):
        actor = entities.match(f.actor["name"])
        # what a deleted post said is the post's text, not what its author says of deleting it
        if actor is None or f.event_type == "post_deleted":
            continue
        for ci in f.cue_tokens or []:
            if ci is None or not 0 <= ci < len(doc):
                continue
            cue = doc[ci]
            subj = next((c for c in cue.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subj is not None and subj.pos_ == "PROPN":
                continue
            lo, hi = cue.sent.start_char, cue.sent.end_char
            for q in quotes:
                # a word or two in marks is a label being named ('sold as "pure silk"'), not the charge
                if not lo <= q.start < hi or q.alone or len(q.text.split()) < 4:
                    continue
                toks = _quote_tokens(doc, q)
                if toks and any(a.i == ci for a in toks[0].ancestors):
                    q.speaker = actor
                    q.cue_of.add(fi)


def _complaint_words(findings, entities: Entities) -> None:
    """What a complainant says is the allegation its complaint makes: an allegation left
    without words, or with the same words, takes those of its actor's complaint, which keeps none
    (the complaint is the act, the allegation the words)."""
    for f in findings:
        if f.event_type != "allegation_made":
            continue
        actor = entities.match(f.actor["name"])
        for g in findings:
            if (
                g.event_type == "complaint_filed"
                and g.quote
                and actor is not None
                and entities.match(g.actor["name"]) is actor
                and f.quote in (None, g.quote)
            ):
                f.quote, g.quote = g.quote, None
                break


def _rank(d: tuple, event_type: str, q: Quotation) -> tuple:
    """Which quotation an event takes, best first: speech (a quotation that opens its sentence,
    or one a verb of saying reports) in the cue's sentence; speech in the same or an adjacent paragraph;
    a phrase quoted inside the cue's sentence ("accused X of 'silencing'"); a phrase nearby;
    anything further. Within a tier, nearer paragraphs, a quotation that fits the event's type
    (a denial for a rebuttal), nearer sentences, and what follows the cue before what precedes."""
    in_sentence, pd, sd, before = d
    speech = q.alone or (q.reported and len(q.text.split()) >= 4)
    if in_sentence == 0:
        tier = 0 if speech else 2
    elif pd <= 1:
        tier = 1 if speech else 3
    else:
        tier = 4
    return (tier, pd, _type_preference(event_type, q.text), sd, before)


def _type_preference(event_type: str, text: str) -> int:
    """A denial's words fit a rebuttal; an accusation's fit an allegation before the complaint or
    deletion of the same speaker ("filed a complaint ..., alleging that ...")."""
    denial = bool(_DENIAL.search(text))
    if event_type == "rebuttal_given":
        return 0 if denial else 2
    if denial:
        return 2
    return 0 if event_type == "allegation_made" else 1


def runs(body: str, quotes: list[Quotation]) -> list[Quotation]:
    """Consecutive quotations of one speaker in one paragraph, joined by an ellipsis
    ("A," he said. "B." -> "A … B"): one candidate, so neither half is chosen alone."""
    out: list[Quotation] = []
    for q in quotes:
        prev = out[-1] if out else None
        gap = body[prev.end : q.start] if prev is not None else ""
        if (
            prev is not None
            and q.speaker is not None
            and q.speaker is prev.speaker
            and "\n" not in gap
            and len(gap) <= 100
            and len(re.findall(r"[.!?]\s", gap)) <= 1
        ):
            prev.pieces = prev.pieces + q.pieces
            prev.end = q.end
            prev.text = f"{prev.text.rstrip(',')} … {q.text}"
            prev.alone, prev.reported = prev.alone or q.alone, prev.reported or q.reported
            prev.cue_of = prev.cue_of | q.cue_of
            continue
        out.append(
            Quotation(
                q.start, q.end, list(q.pieces), q.text, q.speaker, q.attributed, q.alone, q.reported, set(q.cue_of)
            )
        )
    return out


_TAKING_DOWN = re.compile(
    r"\b(?:delet\w*|remov\w*|(?:took|taken|take|taking|pulled|pull)\s+(?:\w+\s+){0,3}?down)\b", re.I
)


def _deletion_words(findings, quotes: list[Quotation], entities: Entities, layout: Layout) -> None:
    """A deletion left without words takes its actor's nearby quotation that speaks of taking
    something down ("I removed the video because ..."), even when a rebuttal holds it too."""
    for f in findings:
        if f.event_type != "post_deleted" or f.quote:
            continue
        mine = [
            (d, q)
            for q in quotes
            if q.speaker is not None
            and entities.same(q.speaker, f.actor["name"])
            and (d := _distance(f, q, layout)) is not None
        ]
        for _, q in sorted(mine, key=lambda m: m[0]):
            # of a run ("A … B") only the part about the deletion: the rest may be a denial's
            part = next((p for p in q.text.split(" … ") if _TAKING_DOWN.search(p)), None)
            if part is not None:
                f.quote = part
                break
