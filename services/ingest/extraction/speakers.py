"""Whom a speaker, a pronoun or a description refers to, by position in the article: the
post-pass's view of detection's resolver.

One resolver serves the whole pipeline: `entities.Resolver` reads the parties sentence by sentence
during detection (its `Roster`: names, short forms, kinds, roles, sex where the article says it);
`Entities` takes those parties as they stand at the end, with the findings' actors and targets,
indexes every mention by character offset, and answers the post-pass's questions (who said this
quotation, who "she" is at this point, whom a union president speaks for). Names are read as
detection reads them (`Resolver.proper_name`), kinds are the roster's, words are names.py's.
Pure: takes a parsed doc, the findings and the resolver; does no I/O."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from services.ingest.extraction.entities import Resolver
from services.ingest.extraction.names import (
    GROUP_PRON,
    ORG_NOUNS,
    ORG_PRON,
    PERSON_PRON,
    PROXY_NOUNS,
    TITLED,
    TITLES,
    fits,
    norm,
    person_part,
    shape_kind,
)

__all__ = ["Entities", "Entity", "Speaker", "norm", "person_part", "text_of"]


# a capitalised word right before: the word that follows is part of that name
_AFTER_NAME = re.compile(r"[A-Z][\w'’&-]*\s+$")


def _occurrences(body: str, form: str):
    """Where `form` stands as whole words in `body` (str.find: no pattern to compile per name)."""
    if not form:
        return
    at = body.find(form)
    while at >= 0:
        end = at + len(form)
        before = body[at - 1] if at else " "
        after = body[end] if end < len(body) else " "
        if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_-"):
            yield at
        at = body.find(form, at + 1)


def text_of(doc: Doc) -> str:
    """The doc's text, built once (Doc.text joins every token on each call)."""
    text = doc.user_data.get("storyline.text")
    if text is None:
        text = doc.user_data["storyline.text"] = doc.text
    return text


_ACRONYM = re.compile(r"((?:[A-Z][\w'’&-]*\s+){1,7}[A-Z][\w'’&-]*)\s+\(([A-Z]{2,6})\)")


@dataclass
class Speaker:
    """Who spoke last, and as what the text introduced them (for "she said", "the firm said")."""

    entity: Entity
    surface: str | None
    paragraph: int


@dataclass
class Entity:
    name: str  # as the findings give it, or as spaCy found it
    kind: str  # person | organisation
    actor: bool  # an actor of some finding
    aliases: set = field(default_factory=set)  # other forms of the name ("Halvorsen", "Luma Halvorsen")
    gender: str | None = None  # as detection's roster learnt it ("Mrs X", "X ... her")
    roles: set = field(default_factory=set)  # the roster's role words ("X, the firm's founder": founder)

    @property
    def words(self) -> list[str]:
        return norm(self.name).split()

    def forms(self) -> list[list[str]]:
        return [self.words] + [norm(a).split() for a in self.aliases]


class Entities:
    """The article's parties (the resolver's roster and the findings') and where each is
    mentioned (character offsets into the body)."""

    def __init__(self, doc: Doc, findings, resolver: Resolver):
        self.doc = doc
        self.resolver = resolver
        self.items: list[Entity] = []
        # whom a named person speaks for: "union president X", "the company's chief executive, X"
        self.employer: dict[int, Entity] = {}
        for f in findings:
            self._add(f.actor["name"], f.actor.get("kind", "person"), actor=True)
        for f in findings:
            if f.target and f.target.get("name"):
                self._add(f.target["name"], f.target.get("kind", "person"), actor=False)
        self._note_acronyms(text_of(doc))
        # the other parties are those detection's roster holds, in the order the article introduced them
        for party in sorted(resolver.roster.entities, key=lambda e: e.first):
            if party.kind != "group" and party.name[:1].isupper() and self.match(party.name) is None:
                self._add(party.name, party.kind, actor=False)
            # the short forms the roster gave a body: its initials as the article writes them ("HSE")
            letters = "".join(w[0] for w in party.name.split() if w[:1].isupper())
            mine = self.match(party.name)
            if mine is not None and party.kind != "person" and len(letters) >= 2 and letters.lower() in party.aliases:
                if re.search(r"(?<![\w-])%s(?![\w-])" % letters, text_of(doc)):
                    mine.aliases.add(letters)
        self._settle_kinds()
        self._match_cache = {}  # kinds may have changed: earlier answers are stale
        quoted = [(m.start(), m.end()) for m in re.finditer(r"[\"“][^\"“”\n]*[\"”]", text_of(doc))]
        # names inside quotation marks are what someone said, not who is speaking
        self.mentions: list[tuple[int, Entity]] = sorted(
            (m for m in self._mentions() if not any(a < m[0] < b for a, b in quoted)), key=lambda m: m[0]
        )
        self._starts = [m[0] for m in self.mentions]
        self._note_leaders(doc)

    def _note_acronyms(self, body: str) -> None:
        """ "the Harbour Workers Guild (HWG)": the letters in brackets are the body's short name."""
        for m in _ACRONYM.finditer(body):
            words = [w for w in m.group(1).split() if w[:1].isupper()]
            letters = m.group(2)
            for k in range(len(words) - len(letters), -1, -1):
                if "".join(w[0] for w in words[k : k + len(letters)]) == letters:
                    known = self.match(" ".join(words[k : k + len(letters)]))
                    if known is not None and known.kind == "organisation":
                        known.aliases.add(letters)
                    break

    def _note_leaders(self, doc: Doc) -> None:
        """ "A Acme delegation led by X", "the Acme team headed by X": X speaks for Acme."""
        for t in doc:
            if t.lower_ not in ("led", "headed") or t.dep_ != "acl":
                continue
            people = [p for a in t.children if a.dep_ == "agent" for p in a.children if p.dep_ == "pobj"]
            bodies = [c for c in t.head.children if c.dep_ in ("compound", "nmod", "amod") and c.pos_ == "PROPN"]
            if not people or not bodies:
                continue
            person, body = self.match(_phrase(people[0])), self.match(_phrase(bodies[0]))
            if (
                person is not None
                and body is not None
                and person.kind == "person"
                and body.kind == "organisation"
                and person is not body
            ):
                self.employer.setdefault(id(person), body)

    def _settle_kinds(self) -> None:
        """Person or organisation as detection's roster decided (it weighed what the parse calls
        each mention); a name's own shape ("... Ltd", "Dr ...") wins."""
        for e in self.items:
            shaped = shape_kind(e.name)
            known = self.resolver.roster.find(e.name)
            if shaped is not None:
                e.kind = shaped
            elif known is not None:
                e.kind = "person" if known.kind == "person" else "organisation"
            if known is not None:
                e.roles = set(known.roles)
                e.gender = known.gender if e.kind == "person" else None

    def _add(self, name: str, kind: str, actor: bool) -> None:
        known = self.match(name)
        short_org = (
            known is not None
            and known.kind == "organisation"
            and len(norm(name).split()) < len(known.words)
            and known.words[: len(norm(name).split())] == norm(name).split()
        )
        if known is not None and (
            norm(known.name) == norm(name)
            or short_org
            or (known.kind == "person" == kind and norm(known.name).split()[-1] == norm(name).split()[-1])
        ):
            # one person under a full and a short name: one entity with both forms
            known.actor = known.actor or actor
            if len(name) > len(known.name) and not actor:
                known.aliases.add(name)
            elif name != known.name:
                known.aliases.add(name)
            return
        person = person_part(name)
        kind = shape_kind(name) or kind
        entity = Entity(name, "person" if kind == "person" else "organisation", actor)
        if person:
            entity.aliases.add(person)
            if TITLED.match(person):
                entity.aliases.add(TITLED.sub("", person, count=1))
        self.items.append(entity)

    def _mentions(self):
        body = text_of(self.doc)
        for e in self.items:
            forms = {e.name, *e.aliases}
            first = None
            if e.kind == "person":
                forms.add((person_part(e.name) or e.name).split()[-1])
            elif len(e.name.split()) > 1 and len(e.name.split()[0]) > 3 and e.name[:1].isupper():
                first, second = e.name.split()[:2]
                # the first word alone stands for the organisation when the text uses it so
                if re.search(r"(?<![\w-])%s(?!\s+%s)(?![\w-])" % (re.escape(first), re.escape(second)), body):
                    forms.add(first)
            for form in forms:
                for at in _occurrences(body, form):
                    if form == first and _AFTER_NAME.search(body, max(0, at - 40), at):
                        continue  # "Energy" in "Acme Energy" is Acme, not "Energy Workers' Union"
                    yield at, e

    def match(self, phrase: str) -> Entity | None:
        key = (phrase, len(self.items), sum(len(e.aliases) for e in self.items))
        cache = self.__dict__.setdefault("_match_cache", {})
        if key not in cache:
            cache[key] = self._match(phrase)
        return cache[key]

    def _match(self, phrase: str) -> Entity | None:
        """The entity a name phrase ("Housing Minister Luma Halvorsen", "Halvorsen",
        "the Brackwater trust") refers to; actors first, then the longest name."""
        p = norm(phrase)
        if not p:
            return None
        pw = p.split()
        exact = [e for e in self.items if any(" ".join(ew) == p for ew in e.forms())]
        if exact:  # the name as written beats a longer name that contains it
            return max(exact, key=lambda e: e.actor)
        best = None
        for e in self.items:
            for ew in e.forms():
                n = " ".join(ew)
                hit = (
                    n == p
                    or (len(ew) > 1 and f" {n} " in f" {p} ")
                    or (len(pw) > 1 and f" {p} " in f" {n} ")
                    or (e.kind == "person" and pw[-1] == ew[-1] and len(pw) <= 2)
                    # "Pellworth" for "Pellworth Mills": an organisation by its first name
                    or (
                        e.kind == "organisation"
                        and len(pw) == 1
                        and len(ew) > 1
                        and pw[0] == ew[0]
                        and phrase.strip()[:1].isupper()
                        and len(pw[0]) > 3
                    )
                )
                if hit and (best is None or (e.actor, len(ew)) > (best.actor, len(best.words))):
                    best = e
        return best

    def before(self, char: int, kinds: set[str], head: str | None = None, pronoun: str = "") -> Entity | None:
        """The nearest entity of one of `kinds` mentioned before `char` (whose name contains
        `head`, when given: "the trust" -> "... Trust"; that `pronoun` can refer to, when given)."""
        i = bisect.bisect_left(self._starts, char) - 1
        while i >= 0:
            _, e = self.mentions[i]
            if (
                e.kind in kinds
                and (head is None or any(head in w for w in e.forms()) or head in e.roles)
                and fits(e.kind, e.gender, pronoun)
            ):
                return e
            i -= 1
        return None

    def resolve(self, tok: Token, at: int | None = None, last: "Speaker | None" = None) -> Entity | None:
        """The entity a subject token refers to: a name, a proxy ("a spokesperson for X", "X's
        lawyers"), or, for a pronoun or a description, the last speaker when that speaker was
        introduced as the same kind of thing ("A spokeswoman said ... she said"), else the nearest
        earlier mention. `at`: where to look back from (a tail attribution looks back from the
        quotation's start, so names inside the quotation do not count)."""
        at = tok.idx if at is None else at
        lower = tok.lower_
        if tok.pos_ == "PRON":
            surface = "person" if lower in PERSON_PRON else "organisation" if lower in ORG_PRON else None
            if lower not in PERSON_PRON | ORG_PRON | GROUP_PRON:
                return None
            if (
                last is not None
                and (surface is None or last.surface == surface)
                and fits(last.entity.kind, last.entity.gender, lower)
            ):
                return last.entity
            if lower in PERSON_PRON:  # "he" after a woman spoke: the last man, or one not known to be a woman
                return self.before(at, {"person"}, pronoun=lower)
            if lower in ORG_PRON:
                return self.before(at, {"organisation"})
            return self.before(at, {"organisation"}) or self.before(at, {"person"})
        if lower in PROXY_NOUNS:
            for c in tok.children:
                if c.dep_ == "poss":
                    return self.resolve(c, at, last)
                if c.dep_ == "prep" and c.lower_ in ("for", "of", "from", "at"):
                    for p in c.children:
                        if p.dep_ == "pobj":
                            return self.resolve(p, at, last)
        for app in (c for c in tok.children if c.dep_ == "appos"):
            if app.pos_ == "PROPN":
                hit = self.match(_phrase(app))
                if hit:
                    self._note_employer(hit, tok, at)
                    return hit
        if lower in PROXY_NOUNS:
            for c in tok.children:  # "the Acme spokesperson", "a party spokesman"
                if c.dep_ in ("compound", "nmod", "amod") and c.pos_ == "PROPN":
                    return self.match(_phrase(c))
                if c.dep_ in ("compound", "nmod") and c.pos_ == "NOUN":
                    return self.before(at, {"organisation"}, head=c.lower_) or self.before(at, {"organisation"})
            if lower == "statement":
                return None
            if last is not None:
                return last.entity  # "Acme rejected the claims. A spokesman said ...": for who spoke last
            return self.before(at, {"organisation"})
        if tok.pos_ == "PROPN":
            hit = self.named(tok)
            if hit is not None:
                for c in tok.doc[tok.left_edge.i : tok.i]:
                    if c.text.islower() and c.pos_ in ("NOUN", "PROPN"):  # "union president X"
                        self._note_employer(hit, c, at)
                    elif (
                        c.pos_ == "PROPN" and hit.kind == "person" and not any(c.text.lower() in w for w in hit.forms())
                    ):
                        body = self.match(c.text)  # "Acme director X": the named body X speaks for
                        if body is not None and body.kind == "organisation" and body is not hit:
                            self.employer.setdefault(id(hit), body)
                for c in tok.children:
                    if c.dep_ == "appos" and c.pos_ == "NOUN":  # "X, the union's president,"
                        self._note_employer(hit, c, at)
            return hit
        if tok.pos_ == "NOUN":
            for c in tok.children:  # "the family of X" names X's family: the phrase as a whole first
                if c.dep_ == "prep" and c.lower_ == "of":
                    hit = self.match(tok.doc[tok.left_edge.i : tok.right_edge.i + 1].text)
                    if hit:
                        return hit
            hit = self.match(_phrase(tok))
            if hit:
                return hit
            if any(c.dep_ == "det" and c.lower_ in ("the", "this", "that") for c in tok.children) or any(
                c.dep_ == "poss" for c in tok.children
            ):
                org = lower in ORG_NOUNS
                named = self.before(at, {"organisation"} if org else {"person", "organisation"}, head=lower)
                if named is not None:
                    return named
                if last is not None and last.surface == ("organisation" if org else "person"):
                    return last.entity
                return self.before(at, {"organisation"}) if org else None
        return None

    def named(self, tok: Token) -> Entity | None:
        """The entity a name token gives, read as detection reads it (titles dropped, a body's
        name whole), else by the phrase as written."""
        found = self.resolver.proper_name(tok)
        if found is None:
            return self.match(_phrase(tok))
        party = self.resolver.roster.find(found[0])  # "HSE", "Halvorsen": the roster's short forms
        hit = self.match(party.name if party is not None else found[0]) or self.match(found[0])
        return hit if hit is not None else self.match(_phrase(tok))

    def _note_employer(self, person: Entity, role: Token, at: int) -> None:
        """Remember the organisation a role word ties a person to ("the union's president"); a
        body's own description ("the energy regulator X") ties it to no one."""
        head = role.head if role.dep_ == "compound" else role
        if head.lower_ in ORG_NOUNS and head.lower_ not in TITLES:
            return
        if person.kind != "person":
            if person.actor or role.lower_ not in TITLES:
                return
            person.kind = "person"  # "alliance chair X": a role word before a name the tagger took for a body
        owner = None
        for c in role.children:
            if c.dep_ == "compound" and c.pos_ == "NOUN" and owner is None:  # "alliance chair X"
                owner = self.before(at, {"organisation"}, head=c.lower_)
            if c.dep_ == "poss":
                owner = self.match(_phrase(c))
                if owner is None and c.pos_ == "NOUN":  # "the company's operations director"
                    owner = self.before(at, {"organisation"}, head=c.lower_) or (
                        self.before(at, {"organisation"}) if c.lower_ in ORG_NOUNS else None
                    )
        if owner is None and role.dep_ == "compound":
            owner = self.before(at, {"organisation"}, head=role.lower_)
        if owner is not None and owner is not person:
            self.employer.setdefault(id(person), owner)

    def speaks_for(self, person: Entity) -> Entity | None:
        return self.employer.get(id(person))

    def surface(self, tok: Token) -> str | None:
        """What the subject phrase itself is, whoever it speaks for: "A spokeswoman" is a
        person, "His solicitors, Moss & Co" an organisation, "the firm" an organisation."""
        lower = tok.lower_
        if tok.pos_ == "PRON":
            return "person" if lower in PERSON_PRON else "organisation" if lower in ORG_PRON else None
        for app in (c for c in tok.children if c.dep_ == "appos" and c.pos_ == "PROPN"):
            hit = self.match(_phrase(app))
            if hit:
                return hit.kind
        hit = self.match(_phrase(tok)) if tok.pos_ in ("PROPN", "NOUN") else None
        if hit is not None:
            return hit.kind
        if tok.pos_ == "PROPN":
            return None
        if lower == "statement":
            return None
        return "organisation" if lower in ORG_NOUNS else "person"

    def same(self, entity: Entity | None, name: str) -> bool:
        return entity is not None and self.match(name) is entity


def _phrase(tok: Token) -> str:
    """A name with its compounds ("Housing Minister Luma Halvorsen"), possessive dropped."""
    toks = [t for t in tok.doc[tok.left_edge.i : tok.i + 1] if t.dep_ not in ("det", "case", "punct")]
    if not toks:
        return tok.text
    return tok.doc[toks[0].i : tok.i + 1].text


def span_of(doc: Doc, start: int, end: int) -> Span | None:
    return doc.char_span(start, end, alignment_mode="expand")
