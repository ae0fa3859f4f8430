"""Who a mention names: the name as the article gives it, and what pronouns and descriptions refer to.

A `Roster` keeps the parties an article has introduced, in order, with their short forms
(a person's surname, an organisation's first word or initials) and the role words the
article attached to them ("Transport Minister X", "X, the chief executive"), and a person's sex
where a form of address or a pronoun in their own clause says it. `Resolver.actor` turns the head
token of a subject, agent or object into an `Actor`. The same resolver, handed to the post-pass,
is what quotations are attributed through (speakers.py); the words both read are names.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from services.ingest.extraction.names import (
    ACCUSING,
    COLLECTIVES,
    GROUP_HEADS,
    GROUP_PRON,
    HONORIFIC_GENDER,
    LAWYERS,
    MEMBERS,
    NOT_PARTIES,
    ORG_LABELS,
    ORG_NOUNS,
    ORG_PRON,
    ORG_WORDS,
    PERSON_PRON,
    REL_PRON,
    ROLE_NOUNS,
    SPEAKER_ROLES,
    TITLES,
    VAGUE,
    fits,
    job_word,
    person_part,
    pronoun_gender,
    shape_kind,
)

# "OTTAWA —", "PORT ALBION, Ont. —", "LONDON (Wire) -": the place a report is filed from
_DATELINE = re.compile(r"^[A-Z][A-Z .'’\-]{1,30}(?:,\s*[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)?(?:\s*\([^)]*\))?\s*[—–-]{1,2}\s")


@dataclass
class Actor:
    name: str
    kind: str  # person | organisation | group
    reasons: list[str] = field(default_factory=list)  # what makes it less certain
    forward: bool = False  # an indefinite description ("a charity") the article names later


@dataclass
class Entity:
    name: str
    kind: str
    aliases: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    seen: int = 0  # token index of the latest mention
    first: int = 0  # token index of the first mention
    gender: str | None = None  # "m" / "f" when a form of address or a pronoun has said so


def _strip(text: str) -> str:
    text = re.sub(r"^(?:the|The)\s+", "", text.strip())
    return re.sub(r"['’]s?$", "", text).strip(" ,;:\"“”'")


def _clause_subject(tok: Token) -> Token | None:
    """The subject of the nearest clause above `tok` that has one other than the phrase `tok` is
    part of ("said her panel had ...": the one who said)."""
    for v in tok.ancestors:
        if v.pos_ in ("VERB", "AUX"):
            subj = next((c for c in v.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subj is not None and not subj.left_edge.i <= tok.i <= subj.right_edge.i:
                return subj
    return None


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isupper())


# suffixes that never make a different body: "Brindle Foods" and "Brindle Foods Ltd" are one
_LEGAL_FORMS = {"ltd", "inc", "plc", "llc", "llp", "limited", "co", "corp", "corporation", "holdings", "group"}


def _fuller_name(short: str, rest: list[str]) -> bool:
    """Is `short` + `rest` the same body's fuller name? "Kestrel" + "Party" is; a name already
    complete with its own body word is not: "X Police" + "Federation" is the officers' federation."""
    if not rest or not all(w.lower() in ORG_WORDS for w in rest):
        return False
    last = short.split()[-1].lower() if short.split() else ""
    return last not in ORG_WORDS or all(w.lower() in _LEGAL_FORMS for w in rest)


class Roster:
    """The parties an article has named so far."""

    def __init__(self):
        self.entities: list[Entity] = []
        self.people: set[str] = set()  # names spaCy labels PERSON somewhere

    def find(self, name: str) -> Entity | None:
        key = name.lower()
        for e in reversed(self.entities):
            if e.name.lower() == key or key in e.aliases:
                return e
        return None

    def add(self, name: str, kind: str, at: int, roles=()) -> Entity:
        e = self.find(name)
        if e is None and kind != "person":
            # "Kestrel" then "Kestrel Party": the fuller name of the same organisation
            for old in self.entities:
                short, full = sorted((old.name, name), key=len)
                rest = full[len(short) :].split() if full.startswith(short + " ") else []
                if old.kind != "person" and _fuller_name(short, rest):
                    e = old
                    break
        if e is None:
            e = Entity(name, kind, first=at)
            self.entities.append(e)
            words = name.split()
            if kind == "person" and len(words) > 1:
                e.aliases.add(words[-1].lower())
            elif kind != "person" and len(words) > 1:
                if words[0][:1].isupper() and words[0].lower() not in ORG_WORDS | TITLES:
                    e.aliases.add(words[0].lower())
                if len(_initials(name)) >= 2:
                    e.aliases.add(_initials(name).lower())
        elif len(name) > len(e.name) and kind == e.kind:
            e.aliases.add(e.name.lower())
            e.name = name
        e.seen = max(e.seen, at)
        e.roles.update(r.lower() for r in roles)
        if e.kind == "person" and e.gender is None:  # "Mr X", "Dame X"
            e.gender = next((HONORIFIC_GENDER[r] for r in e.roles if r in HONORIFIC_GENDER), None)
        # keep the list in order of latest mention
        self.entities.remove(e)
        self.entities.append(e)
        return e

    def last(
        self, kinds: set[str], before: int | None = None, exclude: str | None = None, pronoun: str = ""
    ) -> Entity | None:
        """The latest party of one of `kinds` (that `pronoun`, when given, can refer to)."""
        for e in reversed(self.entities):
            if (
                e.kind in kinds
                and (before is None or e.seen <= before)
                and e.name != exclude
                and fits(e.kind, e.gender, pronoun)
            ):
                return e
        return None

    def describe(self, head: str, before: int, loose: bool = True) -> Entity | None:
        """'the trust' -> the last party whose name ends in or contains that word, or who has that role."""
        head = head.lower()
        for e in reversed(self.entities):
            if e.first > before:
                continue
            words = [w.lower() for w in e.name.split()]
            if e.kind != "person" and head in words:
                cut = words.index(head) + 1
                if 2 <= cut < len(words):
                    # "the university" in an article about "X University Students' Union": X University
                    return self.add(" ".join(e.name.split()[:cut]), "organisation", e.first)
                return e
        for e in reversed(self.entities):
            # a role after the name search: "the union" is the union, not "union president X"
            if e.first <= before and head in e.roles:
                return e
        if head in ORG_NOUNS and loose:
            # the latest body; a one-word name the tagger could not place counts ("Northwater")
            for e in reversed(self.entities):
                if e.first <= before and (e.kind == "organisation" or e.kind == "person" and " " not in e.name):
                    return e
            return None
        return None

    def named_after(self, at: int, kind: str, head: str, exclude: str | None = None) -> Entity | None:
        """The first party of that kind introduced after token `at` (a lede's "a charity" named later);
        of those, the one sharing most words (name or roles) with the description."""
        later = sorted(
            (
                e
                for e in self.entities
                if e.first > at
                and (e.kind == "person") == (kind == "person")
                and (exclude is None or e.name.lower() != exclude.lower())
            ),
            key=lambda e: e.first,
        )
        if not later:
            return None
        words = {
            w
            for w in re.findall(r"[a-z]+", head.lower())
            if w not in ("the", "a", "an", "of", "its", "his", "her", "their", "former", "new")
        }

        def overlap(e: Entity) -> int:
            # the name only: a role word ("its candidate, X") is shared by too many people
            return len(words & {w.lower() for w in e.name.split()})

        best = max(overlap(e) for e in later)
        return next(e for e in later if overlap(e) == best)

    def canonical(self, name: str) -> str:
        e = self.find(name)
        if e is None:
            for old in self.entities:
                rest = old.name[len(name) :].split() if old.name.startswith(name + " ") else []
                if old.kind != "person" and _fuller_name(name, rest):
                    return old.name
        return e.name if e is not None else name


class Resolver:
    """Mentions (tokens) -> actors, over one parsed article."""

    def __init__(self, doc: Doc, text: str):
        self.doc = doc
        self.roster = Roster()
        self.roster.people = {_strip(e.text) for e in doc.ents if e.label_ == "PERSON"}
        self.ent_of: dict[int, Span] = {}
        for ent in doc.ents:
            if ent.label_ == "PERSON" or ent.label_ in ORG_LABELS:
                for t in ent:
                    self.ent_of[t.i] = ent
        self.kind_votes: dict[str, list[int]] = {}
        for ent in doc.ents:
            if ent.label_ == "PERSON" or ent.label_ in ORG_LABELS:
                v = self.kind_votes.setdefault(_strip(ent.text), [0, 0])
                v[0 if ent.label_ == "PERSON" else 1] += 1
        self.datelines = [
            (m.start() + p.start(), m.end() + p.start())
            for p in re.finditer(r"[^\n]+", text)
            for m in [_DATELINE.match(p.group(0))]
            if m
        ]
        # words the article capitalises inside a sentence: names, even where the tagger calls them nouns
        self.capitalised = {
            t.text
            for t in doc
            if t.text[:1].isupper() and not t.is_sent_start and t.pos_ in ("NOUN", "PROPN") and not t.text.isupper()
        }
        self.last_subject: Entity | None = None
        self.acts_for: dict[str, Actor] = {}  # a law firm's name -> the client it speaks for

    @classmethod
    def read(cls, doc: Doc, text: str) -> Resolver:
        """A resolver that has read every sentence's parties (what detection leaves behind)."""
        resolver = cls(doc, text)
        for sent in doc.sents:
            resolver.note_sentence(sent, [])
        return resolver

    # --- names ----------------------------------------------------------------------------
    def in_dateline(self, tok: Token) -> bool:
        return any(a <= tok.idx < b for a, b in self.datelines)

    def kind_of(self, name: str, tok: Token | None = None) -> str:
        e = self.roster.find(name)
        if e is not None:
            return e.kind
        # the shapes the post-pass reads too; "Dr X of the Institute" stays the body here, whose
        # event it reports, while the post-pass hears the person speak for it
        shaped = shape_kind(name) if person_part(name) is None else None
        if shaped is not None:
            return shaped
        words = name.split()
        if words and (
            words[-1].lower() in ORG_WORDS
            or re.split(r"\s+(?:of|for)\s+", name)[0].split()[-1].lower() in ORG_WORDS
            or re.fullmatch(r"[A-Z]{2,6}", name)
            or "&" in name
        ):
            return "organisation"
        if name[:1].islower():
            return "group"
        v = self.kind_votes.get(name)
        if v and len(words) == 1:
            return "person" if v[0] >= v[1] else "organisation"
        if (
            len(words) >= 2
            and all(w[:1].isupper() for w in words)
            and not (tok is not None and any(c.dep_ == "det" and c.lower_ == "the" for c in tok.children))
        ):
            return "person"
        if tok is not None and tok.ent_type_ in ORG_LABELS:
            return "organisation"
        if tok is not None and tok.ent_type_ == "PERSON":
            return "person"
        return "person" if len(words) >= 2 and all(w[:1].isupper() for w in words) else "organisation"

    def proper_name(self, tok: Token) -> tuple[str, list[str]] | None:
        """The name a proper-noun mention gives, and the title/role words in front of it."""
        ent = self.ent_of.get(tok.i)
        if ent is not None and ent.label_ == "PERSON":
            roles = [t.text for t in tok.doc[tok.left_edge.i : ent.start] if t.dep_ == "compound"]
            name = _strip(ent.text)
            # a name spaCy ran into a role word ("Sprinter Abel Tesfaye") loses it
            words = name.split()
            while len(words) > 1 and (
                words[0].lower() in TITLES
                or words[0].lower().rstrip("s") in TITLES
                or len(words) > 2
                and job_word(words[0])  # "Beekeeper Ana Ruiz": a role the lexicon lacks
            ):
                roles.append(words.pop(0))
            return " ".join(words), roles
        # the compound chain ending at the token, plus "of/for X" ("University of Harwick")
        left = tok.i
        while (
            left > 0
            and tok.doc[left - 1].dep_ in ("compound", "amod", "nmod", "punct")
            and tok.doc[left - 1].head.i > left - 1
            and tok.doc[left - 1].head.i <= tok.i
            and (tok.doc[left - 1].text[:1].isupper() or tok.doc[left - 1].text in ("&", "-", "'", "’"))
        ):
            left -= 1
        # a plural possessive inside a body's name: "Harlow Cyclists' Alliance", "Dock Workers' Union"
        mark = tok.doc[left - 1] if left > 0 else None
        if (
            mark is not None
            and mark.text in ("'", "’")
            and mark.dep_ == "case"
            and mark.head.dep_ == "poss"
            and mark.head.head.i == tok.i
            and mark.head.text[:1].isupper()
            and mark.head.lower_.endswith("s")
        ):
            left = mark.head.left_edge.i
        if ent is not None:
            # a span the recogniser ran across a preposition ("X Authority against Y Ltd"): tok's part only
            cuts = [t.i for t in ent if t.pos_ == "ADP" and t.lower_ not in ("of", "for", "&", "de", "van", "von")]
            start = max([c + 1 for c in cuts if c < tok.i], default=ent.start)
            end = min([c for c in cuts if c > tok.i], default=ent.end)
            if ent.label_ in ORG_LABELS:
                left = min(left, ent.start)
            if start > ent.start:
                left = max(left, start)
        right = tok.i
        if ent is not None:
            right = max(right, end - 1)
        for child in tok.children:
            if child.dep_ == "prep" and child.lower_ in ("of", "for") and child.i == right + 1:
                objs = [c for c in child.children if c.dep_ == "pobj" and c.pos_ == "PROPN" and c.text[:1].isupper()]
                if objs:
                    right = objs[0].i
        words = [t for t in tok.doc[left : right + 1] if t.dep_ != "case" and t.text not in ("'s", "’s")]
        roles = []
        while (
            len(words) > 1
            and (words[0].lower_ in TITLES or words[0].lower_.rstrip("s") in TITLES)
            and not self._org_name(words)
        ):
            roles.append(words.pop(0).text)
        if words and words[0].lower_ == "the":
            words.pop(0)
        text = _strip(tok.doc[words[0].i : words[-1].i + 1].text) if words else ""
        if not text or text.lower() in VAGUE:
            return None
        return text, roles

    @staticmethod
    def _org_name(words: list[Token]) -> bool:
        return words[-1].lower_ in ORG_WORDS

    def phrase(self, tok: Token) -> str:
        """A description as the article gives it ("residents of the Brackwater estate"); never the
        charge of "accused X of ..."."""
        if tok.dep_ == "dobj" and tok.head.lower_ in ACCUSING:
            end = next((c.i for c in tok.children if c.dep_ == "prep" and c.lower_ == "of"), None)
            if end is not None:
                return tok.doc[tok.left_edge.i : end].text.strip(" ,")
        left = tok.left_edge.i
        while (
            left < tok.i
            and tok.doc[left].dep_ in ("det", "predet", "punct", "cc", "quantmod", "nummod", "advmod", "amod")
            and tok.doc[left].lower_
            in ("the", "a", "an", "some", "more", "than", "about", "around", "nearly", "almost", "over", "at", "least")
        ):
            left += 1
        right = tok.i
        for child in tok.children:
            if child.i > tok.i and child.dep_ in ("prep",) and child.lower_ in ("of", "at", "from", "in", "for"):
                right = max(right, child.right_edge.i)
            if child.i > tok.i and child.dep_ == "conj" and child.pos_ == "NOUN":
                right = max(right, child.i)
        stop = [
            c.i
            for c in tok.subtree
            if c.i > tok.i and (c.dep_ in ("relcl", "acl", "appos") or c.dep_ == "punct" and c.text in ",;:()—–")
        ]
        if stop:
            right = min(right, min(stop) - 1)
        return tok.doc[left : right + 1].text.strip(" ,")

    # --- resolution -----------------------------------------------------------------------
    def actor(self, tok: Token | None, speaker: Token | None = None, depth: int = 0) -> Actor | None:
        """The party a mention names. `speaker`: the subject of a reporting verb governing the
        mention, which a pronoun refers to first ("X said it had ...")."""
        if tok is None or depth > 3 or self.in_dateline(tok) or tok.ent_type_ in NOT_PARTIES:
            return None
        low = tok.lower_
        if tok.pos_ == "PRON" or low in PERSON_PRON | ORG_PRON | GROUP_PRON | REL_PRON:
            return self._pronoun(tok, speaker, depth)
        # a lawyer speaks for the client, named or not ("His solicitors, Hale & Co, said ...")
        if low in LAWYERS:
            client = [c for c in tok.children if c.dep_ == "poss"]
            if client:
                found = self.actor(client[0], speaker, depth + 1)
                if found is not None:
                    for c in tok.children:
                        if c.dep_ == "appos" and c.pos_ == "PROPN":
                            named = self.proper_name(c)
                            if named:
                                self.acts_for[named[0].lower()] = found
                    return found
        # a named apposition wins over a description ("the firm's founder, Jo Belling")
        for child in tok.children:
            if child.pos_ == "PROPN" and (
                child.dep_ == "appos"
                or child.dep_ == "conj"
                and child.i > 0
                and tok.doc[child.i - 1].text == ","
                and tok.pos_ == "NOUN"
            ):
                return self.actor(child, speaker, depth + 1)
        if tok.text[:1].isupper() and (tok.pos_ == "PROPN" or tok.i in self.ent_of):
            named = self.proper_name(tok)
            if named is None:
                return None
            name, roles = named
            poss = [c for c in tok.children if c.dep_ == "poss"]
            if name.lower() in GROUP_HEADS and poss:
                return self._group_of(poss[0], name.lower(), speaker, depth)
            kind = self.kind_of(name, tok)
            if (
                kind == "person"
                and self.ent_of.get(tok.i) is None
                and any(c.dep_ == "det" and c.lower_ == "the" for c in tok.children)
            ):
                kind = "organisation"  # people do not take "the": "The Harbour Line said ..."
            return Actor(name, kind)
        if tok.pos_ not in ("NOUN", "PROPN", "NUM", "ADJ"):
            return None
        if tok.text[:1].isupper() and not tok.is_sent_start or tok.text[:1].isupper() and tok.lower_ not in ORG_NOUNS:
            # a surname the tagger took for a word ("Price later deleted ...")
            known = self.roster.find(tok.text)
            if known is not None:
                return Actor(known.name, known.kind)
            if tok.text in self.capitalised and tok.lower_ not in ORG_NOUNS | TITLES and not tok.n_lefts:
                return Actor(tok.text, self.kind_of(tok.text, tok))
        noun = low
        preps = {c.lower_: c for c in tok.children if c.dep_ == "prep"}
        if "of" in preps and tok.head.lower_ in ACCUSING and tok.dep_ == "dobj":
            del preps["of"]  # "accused the council of neglect": the charge, not part of the name
        poss = [c for c in tok.children if c.dep_ == "poss"]
        compounds = [c for c in tok.children if c.dep_ == "compound" and c.pos_ in ("PROPN", "NOUN")]
        if noun in SPEAKER_ROLES or noun in MEMBERS:
            for p in ("for", "of", "at", "to", "from", "with"):
                if p in preps:
                    objs = [c for c in preps[p].children if c.dep_ == "pobj"]
                    if objs:
                        found = self.actor(objs[0], speaker, depth + 1)
                        if found is not None:
                            if noun in SPEAKER_ROLES and noun not in LAWYERS and found.kind == "person":
                                found.kind = "organisation"  # a spokesperson speaks for a body
                                e = self.roster.add(found.name, "organisation", tok.i)
                                e.kind = "organisation"
                            return found
            if tok.dep_ == "pobj" and tok.head.lower_ in ("for", "on") and tok.head.head.lower_ in ("acting",):
                pass
            if poss:
                return self.actor(poss[0], speaker, depth + 1)
            for c in compounds if noun in SPEAKER_ROLES else []:
                found = self.actor(c, speaker, depth + 1)
                if found is not None:
                    return found
            # "solicitors acting for the trust"
            for c in tok.children:
                if c.dep_ == "acl":
                    for p in c.children:
                        if p.dep_ == "prep" and p.lower_ in ("for", "on"):
                            objs = [o for o in p.children if o.dep_ == "pobj"]
                            if objs:
                                return self.actor(objs[0], speaker, depth + 1)
            if noun in SPEAKER_ROLES:
                e = (
                    self.last_subject
                    if self.last_subject is not None and self.last_subject.kind != "person"
                    else self.roster.last({"organisation"}, tok.i)
                )
                if e is not None:
                    return Actor(e.name, e.kind, ["unnamed speaker"])
                return None
            text = self.phrase(tok)  # "two union workers in the depot"
            return Actor(text, "group") if text and text.lower() not in VAGUE else None
        if noun in GROUP_HEADS and poss:
            return self._group_of(poss[0], noun, speaker, depth)
        if low in VAGUE:
            return None
        # "the trust", "the minister", "the company": the party the article introduced
        det = [c.lower_ for c in tok.children if c.dep_ in ("det", "poss")]
        role = noun in ROLE_NOUNS | TITLES or bool(
            re.fullmatch(r"[a-z]{2,}(?:ist|ian|eer|iser|izer|turer|ager|ster|grapher)", noun) and noun not in ORG_NOUNS
        )
        if (
            det[:1] in (["a"], ["an"], ["its"], ["his"], ["her"], ["their"])
            and role
            and (tok.sent.start < 80 or tok.dep_ == "dobj" or det[0] != "a" and det[0] != "an")
        ):
            return Actor(self.phrase(tok), "person", ["description"], forward=True)
        singular = not low.endswith("s") or low.endswith("ss")
        common_owner = [c for c in poss if c.pos_ == "NOUN" and c.text.islower()]
        if noun in ORG_NOUNS and common_owner:
            return Actor(self.phrase(tok), "organisation")  # "the tenants' association"
        if (
            not singular
            and (noun in COLLECTIVES or re.search(r"(?:ers|ors|ists|ants|ians)$", noun))
            and (poss or compounds or preps)
        ):
            text = self.phrase(tok)  # "protest organisers", "the school's governors"
            if text and text.lower() not in VAGUE:
                return Actor(text, "group")
        named_compound = [c for c in compounds if c.pos_ == "PROPN" and c.text[:1].isupper()]
        if noun in ORG_NOUNS and named_compound and tok.text.islower():
            found = self.proper_name(named_compound[-1])  # "the populist Civic party" -> Civic
            if found:
                return Actor(found[0], "organisation")
        if (
            singular
            and (det and det[0] in ("the", "its", "their", "this", "that") or noun in ORG_NOUNS)
            and not preps.get("of")
        ):
            e = self.roster.describe(noun, tok.i, loose=not compounds)
            if e is None and noun in ORG_NOUNS and not compounds:
                # "A manager at Pellworth Energy alleged that the company ...": named earlier in the sentence
                for t in reversed(list(tok.sent[: tok.i - tok.sent.start])):
                    ent = self.ent_of.get(t.i)
                    if ent is not None and ent.label_ == "ORG" and t.i == ent.root.i:
                        found = self.proper_name(t)
                        if found:
                            words = found[0].split()
                            low_words = [w.lower() for w in words]
                            if noun in low_words[:-1] and low_words.index(noun) >= 1:
                                # "the university" beside "X University Students' Union": X University
                                return Actor(
                                    " ".join(words[: low_words.index(noun) + 1]), "organisation", ["description"]
                                )
                            return Actor(found[0], "organisation", ["description"])
                for t in reversed(list(tok.sent[: tok.i - tok.sent.start])):
                    if t.dep_ == "dobj" and t.pos_ == "PROPN" and t.i in self.ent_of:
                        found = self.proper_name(t)  # "X accused Acme Ltd of ..., a claim the company denied"
                        if found:
                            self.roster.add(found[0], "organisation", t.i + 1).kind = "organisation"
                            return Actor(found[0], "organisation", ["description"])
            if e is not None:
                if noun in ORG_NOUNS:
                    e.kind = "organisation"  # "the company" said of it: a body, whatever its name looks like
                return Actor(e.name, e.kind, ["description"])
            if noun in ORG_NOUNS and (compounds or det and det[0] in ("a", "an")):
                # "the county government", "an animal rescue charity": named later, or never
                return Actor(
                    self.phrase(tok), "organisation", ["description"], forward=det[:1] == ["a"] or det[:1] == ["an"]
                )
            return None
        if (
            not singular
            and noun in COLLECTIVES
            or preps.get("of")
            and noun in COLLECTIVES | MEMBERS
            or noun in GROUP_HEADS
        ):
            text = self.phrase(tok)
            if text and text.lower() not in VAGUE:
                # "members of the band X": the band
                if noun in MEMBERS and "of" in preps:
                    return self.actor(
                        next((c for c in preps["of"].children if c.dep_ == "pobj"), None), speaker, depth + 1
                    )
                return Actor(text, "group")
        return None

    def _group_of(self, owner: Token, head: str, speaker, depth) -> Actor | None:
        who = self.actor(owner, speaker, depth + 1)
        if who is None:
            # "the mayor's office": a body the article gives no other name
            text = owner.doc[owner.left_edge.i : owner.head.i + 1].text
            return Actor(re.sub(r"^(?:the|The)\s+", "", text), "organisation", ["description"])
        if head in ("campaign", "team", "camp"):
            return Actor(f"{who.name} {head}", "organisation", who.reasons)
        return who

    def _pronoun(self, tok: Token, speaker: Token | None, depth: int) -> Actor | None:
        low = tok.lower_
        if low in REL_PRON:
            if tok.head.dep_ == "relcl":
                return self.actor(tok.head.head, speaker, depth + 1)
            return None
        if low in PERSON_PRON:
            kinds = {"person"}
        elif low in ORG_PRON:
            kinds = {"organisation", "group"}
        elif low in GROUP_PRON:
            kinds = {"organisation", "group", "person"}
        else:
            return None
        if speaker is not None and speaker.i != tok.i:
            found = self.actor(speaker, None, depth + 1)
            if found is not None and (found.kind in kinds or low in ("we", "our", "us")) and self._fits(found, low):
                return Actor(found.name, found.kind, found.reasons + ["pronoun"])
        # the subject of an earlier clause in the same sentence, then the article's latest fitting party
        sent = tok.sent
        for t in reversed(list(sent[: tok.i - sent.start])):
            if t.dep_ in ("nsubj", "nsubjpass") and t.pos_ in ("PROPN", "NOUN") and t.lower_ not in REL_PRON:
                found = self.actor(t, None, depth + 1)
                if found is not None and found.kind in kinds and self._fits(found, low):
                    return Actor(found.name, found.kind, ["pronoun"])
        last = self.last_subject
        if last is not None and last.kind in kinds and low not in GROUP_PRON and fits(last.kind, last.gender, low):
            return Actor(last.name, last.kind, ["pronoun"])
        e = self.roster.last(kinds - ({"person"} if low in GROUP_PRON else set()) or kinds, tok.i, pronoun=low)
        if e is None:
            return None
        return Actor(e.name, e.kind, ["pronoun"])

    def _fits(self, found: Actor, pronoun: str) -> bool:
        known = self.roster.find(found.name)
        return known is None or fits(known.kind, known.gender, pronoun)

    def _note_gender(self, sent: Span, people: list[tuple[int, Entity]]) -> None:
        """ "X denied that her firm ...": the one person a sentence names, its subject, is the one
        its possessive or reflexive pronouns of one sex refer to; later pronouns go by it."""
        if len({id(e) for _, e in people}) != 1:
            return
        at, person = people[0]
        if person.gender is not None or sent.root.i < at:
            return
        subj = [c for c in sent.root.children if c.dep_ in ("nsubj", "nsubjpass")]
        if not subj or not subj[0].left_edge.i <= at - 1 <= subj[0].right_edge.i:
            return
        said = set()
        for t in sent[at - sent.start :]:
            if t.pos_ == "PROPN" and t.ent_type_ not in NOT_PARTIES:
                break  # another name before the pronoun: it may be that one's ("ordered X to ... her")
            if (t.dep_ == "poss" or t.lower_ in ("himself", "herself")) and (g := pronoun_gender(t.lower_)):
                if _clause_subject(t) is not None and _clause_subject(t).i == subj[0].i:
                    said.add(g)
        if len(said) == 1:
            person.gender = said.pop()

    # --- the roster -----------------------------------------------------------------------
    def note_sentence(self, sent: Span, subjects: list[Actor]) -> None:
        """Add the parties a sentence names (after its events are read, so a pronoun in it
        looks back, not at itself)."""
        people: list[tuple[int, Entity]] = []  # (token after the mention, person)
        for ent in sent.ents:
            first = next((t for t in ent if t.lower_ != "the"), None)
            if first is None or not first.text[:1].isupper():
                continue  # 'council of "years ...': a span that starts in lower case names nobody
            if ent.label_ == "PERSON" or ent.label_ in ("ORG", "NORP"):
                head = ent.root
                if self.in_dateline(head):
                    continue
                named = self.proper_name(head)
                if named:
                    name, roles = named
                    roles = roles + [c.text for c in head.children if c.dep_ == "appos" and c.pos_ == "NOUN"]
                    roles += [
                        t.text
                        for t in sent.doc[max(sent.start, ent.start - 3) : ent.start]
                        if t.pos_ == "NOUN"
                        and t.text.islower()
                        and t.dep_ == "compound"
                        and ent.start <= t.head.i < ent.end
                    ]
                    if head.dep_ == "appos" and head.head.pos_ == "NOUN":
                        roles.append(head.head.text)
                    e = self.roster.add(name, self.kind_of(name, head), ent.end, roles)
                    if e.kind == "person":
                        people.append((ent.end, e))
        for tok in sent:
            if (
                tok.pos_ == "PROPN"
                and tok.dep_ in ("nsubj", "nsubjpass", "pobj", "dobj", "appos")
                and tok.i not in self.ent_of
                and not self.in_dateline(tok)
                and tok.ent_type_ not in NOT_PARTIES
                and tok.text[:1].isupper()
            ):
                named = self.proper_name(tok)
                if named and named[0][:1].isupper():
                    roles = named[1] + [
                        t.text
                        for t in tok.doc[max(sent.start, tok.left_edge.i) : tok.i]
                        if t.pos_ == "NOUN" and t.text.islower() and t.dep_ == "compound"
                    ]
                    e = self.roster.add(named[0], self.kind_of(named[0], tok), tok.i + 1, roles)
                    if e.kind == "person":
                        people.append((tok.i + 1, e))
            # "the populist Civic party": the name, with the noun as its role
            if (
                tok.dep_ == "compound"
                and tok.pos_ == "PROPN"
                and tok.head.lower_ in ORG_NOUNS
                and tok.head.text.islower()
                and tok.text[:1].isupper()
            ):
                named = self.proper_name(tok)
                known = self.roster.find(named[0]) if named else None
                # a person named before is not made a body by "the X campaign", "the X family firm"
                if named and not (known is not None and known.kind == "person" and known.name != named[0]):
                    self.roster.add(named[0], "organisation", tok.i + 1, [tok.head.text]).kind = "organisation"
            # the firm's name in apposition marks it an organisation ("the firm, Apex Digital"); a
            # noun that is a person's role too keeps a person's name a person ("developer Ana Ruiz")
            if (
                tok.dep_ == "appos"
                and tok.head.lower_ in ORG_NOUNS
                and tok.pos_ == "PROPN"
                and not (tok.ent_type_ == "PERSON" and tok.head.lower_ in TITLES)
            ):
                named = self.proper_name(tok)
                if named:
                    e = self.roster.add(named[0], "organisation", tok.i + 1)
                    e.kind = "organisation"
        self._note_gender(sent, people)
        for a in subjects:
            e = self.roster.find(a.name)
            if e is not None:
                self.last_subject = e
        # the latest subject of any clause ("The ruling came after X posted ...") is what "she" picks up
        for tok in sent:
            if tok.dep_ in ("nsubj", "nsubjpass") and (tok.pos_ == "PROPN" or tok.i in self.ent_of):
                named = self.proper_name(tok) if tok.text[:1].isupper() else None
                e = self.roster.find(named[0]) if named else None
                if e is not None:
                    self.last_subject = e
