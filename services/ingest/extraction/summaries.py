"""One short clause per event: the actor's name, the cue verb in the past tense, its object.

From the parse: the cue verb's own phrase (its particle, object, clausal complement for a
claim, prepositional phrases), trimmed of subordinate and relative clauses, appositions,
quotation marks, dates and sentence adverbs, with the actor's name as the subject. A passive
("the claims were denied by X") is turned round. When the parse gives no usable clause (a noun
cue such as "a now-deleted post by X", a cue inside a relative clause, an object-less verb),
a template per type says it plainly ("X filed a complaint with B against Y"). Never longer
than MAX_CHARS, never cut inside a word: pieces are dropped from the right, then tokens.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lemminflect import getInflection, getLemma
from spacy.tokens import Doc, Token

MAX_CHARS = 140
_DROP_DEPS = {
    "nsubj",
    "nsubjpass",
    "aux",
    "auxpass",
    "punct",
    "cc",
    "conj",
    "advcl",
    "relcl",
    "parataxis",
    "mark",
    "appos",
    "agent",
    "neg",
    "csubj",
    "dep",
    "intj",
    "expl",
    "meta",
    "npadvmod",
    "discourse",
}
_KEEP_ADVERBS = {"back", "down", "off", "aside", "away", "out", "up"}
_TIME_WORDS = re.compile(
    r"^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december|yesterday|today|"
    r"tonight|\d{4})$",
    re.I,
)
_SUBORDINATING_PREPS = {
    "following",
    "after",
    "before",
    "despite",
    "amid",
    "during",
    "since",
    "while",
    "as",
    "until",
    "because",
    "like",
    "within",
    "ahead",
}
_QUOTE_MARKS = {'"', "“", "”", "''", "``", "‘", "’"}
_DANGLING = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "and",
    "or",
    "in",
    "on",
    "at",
    "for",
    "with",
    "that",
    "by",
    "from",
    "about",
    "as",
    "its",
    "their",
    "his",
    "her",
    "which",
    "who",
    "but",
    "into",
    "over",
    "than",
    ",",
    "regarding",
    "concerning",
    "against",
    "was",
    "were",
    "is",
    "are",
    "had",
    "has",
    "have",
    "be",
}
_TRANSITIVE = {
    "deny",
    "reject",
    "dismiss",
    "accuse",
    "defend",
    "dispute",
    "refute",
    "rebut",
    "downplay",
    "rubbish",
    "rebuff",
    "delete",
    "remove",
    "file",
    "lodge",
    "submit",
}


@lru_cache(maxsize=4096)
def past(word: str) -> str:
    """'denies' -> 'denied', 'taken' -> 'took', 'has' stays out (the caller drops auxiliaries)."""
    lemma = (getLemma(word.lower(), upos="VERB") or (word.lower(),))[0]
    form = (getInflection(lemma, tag="VBD") or (word,))[0]
    return form


def write(findings, doc: Doc) -> None:
    """Set `summary` on each finding."""
    for f in findings:
        clause = None
        for ci in f.cue_tokens or []:
            if ci is not None and 0 <= ci < len(doc):
                clause = from_parse(f, doc[ci])
                if clause:
                    break
        f.summary = fit(clause or template(f))


def template(f) -> str:
    actor = f.actor["name"]
    target = (f.target or {}).get("name")
    body = (f.details or {}).get("body")
    if f.event_type == "allegation_made":
        return f"{actor} accused {target}" if target else f"{actor} made an allegation"
    if f.event_type == "rebuttal_given":
        return f"{actor} denied {_possessive(target)} allegation" if target else f"{actor} rejected an allegation"
    if f.event_type == "complaint_filed":
        text = f"{actor} filed a complaint"
        if body:
            text += f" with {'the ' if _takes_article(body) else ''}{body}"
        if target:
            text += f" against {target}"
        return text
    if f.event_type == "post_deleted":
        platform = (f.details or {}).get("platform")
        return f"{actor} deleted a {platform} post" if platform else f"{actor} deleted a post"
    return f"{actor}: {f.event_type.replace('_', ' ')}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _takes_article(body: str) -> bool:
    """'the Federal Housing Commission', but not 'the Ofwat' or 'the hospital board' twice."""
    words = body.split()
    return bool(words) and words[0][:1].isupper() and len(words) > 1 and words[0].lower() != "the"


def from_parse(f, cue: Token) -> str | None:
    """The clause the parse gives for the cue verb, or None when it gives none worth having."""
    if cue.pos_ not in ("VERB", "AUX") or cue.dep_ in ("relcl", "amod", "acl", "compound"):
        return None
    verb = cue
    if cue.pos_ == "AUX" and cue.head.i != cue.i and cue.head.pos_ == "VERB":
        verb = cue.head  # a pattern may name the auxiliary ("has" in "has deleted")
    kept: list[Token] = []
    passive_subject = [c for c in verb.children if c.dep_ == "nsubjpass"]
    objects = 0
    for c in verb.children:
        if c.dep_ == "dobj":
            objects += 1
            before = c.doc[c.left_edge.i - 1] if c.left_edge.i > 0 else None
            if objects > 1 and before is not None and before.text in ",;—–":
                continue  # "accused X of Y, a claim Z denied": the resumptive noun is not the object
        if c.i < verb.i and c.dep_ not in ("prt",):
            continue
        if c.dep_ in _DROP_DEPS or _is_time(c) or _is_quote_only(c):
            continue
        if c.dep_ == "advmod" and c.lower_ not in _KEEP_ADVERBS:
            continue
        if c.dep_ == "prep" and c.lower_ in _SUBORDINATING_PREPS:
            continue
        if c.dep_ == "ccomp" and f.event_type != "allegation_made":
            continue
        kept.extend(_trimmed(c))
    if passive_subject:
        kept = _trimmed(passive_subject[0]) + kept
    has_object = any(
        t.dep_ in ("dobj", "ccomp", "xcomp", "prep", "nsubjpass", "pcomp", "prt")
        for t in kept
        if t.head.i == verb.i or t.i in {p.i for p in passive_subject}
    )
    lemma = (getLemma(verb.lower_, upos="VERB") or (verb.lower_,))[0]
    if lemma in _TRANSITIVE and not any(t.dep_ in ("dobj", "nsubjpass", "ccomp", "pobj") for t in kept):
        return None
    if not has_object:
        return None
    kept = sorted({t.i: t for t in kept}.values(), key=lambda t: t.i)
    text = f"{f.actor['name']} {_join([past(verb.text)] + kept)}"
    while len(text) > MAX_CHARS:
        # too long: drop the rightmost prepositional phrase, then look again
        preps = [
            t
            for t in kept
            if t.dep_ in ("prep", "acl", "advcl", "xcomp")
            and t.head.i != verb.i
            or (t.dep_ == "prep" and t.head.i == verb.i and t.i > kept[0].i)
        ]
        if not preps:
            break
        # the phrase reaching furthest right, outermost first ("in exchange for ..." whole)
        last = max(preps, key=lambda t: (t.right_edge.i, -t.left_edge.i))
        gone = {x.i for x in last.subtree}
        kept = [t for t in kept if t.i not in gone]
        text = f"{f.actor['name']} {_join([past(verb.text)] + kept)}"
    return text


def _same_name(a: Token, b: Token) -> bool:
    """Both inside one named entity ("Health and Safety Executive"): never split a name."""
    if not a.ent_type_ or not b.ent_type_:
        return False
    lo, hi = sorted((a.i, b.i))
    return all(t.ent_iob_ == "I" for t in a.doc[lo + 1 : hi + 1])


def _trimmed(tok: Token) -> list[Token]:
    """A phrase without its subordinate parts: relative clauses, appositions, participles,
    parentheses, dates, quotation marks."""
    out = [tok] if tok.text not in _QUOTE_MARKS else []
    for c in tok.children:
        if _same_name(tok, c):
            out.extend(t for t in c.subtree if t.text not in _QUOTE_MARKS)
            continue
        if c.dep_ in ("relcl", "appos", "advcl", "parataxis", "acl", "punct", "cc", "conj", "npadvmod") and not (
            c.dep_ == "punct" and c.text in "-'’"
        ):
            continue
        if c.dep_ == "advmod" and c.head.pos_ in ("VERB", "AUX") and c.lower_ not in _KEEP_ADVERBS:
            continue
        if _is_time(c) or c.text in _QUOTE_MARKS:
            continue
        if c.dep_ == "prep" and c.lower_ in _SUBORDINATING_PREPS:
            continue
        out.extend(_trimmed(c))
    return out


def _is_time(tok: Token) -> bool:
    if tok.ent_type_ in ("DATE", "TIME") and tok.dep_ != "pobj":
        return True
    if tok.dep_ == "prep":
        objs = [c for c in tok.children if c.dep_ == "pobj"]
        return bool(objs) and all(o.ent_type_ in ("DATE", "TIME") or _TIME_WORDS.match(o.text) for o in objs)
    return tok.dep_ in ("npadvmod", "tmod") and bool(_TIME_WORDS.match(tok.text))


def _is_quote_only(tok: Token) -> bool:
    """A complement that is a whole quotation ('said: "..."') is not part of the clause."""
    sub = list(tok.subtree)
    left = tok.doc[sub[0].i - 1] if sub[0].i > 0 else None
    return tok.dep_ in ("ccomp", "parataxis") and (
        sub[0].text in _QUOTE_MARKS or (left is not None and left.text in _QUOTE_MARKS)
    )


def _join(items) -> str:
    """Words back into text: a verb form (str) then tokens, spaced as in the article where adjacent."""
    text, prev = "", None
    for item in items:
        if isinstance(item, str):
            text += item
            prev = None
            continue
        if text and not text.endswith(" "):
            adjacent = prev is not None and prev.i + 1 == item.i and not prev.whitespace_
            if not adjacent:
                text += " "
        word = item.text
        if item.is_sent_start and item.pos_ in ("DET", "PRON") and (not word[1:] or word[1:].islower()):
            word = word.lower()  # "A complaint was lodged ..." -> "... lodged a complaint"
        text += word
        prev = item
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+(['’]s)\b", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ,;:")


def fit(text: str, limit: int = MAX_CHARS) -> str:
    """At most `limit` characters, ending on a whole word that can end a clause."""
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    text = re.sub(r"\s*\([^)]*$", "", text)  # an unclosed parenthesis left by trimming
    if len(text) <= limit:
        return text
    words = text[: limit + 1].split(" ")
    if len(text) > limit and text[limit : limit + 1] != " ":
        words = words[:-1]  # the last word was cut: drop it
    while words and words[-1].lower().strip(",;:") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(" ,;:—–-")
