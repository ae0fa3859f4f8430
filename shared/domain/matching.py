"""One entry per real-world event: which reports (event documents) of a story tell the same event.

Pure and deterministic: `group_reports` reads a story's event documents in log order and
puts each one into the first compatible entry (or a new one), so a rebuild from the log, or
any reader, gets the same entries. An entry keeps the `event_id` of its first report as its
id. A report joins an entry when, against every report already in it:

- the event type is the same and the report comes from another article (the extractor
  already folds repeated mentions within one article into one event);
- the actor is the same entity: one name's words contain the other's ("Roe" / "John Roe"),
  after dropping articles and possessives ("the Party" / "Party"), and treating "X
  campaign", "X's team" as acting for X; or one is an alias of the other (a "Long Name
  (LN)" spelled out in the story's sentences, or initials);
- the targets, and the bodies complained to (`details.body`), are compatible in the same
  way, or one report names none;
- the dates are compatible: each date covers the span of its precision (a day, a week, a
  month, a year) and the spans overlap; an undated report matches a dated one provided that
  date is not after the undated report's publication day.

Each join carries a reason in words, so the entry can say why each report belongs to it.
"""

from __future__ import annotations

import calendar
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

# Words that say "someone acting for X": "X campaign" is X's campaign, "X's lawyers" act for X.
_AGENT_WORDS = frozenset(
    {
        "campaign",
        "team",
        "office",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "lawyer",
        "lawyers",
        "aide",
        "aides",
        "representatives",
        "camp",
    }
)
_FILLER = frozenset({"the", "a", "an"})
_INITIAL_SKIP = frozenset({"of", "for", "and", "the", "on", "in", "de", "&"})
_ALIAS_IN_TEXT = re.compile(
    r"((?:[A-Z][\w'’.-]*\s+(?:(?:of|for|and|the|on|in|de|&)\s+)*)+[A-Z][\w'’.-]*)\s*\(([A-Z][A-Za-z0-9&.]{1,11})\)"
)
_PRECISION_RANK = {"datetime": 0, "day": 0, "week": 1, "month": 2, "year": 3}


# ---------------------------------------------------------------- names


@functools.lru_cache(maxsize=8192)
def words(name: str | None) -> tuple[str, ...]:
    """A name as comparable words: lower case, no articles, no possessive, no punctuation."""
    text = (name or "").replace("’", "'").lower()
    text = re.sub(r"\([^)]*\)", " ", text)
    text = re.sub(r"'s\b|'(?=\s|$)", " ", text)
    return tuple(w for w in re.findall(r"[\w&]+(?:[-.][\w]+)*", text) if w not in _FILLER)


def _principal(ws: tuple[str, ...]) -> tuple[str, ...]:
    """'mara vell campaign' -> 'mara vell': the one a campaign, team or office acts for."""
    while len(ws) > 1 and ws[-1] in _AGENT_WORDS:
        ws = ws[:-1]
    return ws


def _initials(ws: tuple[str, ...]) -> str:
    return "".join(w[0] for w in ws if w not in _INITIAL_SKIP)


class Aliases:
    """Short forms the story's own text spells out: "Long Name (LN)" in any report's sentence.
    Initials ("LN" for "Long Name") count as an alias too; nothing comes from a fixed list."""

    def __init__(self, texts: Iterable[str | None] = ()):
        self._table: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        # name_relation's answers (a story has few distinct names)
        self.memo: dict[tuple[str | None, str | None], str | None] = {}
        for long, short in self._spelled_out(texts):
            self.add(long, short)

    @staticmethod
    def _spelled_out(texts: Iterable[str | None]) -> Iterator[tuple[str, str]]:
        for text in texts:
            for m in _ALIAS_IN_TEXT.finditer(text or ""):
                yield m.group(1), m.group(2)

    def knows_all(self, texts: Iterable[str | None]) -> bool:
        """Whether every alias these texts spell out is known already (then adding them
        would change no name_relation answer)."""
        for long, short in self._spelled_out(texts):
            a, b = words(long), words(short)
            if a and b and a != b and b not in self._table.get(a, ()):
                return False
        return True

    def add(self, long: str, short: str) -> None:
        a, b = words(long), words(short)
        if a and b and a != b:
            self.memo.clear()
            self._table.setdefault(a, set()).add(b)
            self._table.setdefault(b, set()).add(a)

    def variants(self, name: str | None) -> list[tuple[str, ...]]:
        """The name's words, then the words of each form it is an alias of (a parenthesis in
        the name itself, "Long Name (LN)", gives both)."""
        ws = words(name)
        out = [ws] if ws else []
        inner = re.search(r"\(([^)]+)\)", name or "")
        if inner and words(inner.group(1)):
            out.append(words(inner.group(1)))
        for v in list(out):
            out += [a for a in self._table.get(v, ()) if a not in out]
        return out


def name_relation(a: str | None, b: str | None, aliases: Aliases) -> str | None:
    """How two names denote one entity, in words; None when they do not."""
    key = (a, b)
    if key not in aliases.memo:
        aliases.memo[key] = _name_relation(a, b, aliases)
    return aliases.memo[key]


def _name_relation(a: str | None, b: str | None, aliases: Aliases) -> str | None:
    va, vb = aliases.variants(a), aliases.variants(b)
    if not va or not vb:
        return None
    if va[0] == vb[0]:
        return "same name"
    for x in va:
        for y in vb:
            if x == y:
                return f"{a!r} is another name for {b!r}"
            px, py = _principal(x), _principal(y)
            if set(px) <= set(py) or set(py) <= set(px):
                if px != x or py != y:
                    return f"{a!r} and {b!r} name one principal"
                return f"{a!r} and {b!r} share a name ({' '.join(px if len(px) <= len(py) else py)})"
            if len(x) == 1 and len(y) > 1 and x[0] == _initials(y):
                return f"{a!r} is the initials of {b!r}"
            if len(y) == 1 and len(x) > 1 and y[0] == _initials(x):
                return f"{b!r} is the initials of {a!r}"
    return None


# ---------------------------------------------------------------- dates


@functools.lru_cache(maxsize=8192)
def span(occurred_at: str | None, precision: str | None) -> tuple[date, date] | None:
    """The days a date of some precision covers, or None when undated."""
    if not occurred_at:
        return None
    try:
        d = date.fromisoformat(occurred_at[:10])
    except ValueError:
        return None
    if precision == "year":
        return date(d.year, 1, 1), date(d.year, 12, 31)
    if precision == "month":
        return d.replace(day=1), d.replace(day=calendar.monthrange(d.year, d.month)[1])
    if precision == "week":
        return d, d + timedelta(days=6)
    return d, d


def date_relation(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Whether two reports' dates can be one event's date, in words; None when they cannot."""
    sa, sb = (
        span(a.get("occurred_at"), a.get("occurred_precision")),
        span(b.get("occurred_at"), b.get("occurred_precision")),
    )
    if sa is None and sb is None:
        return "both undated"
    if sa is None or sb is None:
        dated, undated = (b, a) if sa is None else (a, b)
        known = sb if sa is None else sa
        assert known is not None  # one of the two is dated here
        start = known[0]
        if start.isoformat() > undated["published_at"][:10]:
            return None  # a report cannot tell of an event dated after it was published
        return f"undated report, published on or after {dated['occurred_at'][:10]}"
    if sa[0] <= sb[1] and sb[0] <= sa[1]:
        return (
            "same date"
            if sa == sb
            else f"dates overlap within their precision ({a['occurred_at'][:10]}, {b['occurred_at'][:10]})"
        )
    return None


# ---------------------------------------------------------------- grouping


@dataclass
class Group:
    """One real-world event: its reports in log order, each with the reason it joined."""

    entry_id: str
    event_type: str
    reports: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    articles: set[str] = field(default_factory=set)

    def add(self, ev: dict[str, Any], reason: str) -> None:
        self.reports.append(ev)
        self.reasons.append(reason)
        self.articles.add(ev["source"]["article_id"])


LogOrder = tuple[int, int, str, str]  # partition, offset, recorded_at, event_id


def log_order(ev: dict[str, Any]) -> LogOrder:
    log = ev.get("log") or {}
    return (log.get("partition", 0), log.get("offset", 0), ev.get("recorded_at", ""), ev["event_id"])


def _optional_relation(label: str, a: str | None, b: str | None, aliases: Aliases) -> str | None | bool:
    """'' when either side is missing (no evidence either way), a reason, or False (incompatible)."""
    if not a or not b:
        return ""
    rel = name_relation(a, b, aliases)
    return f"{label}: {rel}" if rel else False


def _target_name(ev: dict[str, Any]) -> str | None:
    name: str | None = (ev.get("target") or {}).get("name")
    return name


def _body(ev: dict[str, Any]) -> str | None:
    body: str | None = (ev.get("details") or {}).get("body")
    return body


def join_reason(group: Group, ev: dict[str, Any], aliases: Aliases) -> str | None:
    """Why `ev` is the event `group` already holds, or None when it is not."""
    if ev["event_type"] != group.event_type or ev["source"]["article_id"] in group.articles:
        return None
    relations = []  # dates first: the cheapest test, and the one most often failed
    for r in group.reports:
        rel = date_relation(ev, r)
        if rel is None:
            return None
        relations.append(rel)
    actor = next(
        (rel for r in group.reports if (rel := name_relation(ev["actor"]["name"], r["actor"]["name"], aliases))), None
    )
    if actor is None:
        return None
    parts = [f"same type ({ev['event_type']})", f"actor: {actor}"]
    for label, get in (("target", _target_name), ("body", _body)):
        found = ""
        for r in group.reports:
            verdict = _optional_relation(label, get(ev), get(r), aliases)
            if verdict is False:
                return None
            if isinstance(verdict, str):
                found = found or verdict
        if found:
            parts.append(found)
    # the most telling: a date matched, then an undated report against a dated one
    parts.append("date: " + min(relations, key=lambda rel: (rel == "both undated", rel.startswith("undated"))))
    return "; ".join(parts)


def story_aliases(events: list[dict[str, Any]]) -> Aliases:
    return Aliases(
        text for ev in events for text in (ev["source"].get("sentence"), (ev.get("details") or {}).get("body"))
    )


_K = TypeVar("_K")


class _ActorIndex:
    """Which entries could share an actor with a name: name_relation needs one name's words
    within the other's, an alias or initials, so an entry is found by the exact word sets of
    its actors' names (for subsets of the asking name) and by each word (for supersets)."""

    def __init__(self, aliases: Aliases):
        self.aliases = aliases
        self.by_set: dict[tuple[str, frozenset[str]], set[int]] = {}
        self.by_word: dict[tuple[str, str], set[int]] = {}
        self._memo: dict[str, list[frozenset[str]]] = {}
        self._shared = False  # since a copy: the sets not in _owned are the other index's too
        self._owned: set[tuple[int, object]] = set()

    def copy(self) -> _ActorIndex:
        """An independent copy in O(keys): the sets are shared until either side changes one."""
        out = _ActorIndex(self.aliases)
        out.by_set, out.by_word = dict(self.by_set), dict(self.by_word)
        out._memo = self._memo  # a name's keys depend on the aliases only, which both share
        for index in (self, out):
            index._shared, index._owned = True, set()
        return out

    def _keys(self, name: str) -> list[frozenset[str]]:
        if name in self._memo:
            return self._memo[name]
        out: list[frozenset[str]] = []
        self._memo[name] = out
        for v in self.aliases.variants(name):
            p = _principal(v)
            out.append(frozenset(p))
            if len(p) > 1:
                out.append(frozenset([_initials(p)]))
        return out

    def add(self, n: int, kind: str, name: str) -> None:
        for key in self._keys(name):
            self._own(self.by_set, (kind, key)).add(n)
            for w in key:
                self._own(self.by_word, (kind, w)).add(n)

    def _own(self, table: dict[_K, set[int]], key: _K) -> set[int]:
        """The set at `key`, this index's own to change (a copy, the first time, of one shared)."""
        found = table.get(key)
        if found is None:
            found = table[key] = set()
        elif self._shared and (id(table), key) not in self._owned:
            found = table[key] = set(found)
        if self._shared:
            self._owned.add((id(table), key))
        return found

    def candidates(self, kind: str, name: str) -> list[int]:
        found: set[int] = set()
        for key in self._keys(name):
            words_ = sorted(key)
            for size in range(1, min(len(words_), 6) + 1):  # entries named by a subset of this name
                for sub in itertools.combinations(words_, size):
                    found |= self.by_set.get((kind, frozenset(sub)), set())
            postings = [self.by_word.get((kind, w), set()) for w in words_]  # by a superset
            if postings:
                found |= set.intersection(*postings)
        return sorted(found)


class Grouper:
    """group_reports one report at a time, reports in log order: the groups so far, and the
    actor index that finds a report's candidate groups."""

    def __init__(self, aliases: Aliases):
        self.aliases = aliases
        self.groups: list[Group] = []
        self._index = _ActorIndex(aliases)
        self._shared: set[int] = set()  # groups another Grouper holds too: copied before a change

    def add(self, ev: dict[str, Any]) -> int:
        """Put `ev` into the first compatible group, or a new one; the group's number."""
        kind, actor = ev["event_type"], ev["actor"]["name"]
        for n in self._index.candidates(kind, actor):
            reason = join_reason(self.groups[n], ev, self.aliases)
            if reason is not None:
                if n in self._shared:
                    g = self.groups[n]
                    self.groups[n] = Group(g.entry_id, g.event_type, list(g.reports), list(g.reasons), set(g.articles))
                    self._shared.discard(n)
                self.groups[n].add(ev, reason)
                self._index.add(n, kind, actor)
                return n
        self.groups.append(Group(entry_id=ev["event_id"], event_type=kind))
        self.groups[-1].add(ev, "first report")
        self._index.add(len(self.groups) - 1, kind, actor)
        return len(self.groups) - 1

    def copy(self) -> Grouper:
        """An independent copy, made in O(groups): groups are shared until either side changes one."""
        out = Grouper(self.aliases)
        out.groups = list(self.groups)
        self._shared = set(range(len(self.groups)))
        out._shared = set(self._shared)
        out._index = self._index.copy()
        return out


def group_reports(events: list[dict[str, Any]], aliases: Aliases | None = None) -> list[Group]:
    """A story's event documents -> entries, in log order; the first compatible entry wins."""
    grouper = Grouper(aliases or story_aliases(events))
    for ev in sorted(events, key=log_order):
        grouper.add(ev)
    return grouper.groups


# ---------------------------------------------------------------- best-supported values


def _confidence(ev: dict[str, Any]) -> float:
    return float((ev.get("extractor") or {}).get("confidence") or 0.0)


def _unranked(value: Any) -> float:
    return 0


def best(
    reports: list[dict[str, Any]],
    value: Callable[[dict[str, Any]], Any],
    rank: Callable[[Any], float] = _unranked,
) -> tuple[Any, list[dict[str, Any]]]:
    """The value most reports give (then `rank`, higher first, then the most confident report,
    then the earliest), and the alternatives [{value, event_ids}] the other reports give."""
    seen: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(reports):
        v = value(r)
        if v is None:
            continue
        key = repr(v)
        slot = seen.setdefault(key, {"value": v, "event_ids": [], "conf": 0.0, "first": i})
        slot["event_ids"].append(r["event_id"])
        slot["conf"] = max(slot["conf"], _confidence(r))
    if not seen:
        return None, []
    ordered = sorted(seen.values(), key=lambda s: (-len(s["event_ids"]), -rank(s["value"]), -s["conf"], s["first"]))
    return ordered[0]["value"], [{"value": s["value"], "event_ids": s["event_ids"]} for s in ordered[1:]]


def best_values(reports: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entry's shown fields and, per field where reports disagree, the values not shown."""
    shown: dict[str, Any] = {}
    others: dict[str, Any] = {}
    fields: dict[str, tuple[Callable[[dict[str, Any]], Any], Callable[[Any], float]]] = {
        "actor": (lambda r: r["actor"], lambda v: len(words(v["name"]))),
        "target": (lambda r: r.get("target"), lambda v: len(words(v["name"]))),
        "when": (
            lambda r: (r["occurred_at"], r.get("occurred_precision") or "day") if r.get("occurred_at") else None,
            lambda v: -_PRECISION_RANK.get(v[1], 0),
        ),
        "quote": (lambda r: r.get("quote"), lambda v: len(v)),
        "body": (lambda r: (r.get("details") or {}).get("body"), lambda v: len(v)),
    }
    for name, (value, rank) in fields.items():
        shown[name], alternatives = best(reports, value, rank)
        if alternatives:
            others[name] = alternatives
    return shown, others
