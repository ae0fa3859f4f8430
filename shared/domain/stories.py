"""Which story an article belongs to: pure matching, no I/O.

An article is summarised as a profile: the normalised names of the actors and targets its
events name, its salient terms (title and body words that are not stop words or the
vocabulary every row shares, like "denied" or "claims"), and its publication time. A story's
profile is the union of the profiles of its articles.

An article joins the best-scoring story published within WINDOW_DAYS of it when

    shared terms >= MIN_TERMS  and  (shared names >= 1  or  shared terms >= MIN_TERMS_ALONE)

score = NAME_WEIGHT * shared names + shared terms; ties go to the smaller story id, so the
choice is deterministic. A shared name alone is not enough (the same minister appears in
many unrelated rows); many shared terms alone are (the same matter described without names).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

WINDOW_DAYS = 45
MIN_TERMS = 3
MIN_TERMS_ALONE = 6
NAME_WEIGHT = 4
TERMS_PER_ARTICLE = 20
TITLE_WEIGHT = 3

_STOP = frozenset(
    """
about above after again against also although among another around because been before being below
between both came come could days does doing down during each either even ever every first from further
given going have having here into itself just last later least less like made make many might more most
much must near never next only other others over said same says should since some still such than that
their them then there these they this those though three through today told toward under until upon very
want week weeks were what when where whether which while whom whose will with within without would year
years your said saying says told tuesday monday wednesday thursday friday saturday sunday january february
march april june july august september october november december
denied denies deny denial rejected rejects reject dismissed dismisses defended defends claim claims claimed
alleged alleges allegation allegations accused accuses accusation accusations complaint complaints filed
lodged submitted deleted removed post posts tweet statement statements spokesman spokeswoman spokesperson
response responded comment comments according report reports reported news people says added insisted
formal row hits back rejects calls called across well part time since whose make made take taken
""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]+")


def normalise_name(name: str) -> str:
    """'The Orrin campaign’s' -> 'orrin campaign': the form names are compared in."""
    name = name.lower().replace("’", "'").strip()
    name = re.sub(r"^the\s+", "", name)
    name = re.sub(r"'s?$", "", name)
    return re.sub(r"\s+", " ", name).strip()


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'").strip("'-")
    word = re.sub(r"'s$", "", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def salient_terms(title: str, body: str, limit: int = TERMS_PER_ARTICLE) -> frozenset[str]:
    """The most frequent content words, title words counted TITLE_WEIGHT times."""
    counts: Counter[str] = Counter()
    for text, weight in ((title, TITLE_WEIGHT), (body, 1)):
        for m in _WORD.finditer(text):
            term = _stem(m.group(0))
            if len(term) >= 4 and term not in _STOP:
                counts[term] += weight
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return frozenset(t for t, _ in ranked[:limit])


@dataclass(frozen=True)
class Profile:
    """One article, or (as the union of its articles) one story."""

    names: frozenset[str]
    terms: frozenset[str]
    published: datetime


@dataclass(frozen=True)
class Candidate:
    story_id: str
    profile: Profile


def profile_of(title: str, body: str, names: list[str], published: datetime) -> Profile:
    return Profile(frozenset(n for n in (normalise_name(x) for x in names) if n), salient_terms(title, body), published)


def merge(profiles: list[Profile]) -> Profile:
    """A story's profile: every name and term of its articles, dated by the latest article."""
    return Profile(
        frozenset().union(*(p.names for p in profiles)),
        frozenset().union(*(p.terms for p in profiles)),
        max(p.published for p in profiles),
    )


def score(article: Profile, story: Profile) -> int | None:
    """The match score, or None when the article is not about the story's matter."""
    if abs((article.published - story.published).total_seconds()) > WINDOW_DAYS * 86400:
        return None
    names = len(article.names & story.names)
    terms = len(article.terms & story.terms)
    if terms < MIN_TERMS or (names == 0 and terms < MIN_TERMS_ALONE):
        return None
    return NAME_WEIGHT * names + terms


def best_story(article: Profile, candidates: list[Candidate]) -> str | None:
    scored = [(s, c.story_id) for c in candidates if (s := score(article, c.profile)) is not None]
    if not scored:
        return None
    return min(scored, key=lambda sc: (-sc[0], sc[1]))[1]
