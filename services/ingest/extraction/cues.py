"""Cue predicates in the parse: which token reports which kind of event, and its parties.

Each detector takes a token and returns a `Candidate` (type, cue token, actor, target,
body) or None. The actor comes from the cue's grammatical subject (through conjunctions,
xcomp and participles to the clause that has one), the agent of a passive, or the head a
relative clause hangs on; never from where words sit in the string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Span, Token

from services.ingest.extraction import lexicon as lx
from services.ingest.extraction.entities import Actor, Resolver
from services.ingest.extraction.links import same_party
from services.ingest.extraction.modality import unreal
from services.ingest.extraction.names import ORG_NOUNS

# inflection tables built once (forms() spells out every inflection, too slow per token)
_POSTING = lx.forms("post", "publish", "share", "upload", "tweet", "write")
_PUBLISH = lx.forms("post", "publish")
_POST = lx.forms("post")
_FILE_ONLY = lx.forms("file", "lodge", "issue")
_STAFF = lx.noun_forms("member", "official", "officer", "staff")
_ALLEGATION_WORDS = lx.noun_forms("allegation", "accusation")
DOCUMENT_NOUNS = lx.noun_forms(
    "petition",
    "complaint",
    "lawsuit",
    "suit",
    "claim",
    "letter",
    "submission",
    "filing",
    "application",
    "grievance",
    "writ",
    "motion",
)


@dataclass
class Candidate:
    event_type: str
    cue: Token
    actor: Actor
    target: Actor | None = None
    body: str | None = None
    platform: str | None = None
    reasons: list[str] = field(default_factory=list)
    cue_text: str = ""
    answers: Actor | None = None  # a rebuttal: whose claim it names ("denied X's claims")
    defends: Actor | None = None  # a rebuttal: whom it defends ("defended the volunteers")
    needs_accusation: bool = False  # a denial in the speaker's own words: a rebuttal only if they were accused
    claim: Token | None = None  # a rebuttal: the claim noun it answers, when the text says whose it is
    needs_accuser: bool = False  # "said X was wrong": a rebuttal only if X accused someone


def _kids(tok: Token, *deps: str) -> list[Token]:
    return [c for c in tok.children if c.dep_ in deps]


def _relcl_filer(noun: Token) -> tuple[Token, Token] | None:
    """'a complaint it lodged in March', 'the lawsuit she filed': (the filing verb, who filed).
    A pronoun there is the subject of the clause the complaint sits in ("X withdrew a complaint
    it lodged")."""
    for rel in _kids(noun, "relcl"):
        if rel.lower_ not in lx.FILE or _passive(rel) or _kids(rel, "dobj"):
            continue
        subj = _kids(rel, "nsubj")
        if not subj or subj[0].lower_ in ("which", "that", "who"):
            continue
        if subj[0].pos_ == "PRON":
            outer = subject(noun.head) if noun.dep_ in ("dobj", "pobj") and noun.head.pos_ == "VERB" else None
            if outer is None or outer.pos_ == "PRON":
                return None
            return rel, outer
        return rel, subj[0]
    return None


def _sued_publisher(piece: Token) -> Token | None:
    """'sued the website over an article that alleged ...', 'a complaint against the paper about
    a story claiming ...': the party a complaint is against over a published piece published it."""
    if piece.lower_ not in lx.PUBLISHED_PIECES or piece.dep_ != "pobj" or piece.head.lower_ not in ("over", "about"):
        return None
    held = piece.head.head  # the lawsuit, or the verb "sued"
    if held.lower_ in lx.SUE and held.pos_ == "VERB":
        objs = _kids(held, "dobj")
        return objs[0] if objs and objs[0].lower_ not in lx.POST_NOUNS else None
    if held.pos_ == "VERB" and held.lower_ in lx.FILE:
        # "filed a lawsuit against X over an article": the "over" hangs on the verb
        held = next((o for o in _kids(held, "dobj") if o.lower_ in lx.COMPLAINT_NOUNS), held)
    if held.lower_ not in lx.COMPLAINT_NOUNS:
        return None
    for h in (held, held.head):
        for p in _kids(h, "prep"):
            if p.lower_ == "against":
                objs = _kids(p, "pobj")
                if objs and objs[0].lower_ not in lx.POST_NOUNS:
                    return objs[0]
    return None


def _verb_as_modifier(tok: Token) -> bool:
    """'The NFB defended Kerr.' parsed as a modifier of the name after it ("defended Kerr" the root):
    a verb with a subject of its own is the clause's verb, and that name its object."""
    return (
        tok.dep_ == "amod"
        and tok.pos_ == "VERB"
        and bool(_kids(tok, "nsubj"))
        and tok.head.dep_ == "ROOT"
        and tok.head.i == tok.i + 1
        and tok.head.pos_ == "PROPN"
    )


def _passive(tok: Token) -> bool:
    return bool(_kids(tok, "nsubjpass", "auxpass"))


def _agent(tok: Token) -> Token | None:
    for a in _kids(tok, "agent"):
        for p in _kids(a, "pobj"):
            return p
    # the parser sometimes hangs "by X" on the object or a modifier of the passive verb
    for t in tok.subtree:
        near, up = True, t.head
        while up.i != tok.i and up.head.i != up.i:
            # through phrases ("dismissed as 'mischief' by X"), never into another clause ("signed by X")
            if up.dep_ not in ("prep", "pobj", "dobj", "npadvmod", "advmod", "attr", "oprd", "acomp"):
                near = False
                break
            up = up.head
        if t.lower_ == "by" and t.dep_ in ("prep", "agent") and near and t.head.dep_ != "pcomp":
            objs = _kids(t, "pobj")
            if objs and t.head.lower_ not in lx.POST_NOUNS:
                return objs[0]
    return None


def subject(verb: Token) -> Token | None:
    for _ in range(5):
        s = _kids(verb, "nsubj")
        if s:
            # "The watchdog Civic Watch has ..." parses as two subjects (and a dateline can be a third):
            # the name is the subject
            # a dateline the parser made the subject, with the real subject in apposition ("CITY — X said")
            s = [next((c for c in t.children if c.dep_ == "appos"), t) if _dateline_like(t) else t for t in s]
            named = [t for t in s if t.pos_ == "PROPN" and t.text[:1].isupper() and not _dateline_like(t)]
            return (named or [t for t in s if not _dateline_like(t)] or s)[-1 if named else 0]
        if verb.dep_ == "relcl" or verb.dep_ == "acl":
            return verb.head
        if (verb.dep_ in ("xcomp", "conj", "advcl", "pcomp") or _elliptic_coordinate(verb)) and verb.head.i != verb.i:
            if _kids(verb, "nsubjpass"):
                return None
            verb = verb.head
            if verb.dep_ == "prep":
                verb = verb.head
            continue
        return None
    return None


def _elliptic_coordinate(verb: Token) -> bool:
    """'X posted a video, then deleted it': a second verb after a comma, with no subject of its
    own, that the parser hung on the first as `dep` rather than `conj`; it shares that subject."""
    if verb.dep_ != "dep" or verb.pos_ != "VERB" or verb.head.pos_ != "VERB" or verb.head.i > verb.i:
        return False
    before = verb.i - 1
    while before > verb.head.i and verb.doc[before].dep_ == "advmod" and verb.doc[before].head.i == verb.i:
        before -= 1  # "..., then deleted", "..., later removed"
    return verb.doc[before].text in (",", ";", "and", "but")


def _dateline_like(tok: Token) -> bool:
    """'OTTAWA —' at a paragraph's start, parsed as a subject."""
    return tok.text.isupper() and len(tok.text) > 2 and tok.i + 1 < len(tok.doc) and tok.doc[tok.i + 1].text in "—–-"


def speaker(tok: Token) -> Token | None:
    """The subject of the reporting verb whose clause holds `tok` ("X said it had ...")."""
    t = tok
    for _ in range(6):
        if t.head.i == t.i:
            return None
        if t.dep_ == "ccomp" and t.head.lower_ in lx.SAY:
            s = _kids(t.head, "nsubj")
            return s[0] if s else None
        t = t.head
    return None


def _owner_phrase(noun: Token) -> Token | None:
    """Whose claim/post a noun is: "X's claims", "claims by X", "claims from X", "a post in which X ..."."""
    poss = _kids(noun, "poss")
    if poss:
        return poss[0]
    for p in _kids(noun, "prep"):
        if p.lower_ in ("by", "from", "of"):
            objs = _kids(p, "pobj")
            if objs and (objs[0].pos_ in ("PROPN", "PRON") or p.lower_ != "of"):
                return objs[0]
        if p.lower_ in ("on", "from") and noun.lower_ in lx.POST_NOUNS:
            # "a page on the company's website", "a post from her account"
            for t in p.subtree:
                if t.dep_ == "poss" and t.head.lower_ in (
                    "website",
                    "site",
                    "account",
                    "accounts",
                    "page",
                    "feed",
                    "channel",
                    "profile",
                    "blog",
                    "timeline",
                ):
                    return t
    for c in _kids(noun, "acl", "relcl"):
        ag = _agent(c)
        if ag is not None:
            return ag
        s = _kids(c, "nsubj")
        if s and s[0].lower_ not in ("which", "that", "it"):
            return s[0]
    return None


class Detector:
    def __init__(self, resolver: Resolver):
        self.r = resolver
        self.post_authors: list[Actor] = []  # authors of posts the article mentioned, latest last
        self.filers: list[Actor] = []  # who filed the complaints found so far

    # --- parties --------------------------------------------------------------------------
    def who(self, tok: Token | None, cue: Token) -> Actor | None:
        if tok is None:
            return None
        if tok.lower_ in ("that", "which") and tok.head.dep_ == "relcl" and tok.head.head.lower_ in lx.PUBLISHED_PIECES:
            # "sued X over an article that alleged ...": the piece speaks for the publisher sued
            sued = _sued_publisher(tok.head.head)
            return self.who(sued, cue) if sued is not None else None
        if tok.pos_ == "NOUN" and tok.lower_ in DOCUMENT_NOUNS.keys() | lx.POST_NOUNS.keys() and not _kids(tok, "poss"):
            return self.document_owner(tok)
        if tok.lower_ == "it" and cue.lower_ not in lx.DELETE:
            # "It accuses the officers of ...": "it" after a complaint or a post is that document
            prev = [t for t in tok.doc[max(0, tok.sent.start - 50) : tok.i] if t.pos_ == "NOUN"]
            if prev and prev[-1].lower_ in DOCUMENT_NOUNS.keys() | lx.POST_NOUNS.keys():
                return self.document_owner(prev[-1])
        actor = self.r.actor(tok, speaker(cue))
        if actor is None or actor.name.lower() in lx.VAGUE:
            return None
        return actor

    def document_owner(self, noun: Token) -> Actor | None:
        """The party a document speaks for: its author ("the post by X"), else who filed or posted it."""
        owner = _owner_phrase(noun)
        if owner is not None:
            found = self.r.actor(owner)
            if found is not None:
                return Actor(found.name, found.kind, found.reasons + ["actor via document"])
        if noun.dep_ == "dobj" and (noun.head.lower_ in lx.FILE or noun.head.lower_ in _PUBLISH):
            # "X filed a lawsuit ... accusing Y": the lawsuit speaks for whoever filed it
            s = subject(noun.head)
            if s is not None and s.i != noun.i:
                found = self.r.actor(s, speaker(noun.head))
                if found is not None:
                    return Actor(found.name, found.kind, found.reasons + ["actor via document"])
        filer = _relcl_filer(noun) if noun.lower_ in lx.COMPLAINT_NOUNS else None
        if filer is not None:
            found = self.r.actor(filer[1], speaker(filer[0]))
            if found is not None:
                return Actor(found.name, found.kind, found.reasons + ["actor via document"])
        sued = _sued_publisher(noun) if noun.lower_ in lx.POST_NOUNS else None
        if sued is not None:
            found = self.r.actor(sued)
            if found is not None:
                return Actor(found.name, found.kind, found.reasons + ["actor via document"])
        pool = self.post_authors if noun.lower_ in lx.POST_NOUNS else self.filers
        if pool:
            a = pool[-1]
            return Actor(a.name, a.kind, a.reasons + ["actor via document"])
        return None

    def target(self, tok: Token | None) -> Actor | None:
        if tok is None:
            return None
        if any(c.dep_ == "appos" and c.pos_ == "PROPN" for c in tok.children):
            return self.r.actor(tok)  # "the band's drummer, Jo Vale": the named one
        if tok.lower_ in lx.CLAIM_PRONOUNS | {"him", "her"} and tok.pos_ == "PRON" and tok.lower_ != "them":
            return self.r.actor(tok) if tok.lower_ in ("him", "her") else None
        if tok.pos_ == "NOUN" and tok.lower_ in lx.CLAIM_OBJECTS:
            owner = _owner_phrase(tok)
            return self.r.actor(owner) if owner is not None else None
        if tok.pos_ == "NOUN":
            poss = _kids(tok, "poss")
            if poss and tok.lower_ not in _STAFF:
                found = self.r.actor(poss[0])
                if found is not None:
                    return found
        a = self.r.actor(tok)
        if a is None and tok.pos_ == "NOUN" and tok.lower_ in ORG_NOUNS:
            return Actor(self.r.phrase(tok), "organisation", ["description"])  # "the regulator", unnamed
        return a

    def clause_target(self, clause: Token) -> Actor | None:
        """Whom a reported clause accuses: its subject, a possessor of it, else the first name in it."""
        s = _kids(clause, "nsubj", "nsubjpass")
        if s:
            found = self.target(s[0])
            if found is not None and found.kind != "group":
                return found
        for t in clause.subtree:
            if (
                t.pos_ == "PROPN"
                and t.dep_ in ("nsubj", "nsubjpass", "poss", "dobj", "pobj", "appos", "conj")
                and t.i in self.r.ent_of
                and self.r.ent_of[t.i].label_ in ("PERSON", "ORG")
            ):
                found = self.r.actor(t)
                if found is not None:
                    return Actor(found.name, found.kind, ["inferred target"])
        return None

    # --- detectors ------------------------------------------------------------------------
    def candidates(self, sent: Span):
        for tok in sent:
            for fn in (self.complaint, self.post_deleted, self.rebuttal, self.allegation):
                c = fn(tok)
                if c is not None:
                    why = unreal(c.cue)
                    if why is None:
                        yield c
                        implied = self._implied_allegation(c)
                        if implied is not None:
                            yield implied
                    break

    def _implied_allegation(self, c: Candidate) -> Candidate | None:
        """'X rejected claims by Y that ...', 'X denied Y's allegations': Y made the claim X answers."""
        if c.event_type != "rebuttal_given" or c.answers is None or c.claim is None:
            return None
        if c.claim.lower_ not in lx.ALLEGATION_NOUNS or c.answers.name == c.actor.name:
            return None
        return Candidate(
            "allegation_made",
            c.claim,
            c.answers,
            Actor(c.actor.name, c.actor.kind, c.actor.reasons, c.actor.forward),
            reasons=["allegation named by its rebuttal"],
            cue_text=c.claim.text,
        )

    def _make(self, event_type, cue, subj, target=None, **kw) -> Candidate | None:
        if subj is None or self.r.in_dateline(subj):
            return None
        actor = self.who(subj, cue)
        if actor is None:
            return None
        return Candidate(event_type, cue, actor, target, cue_text=kw.pop("cue_text", cue.text), **kw)

    def allegation(self, tok: Token) -> Candidate | None:
        low = tok.lower_
        # the parser now and then calls a reporting verb a noun ("Residents claim dust has ...");
        # a subject and a clause of its own say otherwise
        verbal = tok.pos_ in ("VERB", "AUX") or (low in lx.ASSERT and _kids(tok, "nsubj") and _kids(tok, "ccomp"))
        if verbal and tok.dep_ not in ("amod", "compound"):
            if low in lx.ACCUSE:
                if _passive(tok):
                    ag = _agent(tok)
                    obj = _kids(tok, "nsubjpass")
                    return self._make("allegation_made", tok, ag, self.target(obj[0]) if obj else None)
                # "accused referee Paula Grant" parses as two objects: the name first
                obj = sorted(_kids(tok, "dobj"), key=lambda o: o.pos_ != "PROPN")
                return self._make("allegation_made", tok, subject(tok), self.target(obj[0]) if obj else None)
            if low in lx.ASSERT:
                if _passive(tok):
                    return None
                clause = _kids(tok, "ccomp", "xcomp")
                if not clause:
                    return None
                tgt = self.clause_target(clause[0]) if clause[0].dep_ == "ccomp" else None
                return self._make("allegation_made", tok, subject(tok), tgt)
            if low in lx.LIGHT_ALLEGE and _agent(tok) is not None:
                # "Allegations that X hid reports were first made by Y": the claim noun governs the verb
                claim = [a for a in tok.ancestors if a.pos_ == "NOUN" and a.lower_ in lx.ALLEGATION_NOUNS]
                subj = _kids(tok, "nsubjpass")
                if claim and not (subj and subj[0].lower_ in lx.ALLEGATION_NOUNS):
                    return self._make("allegation_made", tok, _agent(tok), cue_text=f"{tok.text} by")
            if low in lx.CRITICISE and not _passive(tok):
                obj = _kids(tok, "dobj")
                if obj and (obj[0].pos_ == "PROPN" or obj[0].i in self.r.ent_of or obj[0].lower_ in ORG_NOUNS):
                    tgt = self.target(obj[0])
                    if tgt is not None:
                        return self._make("allegation_made", tok, subject(tok), tgt)
        if tok.pos_ == "NOUN" and low in lx.ALLEGATION_NOUNS:
            head = tok.head
            if tok.dep_ == "dobj" and head.lower_ in lx.LIGHT_ALLEGE and not _passive(head):
                if self._legal(tok):
                    return None
                return self._make(
                    "allegation_made", head, subject(head), self._against(tok), cue_text=f"{head.text} {tok.text}"
                )
            if tok.dep_ == "nsubjpass" and head.lower_ in lx.LIGHT_ALLEGE:
                return self._make("allegation_made", head, _agent(head), self._against(tok), cue_text=f"{head.text} by")
            if tok.dep_ in ("pobj", "dobj", "nsubj", "ROOT", "appos", "conj") and low in _ALLEGATION_WORDS:
                for p in _kids(tok, "prep"):
                    if p.lower_ in ("from", "by"):
                        objs = _kids(p, "pobj")
                        if objs:
                            return self._make("allegation_made", tok, objs[0], self._against(tok))
        return None

    def _against(self, noun: Token) -> Actor | None:
        for p in _kids(noun, "prep") + _kids(noun.head, "prep"):
            if p.lower_ in ("against", "about", "over") and p.lower_ == "against":
                objs = _kids(p, "pobj")
                if objs:
                    return self.target(objs[0])
        return None

    def _legal(self, noun: Token) -> bool:
        if any(c.lower_ in lx.LEGAL_WORDS for c in noun.children if c.dep_ in ("amod", "compound")):
            return True
        # "brought a claim at the employment tribunal", "filed a case in the High Court": the
        # forum it went before makes a plain claim or case a legal one
        holders = [noun] + ([noun.head] if noun.dep_ in ("dobj", "nsubjpass") else [])
        return any(
            o.lower_ in lx.COURT_NOUNS
            for h in holders
            for p in _kids(h, "prep")
            if p.lower_ in ("at", "in", "before", "to", "with")
            for o in _kids(p, "pobj")
        )

    def rebuttal(self, tok: Token) -> Candidate | None:
        low = tok.lower_
        verb_as_modifier = _verb_as_modifier(tok)
        if tok.pos_ not in ("VERB", "AUX") or tok.dep_ in ("amod", "compound") and not verb_as_modifier:
            return None
        objs = _kids(tok, "dobj")
        obj = objs[0] if objs else (tok.head if verb_as_modifier else None)
        if low in lx.DENY or low in lx.REJECT:
            if _passive(tok):
                subj = _kids(tok, "nsubjpass")
                if not subj or subj[0].lower_ not in lx.CLAIM_OBJECTS.keys() | lx.CLAIM_PRONOUNS:
                    return None
                ag = _agent(tok)
                return self._make("rebuttal_given", tok, ag, answers=self.target(subj[0]))
            if low in lx.DENY:
                if obj is not None and obj.lower_ in lx.NOT_DENIED:
                    return None
                if _kids(tok, "dative"):
                    return None
            if obj is not None and obj.lower_ not in lx.CLAIM_OBJECTS:
                # "disputed parts of the account", "rejected much of the report"
                inner = [o for p in _kids(obj, "prep") if p.lower_ == "of" for o in _kids(p, "pobj")]
                if inner and inner[0].lower_ in lx.CLAIM_OBJECTS:
                    obj = inner[0]
            if low in lx.DENY:
                pass
            elif tok.dep_ == "relcl" and tok.head.lower_ in lx.CLAIM_OBJECTS:
                pass  # "..., a claim the company rejected": the claim is the relative clause's head
            elif not (
                obj is not None
                and (obj.lower_ in lx.CLAIM_OBJECTS or obj.lower_ in lx.CLAIM_PRONOUNS)
                or _kids(tok, "ccomp")
                or any(p.lower_ == "as" for p in _kids(tok, "prep"))
            ):
                return None
            cand = self._make("rebuttal_given", tok, subject(tok), answers=self.target(obj))
            if (
                cand is not None
                and obj is not None
                and obj.lower_ in lx.CLAIM_OBJECTS
                and _owner_phrase(obj) is not None
            ):
                cand.claim = obj
            return cand
        if low in lx.DEFEND:
            if _passive(tok) or obj is None or obj.lower_ in lx.NOT_DEFENDED:
                return None
            cand = self._make("rebuttal_given", tok, subject(tok), answers=None)
            if cand is not None and obj.lower_ not in lx.CLAIM_OBJECTS:
                cand.defends = self.target(obj)
            elif cand is not None:
                cand.answers = self.target(obj)
            return cand
        if low in lx.PHRASAL_VERBS:
            prt = {c.lower_ for c in _kids(tok, "prt", "advmod")}
            base = lx.PHRASAL_VERBS[low]
            if any((base, p) in lx.PHRASAL_REBUT for p in prt):
                at = [o for p in _kids(tok, "prep") if p.lower_ in ("at", "against") for o in _kids(p, "pobj")]
                answers = self.target(at[0]) if at else self.target(obj)
                return self._make(
                    "rebuttal_given", tok, subject(tok), answers=answers, cue_text=f"{tok.text} {' '.join(sorted(prt))}"
                )
            return None
        if low in lx.STAND and any(p.lower_ == "by" for p in _kids(tok, "prep", "prt")):
            # "stood by its reporting", "stands by her account", "stood by its player"
            held = [o for p in _kids(tok, "prep") if p.lower_ == "by" for o in _kids(p, "pobj")]
            cand = self._make("rebuttal_given", tok, subject(tok), cue_text=f"{tok.text} by")
            if cand is not None and held:
                if held[0].lower_ in lx.OWN_WORDS or held[0].lower_ in lx.CLAIM_OBJECTS:
                    # standing by one's own words answers an accusation only if there was one
                    cand.needs_accusation = True
                else:
                    defended = self.target(held[0])  # "stood by its player"
                    if defended is not None and defended.name != cand.actor.name:
                        cand.defends = defended
            return cand
        if low in lx.CALL:
            if obj is not None and obj.lower_ not in lx.CLAIM_OBJECTS:
                # 'called the allegation "fiction dressed up as ..."' parsed as one noun phrase
                inner = [c for c in obj.children if c.dep_ == "nmod" and c.lower_ in lx.CLAIM_OBJECTS]
                if inner:
                    return self._make("rebuttal_given", tok, subject(tok), answers=self.target(inner[0]))
            if obj is None:
                # 'called the allegation "fiction"' parsed as one phrase: the claim hangs on the label
                for o in _kids(tok, "oprd", "attr", "ccomp", "xcomp"):
                    inner = [
                        c
                        for c in o.children
                        if c.dep_ in ("nmod", "compound", "nsubj") and c.lower_ in lx.CLAIM_OBJECTS
                    ]
                    if inner:
                        return self._make("rebuttal_given", tok, subject(tok), answers=self.target(inner[0]))
            if (
                obj is not None
                and obj.lower_ in lx.CLAIM_OBJECTS
                and (
                    _kids(tok, "oprd", "xcomp", "ccomp", "attr")
                    or any(p.lower_ == "as" for p in _kids(tok, "prep"))
                    or self._quoted_label(obj)
                )
            ):
                return self._make("rebuttal_given", tok, subject(tok), answers=self.target(obj))
            return None
        if low in lx.ACCEPT and any(c.dep_ == "neg" for c in tok.children):
            if _kids(tok, "ccomp") or (obj is not None and obj.lower_ in lx.CLAIM_OBJECTS.keys() | lx.CLAIM_PRONOUNS):
                subj = subject(tok)
                if subj is not None and subj.lower_ in ("i", "we"):
                    subj = self._quote_speaker(tok)
                # the negation is the rebuttal: say so, then let modality see a clean cue
                return self._negated_accept(tok, subj, obj)
            return None
        if low in lx.SAY:
            for clause in _kids(tok, "ccomp"):
                if self._false_clause(clause, insist=low in lx.INSIST):
                    subj = subject(tok)
                    s = _kids(clause, "nsubj", "nsubjpass")
                    answers = self.target(s[0]) if s and s[0].lower_ in lx.CLAIM_OBJECTS else None
                    return self._make(
                        "rebuttal_given",
                        tok,
                        subj,
                        answers=answers,
                        cue_text=f"{tok.text} ... {self._false_word(clause)}",
                    )
                wrong = self._accuser_wrong(clause)
                if wrong is not None:
                    said_of, word = wrong
                    cand = self._make(
                        "rebuttal_given",
                        tok,
                        subject(tok),
                        answers=self.target(said_of),
                        cue_text=f"{tok.text} ... {word}",
                    )
                    if cand is not None and (cand.answers is None or same_party(cand.answers.name, cand.actor.name)):
                        return None
                    if cand is not None:
                        cand.needs_accuser = True
                        cand.reasons.append("no explicit cue")
                    return cand
                dismay = self._dismay(clause)
                if dismay is not None:
                    said_of, word = dismay
                    cand = self._make(
                        "rebuttal_given",
                        tok,
                        subject(tok),
                        answers=self.target(said_of) if said_of is not None else None,
                        cue_text=f"{tok.text} ... {word}",
                    )
                    if cand is not None and cand.answers is not None and same_party(cand.answers.name, cand.actor.name):
                        cand.answers = None  # a pronoun resolved to the speaker: nobody is answered yet
                    if cand is not None:
                        # "disappointed by her comments" names what it answers; bare dismay
                        # answers something only if the speaker was accused
                        if said_of is None or cand.answers is None:
                            cand.needs_accusation = True
                            cand.reasons.append("no explicit cue")
                    return cand
                if self._own_denial(clause):
                    cand = self._make("rebuttal_given", tok, subject(tok), cue_text=f"{tok.text}: not")
                    if cand is not None:
                        cand.needs_accusation = True
                        cand.reasons.append("no explicit cue")
                    return cand
        return None

    def _own_denial(self, clause: Token) -> bool:
        """'"I have never taken a bribe," she said', '"We did nothing wrong"': the speaker denies in
        the first person (or of their own side) that something happened."""
        subj = _kids(clause, "nsubj", "nsubjpass")
        if subj and subj[0].lower_ in ("he", "she") and clause.head.lower_ in lx.SAY and self._names_speaker(clause):
            # 'X said he had "never taken a penny"': the speaker, in the third person
            return any(c.lower_ == "never" and c.dep_ in ("neg", "advmod") for c in clause.children) and not any(
                c.dep_ == "aux" and c.lower_ in lx.MODAL_AUX for c in clause.children
            )
        if not subj or subj[0].lower_ not in ("i", "we", "nobody", "no", "nothing", "none"):
            if not (subj and any(c.dep_ == "det" and c.lower_ == "no" for c in subj[0].children)):
                return False
        if subj[0].lower_ in ("nobody", "nothing", "none") or any(
            c.dep_ == "det" and c.lower_ == "no" for c in subj[0].children
        ):
            return True
        if any(c.dep_ == "neg" for c in clause.children):
            return not any(c.dep_ == "aux" and c.lower_ in lx.MODAL_AUX for c in clause.children)
        return any(t.lower_ in ("nothing",) and t.dep_ in ("dobj", "attr") for t in clause.children)

    def _accuser_wrong(self, clause: Token) -> tuple[Token, str] | None:
        """'said the mayor had the facts backwards', 'said the minister had got it wrong', 'said
        Vasko was mistaken': the speaker says another party is in error. (Whether that party
        accused anyone is for the caller: "said the forecasters were wrong" answers nobody.)
        Returns (the party said to be wrong, the word)."""
        subj = _kids(clause, "nsubj")
        if (
            not subj
            or subj[0].lower_ in lx.CLAIM_OBJECTS
            or subj[0].pos_ == "PRON"
            and subj[0].lower_ not in ("he", "she", "they")
        ):
            return None  # a claim said to be wrong is _false_clause's
        if any(c.dep_ == "neg" or c.dep_ == "aux" and c.lower_ in lx.MODAL_AUX for c in clause.children):
            return None  # "was not wrong", "may be mistaken"
        if clause.lower_ in lx.BE:
            words = [a for a in _kids(clause, "acomp", "attr") if a.lower_ in lx.IN_ERROR]
        elif clause.lower_ in lx.HAVE_GOT:
            # "had the facts backwards", "got it wrong": a thing held or got, the wrong way round
            words = [a for a in _kids(clause, "acomp", "advmod", "oprd", "ccomp") if a.lower_ in lx.WRONG_WAY]
            if not _kids(clause, "dobj"):
                words = []
        else:
            return None
        return (subj[0], words[0].text) if words else None

    def _dismay(self, clause: Token) -> tuple[Token | None, str] | None:
        """'said it was "disappointed" by her comments': the speaker's own side is dismayed, by
        what someone said if the clause names it. Returns (the words it answers or None, the word)."""
        subj = _kids(clause, "nsubj", "nsubjpass")
        if not subj or subj[0].lower_ not in ("it", "we", "i", "he", "she", "they"):
            return None
        if any(c.dep_ == "neg" for c in clause.children):
            return None
        # "it was disappointed" (an adjective) or "it was saddened" (parsed as a passive)
        states = [clause] if clause.lower_ in lx.DISMAYED and _passive(clause) else _kids(clause, "acomp")
        for a in states:
            if a.lower_ not in lx.DISMAYED or any(c.dep_ == "neg" for c in a.children):
                continue
            said = [o for p in _kids(a, "prep") if p.lower_ in ("by", "at", "with") for o in _kids(p, "pobj")]
            if said and said[0].lower_ not in lx.CLAIM_OBJECTS:
                return None  # "disappointed by the result" answers nobody
            return (said[0] if said else None), a.text
        return None

    def _quoted_label(self, obj: Token) -> bool:
        """'called the accusation "a tale told for ..."': the quoted label parsed as a clause on the claim."""
        nxt = obj.doc[obj.i + 1] if obj.i + 1 < len(obj.doc) else None
        return (
            nxt is not None
            and nxt.is_quote
            and any(c.i > obj.i and c.dep_ in ("relcl", "appos", "acl") for c in obj.children)
        )

    def _names_speaker(self, clause: Token) -> bool:
        """The reporting verb's subject is a named person (not a pronoun or a description)."""
        s = subject(clause.head)
        return s is not None and s.pos_ == "PROPN"

    def _quote_speaker(self, tok: Token) -> Token | None:
        """'"We do not accept that ...," a spokesperson said': the speaker of the quote."""
        sent = tok.sent
        root = sent.root
        if root.i != tok.i and root.lower_ in lx.SAY:
            return subject(root)
        return None

    def _negated_accept(self, tok, subj, obj) -> Candidate | None:
        c = self._make(
            "rebuttal_given",
            tok,
            subj,
            answers=self.target(obj) if obj is not None else None,
            cue_text=f"not {tok.text}",
        )
        if c is not None:
            c.reasons.append("negated acceptance")
        return c

    def _no_basis(self, clause: Token) -> bool:
        """'the claim was "without foundation"', 'the allegations have no basis in fact'."""
        for t in clause.children:
            if t.dep_ == "prep" and t.lower_ == "without":
                if any(o.lower_ in lx.NO_BASIS for o in _kids(t, "pobj")):
                    return True
            if (
                t.dep_ == "dobj"
                and t.lower_ in lx.NO_BASIS
                and any(c.dep_ == "det" and c.lower_ == "no" for c in t.children)
            ):
                return True
        return False

    def _false_word(self, clause: Token) -> str:
        if self._no_basis(clause):
            return next(t.text for t in clause.children if t.lower_ in ("without", "no") or t.lower_ in lx.NO_BASIS)
        for t in clause.subtree:
            if t.lower_ in lx.FALSE_WORDS:
                return t.text
        return ""

    def _false_clause(self, clause: Token, insist: bool) -> bool:
        subj = _kids(clause, "nsubj", "nsubjpass")
        if subj and subj[0].lower_ == "it" and any(c.dep_ in ("xcomp", "ccomp") for c in clause.children):
            return False
        if subj and subj[0].lower_ in lx.CLAIM_OBJECTS.keys() | {"this", "that", "claims", "it"} | lx.POST_NOUNS.keys():
            if self._no_basis(clause):
                return True
            for t in clause.subtree:
                if t.lower_ in lx.FALSE_WORDS and t.dep_ in (
                    "acomp",
                    "attr",
                    "oprd",
                    "amod",
                    "advmod",
                    "dobj",
                    "pobj",
                    "conj",
                    "npadvmod",
                ):
                    if any(c.dep_ == "neg" for c in clause.children) and t.lower_ not in ("nothing",):
                        return False
                    return True
        if insist:
            if any(c.dep_ == "neg" for c in clause.children):
                return True
            if any(t.lower_ in ("nothing", "no") and t.dep_ in ("dobj", "det") for t in clause.subtree):
                return True
        return False

    def complaint(self, tok: Token) -> Candidate | None:
        low = tok.lower_
        if tok.pos_ == "NOUN" and low in lx.COMPLAINT_NOUNS:
            base = lx.COMPLAINT_NOUNS[low]
            head = tok.head
            if (
                base in lx.COMPLAINT_NEEDS_LEGAL
                and not self._legal(tok)
                and not (head.lower_ in _FILE_ONLY and base != "appeal")
            ):
                return None
            if tok.dep_ in ("dobj",) and head.lower_ in lx.FILE and not _passive(head):
                subj = subject(head)
                if subj is not None and subj.lower_ in ("we", "i") and self.filers:
                    # '"We raised this complaint because ...," its president said': the one already filed
                    again = self._refiled(head, tok)
                    if again is not None:
                        return again
                return self._complaint(head, subj, tok)
            if tok.dep_ == "nsubjpass" and head.lower_ in lx.FILE:
                ag = _agent(head)
                if ag is None:
                    sp = speaker(head)
                    if sp is None:
                        return self._refiled(head, tok)
                    # "his solicitor said the complaint was submitted": the client filed it
                    principal = _kids(sp, "poss")
                    if (
                        sp.lower_
                        in (
                            "solicitor",
                            "lawyer",
                            "lawyers",
                            "solicitors",
                            "attorney",
                            "counsel",
                            "representative",
                            "spokesperson",
                            "spokesman",
                            "spokeswoman",
                        )
                        and principal
                    ):
                        sp = principal[0]
                    cand = self._complaint(head, sp, tok)
                    if cand is not None:
                        cand.reasons.append("filer from the speaker")
                    return cand
                return self._complaint(head, ag, tok)
            filer = _relcl_filer(tok)
            if filer is not None:
                return self._complaint(filer[0], filer[1], tok)
            for acl in _kids(tok, "acl"):
                if acl.lower_ in lx.FILE:
                    ag = _agent(acl)
                    if ag is not None:
                        return self._complaint(acl, ag, tok)
                    return self._refiled(acl, tok)
            return None
        if tok.pos_ == "VERB" and tok.dep_ not in ("amod", "compound"):
            if low in lx.SUE and not _passive(tok):
                obj = _kids(tok, "dobj")
                return self._complaint(tok, subject(tok), None, target=obj[0] if obj else None)
            if low in lx.COMPLAIN and not _passive(tok):
                to = [o for p in _kids(tok, "prep") if p.lower_ in ("to", "with") for o in _kids(p, "pobj")]
                if not to or not self._authority(to[0]):
                    return None
                obj = _kids(tok, "dobj")
                base = lx.COMPLAIN[low]
                if base == "complain" or obj:
                    tgt = obj[0] if obj else None
                    return self._complaint(tok, subject(tok), None, target=tgt)
        return None

    def _refiled(self, verb: Token, noun: Token) -> Candidate | None:
        """'The grievance, submitted on Tuesday, ...': a definite mention of a complaint already filed."""
        if not self.filers or not any(c.dep_ == "det" and c.lower_ in ("the", "this") for c in noun.children):
            return None
        f = self.filers[-1]
        cand = self._complaint(verb, None, noun)
        return cand or Candidate(
            "complaint_filed",
            verb,
            Actor(f.name, f.kind, f.reasons + ["actor via document"], f.forward),
            cue_text=f"{verb.text} {noun.text}",
        )

    _AUTHORITY_WORDS = {
        "police",
        "regulator",
        "ombudsman",
        "watchdog",
        "commission",
        "authority",
        "court",
        "tribunal",
        "council",
        "board",
        "committee",
        "standards",
        "office",
        "inspectorate",
        "agency",
        "ministry",
        "department",
        "prosecutor",
        "prosecutors",
        "officials",
        "body",
        "federation",
        "association",
        "union",
        "inquiry",
        "parliament",
        "registrar",
        "panel",
    }

    def _authority(self, tok: Token) -> bool:
        return tok.pos_ == "PROPN" or tok.i in self.r.ent_of or tok.lower_ in self._AUTHORITY_WORDS

    def _complaint(self, verb: Token, subj: Token | None, noun: Token | None, target: Token | None = None):
        body = None
        tgt = None
        holders = [verb] + ([noun] if noun is not None else [])
        for h in holders:
            for p in _kids(h, "prep"):
                objs = _kids(p, "pobj")
                if not objs:
                    continue
                if (
                    p.lower_ in lx.AUTHORITY_PREPS
                    and body is None
                    and self._authority(objs[0])
                    and objs[0].ent_type_ not in ("GPE", "DATE", "TIME")
                    and objs[0].lower_ not in lx.POST_NOUNS
                ):
                    body = self._body_name(objs[0])
                if p.lower_ == "against" and tgt is None:
                    tgt = self.target(objs[0])
                if p.lower_ in ("about", "over") and tgt is None:
                    # "a complaint about referee X's handling of the match": a named party only
                    o = objs[0]
                    named = (
                        o
                        if o.pos_ == "PROPN"
                        else next((c for c in o.children if c.dep_ == "poss" and c.pos_ == "PROPN"), None)
                    )
                    if named is not None and named.text[:1].isupper():
                        tgt = self.target(named)
        if tgt is None and noun is not None:
            # "a complaint with the regulator about X's ...": the prep can hang on the body's name
            for t in noun.head.subtree:
                if t.dep_ == "prep" and t.lower_ in ("against", "about") and t.i > noun.i:
                    o = next((c for c in t.children if c.dep_ == "pobj"), None)
                    if o is None:
                        continue
                    named = (
                        o
                        if o.pos_ == "PROPN"
                        else next((c for c in o.children if c.dep_ == "poss" and c.pos_ == "PROPN"), None)
                    )
                    if named is not None and named.text[:1].isupper():
                        tgt = self.target(named)
                        break
        if target is not None and tgt is None:
            if target.lower_ in lx.POST_NOUNS:
                owner = self.document_owner(target)
                tgt = Actor(owner.name, owner.kind, ["inferred target"]) if owner else None
            else:
                tgt = self.target(target)
        if tgt is None:
            # "lodged a complaint ..., accusing X of ..."
            for t in verb.subtree:
                if t.lower_ in lx.ACCUSE and t.dep_ in ("advcl", "acl", "xcomp", "conj"):
                    obj = _kids(t, "dobj")
                    if obj:
                        tgt = self.target(obj[0])
                        break
        cand = self._make(
            "complaint_filed",
            verb,
            subj,
            tgt,
            body=body,
            cue_text=f"{verb.text} {noun.text}" if noun is not None else verb.text,
        )
        if cand is not None and body and cand.actor.name.lower() in body.lower():
            return None  # the authority named as the filer: the parse went wrong
        return cand

    def _body_name(self, tok: Token) -> str:
        if tok.pos_ == "PROPN" or tok.i in self.r.ent_of:
            named = self.r.proper_name(tok)
            if named:
                # an entity span can run on into "against X"
                return re.split(r"\s+(?:against|over|about|on|in)\s+", named[0])[0]
        return self.r.phrase(tok)

    def post_deleted(self, tok: Token) -> Candidate | None:
        low = tok.lower_
        if tok.pos_ == "NOUN" and low in lx.POST_NOUNS:
            for c in tok.children:
                if c.dep_ in ("amod", "compound") and (
                    c.lower_ in lx.DELETED_ADJ
                    and c.i >= 2
                    and c.doc[c.i - 1].text in ("-", "–")
                    and c.doc[c.i - 2].lower_ in ("now", "since")
                    or c.lower_ in ("now-deleted", "since-deleted", "now-removed", "since-removed")
                ):
                    return self._post(c, tok, self.document_owner_strict(tok))
            return None
        if tok.pos_ != "VERB" or tok.dep_ in ("amod", "compound"):
            return None
        base = lx.DELETE.get(low)
        if base is None and low in lx.TAKE_DOWN:
            if not any(c.lower_ == "down" for c in _kids(tok, "prt", "advmod", "prep")):
                return None
            base = "take down"
        if base is None:
            return None
        # (read after the verb is known to delete: the sentence scan is the dear part)
        if any(t.lower_ in lx.STILL_UP and t.head.lower_ in lx.REMAIN for t in tok.sent) or any(
            t.lower_ == "contrary" for t in tok.sent
        ):
            return None  # "remained online, contrary to reports it had been deleted"
        if _passive(tok):
            subj = _kids(tok, "nsubjpass")
            post = self._post_noun(subj[0]) if subj else None
            if post is None:
                return None
            # the post's author, whoever removed it; the remover only when no author is known
            author = self.document_owner_strict(post)
            if author is None:
                ag = _agent(tok)
                author = self.r.actor(ag) if ag is not None else None
            return self._post(tok, post, author)
        obj = _kids(tok, "dobj")
        post = self._post_noun(obj[0]) if obj else None
        if post is None:
            return None
        if base in ("withdraw", "retract", "hide") and post.lower_ in ("statement", "remark", "comment", "remarks"):
            return None
        s = subject(tok)
        if s is None:
            return None
        author = self.who(s, tok) if s.lower_ not in lx.POST_NOUNS else None
        if author is None:
            return None
        return self._post(tok, post, author)

    def document_owner_strict(self, post: Token) -> Actor | None:
        owner = _owner_phrase(post)
        if owner is not None:
            return self.r.actor(owner)
        if self.post_authors:
            a = self.post_authors[-1]
            return Actor(a.name, a.kind, a.reasons + ["author from earlier post"])
        return None

    def _post_noun(self, tok: Token) -> Token | None:
        if tok.lower_ in lx.POST_NOUNS:
            return tok
        # "a series of tweets", "dozens of posts"
        inner = [
            o
            for p in tok.children
            if p.dep_ == "prep" and p.lower_ == "of"
            for o in p.children
            if o.dep_ == "pobj" and o.lower_ in lx.POST_NOUNS
        ]
        if inner:
            return inner[0]
        if tok.lower_ in ("it", "them") and tok.pos_ == "PRON":
            # "it": a post named earlier in this sentence or the one before
            start = max(0, tok.sent.start - 60)
            for t in reversed(list(tok.doc[start : tok.i])):
                if t.lower_ in lx.POST_NOUNS and t.pos_ == "NOUN":
                    return t
        return None

    def _post(self, cue: Token, post: Token, author: Actor | None) -> Candidate | None:
        if author is None or author.name.lower() in lx.VAGUE:
            return None
        platform = None
        window = cue.doc[max(cue.sent.start, post.i - 6) : min(cue.sent.end, post.i + 8)]
        for t in list(window) + list(cue.sent):
            if t.text in lx.PLATFORMS and (t.text != "X" or t.pos_ == "PROPN"):
                platform = t.text
                break
        return Candidate("post_deleted", cue, author, None, platform=platform, cue_text=cue.text)

    def note_post_authors(self, sent: Span) -> None:
        """Who posted what ("X posted a video", "a post by X"), for later passives that name no agent."""
        for t in sent:
            if t.lower_ in _POSTING and t.pos_ == "VERB" and not _passive(t):
                objs = _kids(t, "dobj")
                if objs and objs[0].lower_ in lx.POST_NOUNS:
                    a = self.who(subject(t), t) if subject(t) is not None else None
                    if a is not None:
                        self.post_authors.append(a)
            if t.lower_ in lx.POST_NOUNS and t.pos_ == "NOUN":
                owner = _owner_phrase(t)
                if owner is not None and owner.lower_ not in ("it", "which", "that"):
                    a = self.r.actor(owner)
                    if a is not None and a.kind != "group":
                        self.post_authors.append(a)
            if t.lower_ in _POST and t.pos_ == "VERB" and _passive(t):
                ag = _agent(t)
                for p in _kids(t, "prep"):
                    if p.lower_ == "on" or p.lower_ == "to":
                        for acc in _kids(p, "pobj"):
                            for pp in _kids(acc, "prep"):
                                if pp.lower_ == "of":
                                    ow = _kids(pp, "pobj")
                                    if ow:
                                        ag = ag or ow[0]
                if ag is not None:
                    a = self.r.actor(ag)
                    if a is not None:
                        self.post_authors.append(a)
