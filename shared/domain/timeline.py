"""Timeline domain, no I/O: event documents -> timeline entries, "as known at", paging.

An entry is one real-world event: the event documents (reports) that shared.domain.matching
finds to tell the same event, whichever article they come from; it keeps the event_id of its
first report as its entry_id. Entries are ordered by shared.domain.causal_order (ORDER) over
the whole story, then filtered and paged; `position` is the entry's place in that order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from shared.domain import causal_order, matching

# as_known_at lives with apply_change (its inverse); re-exported for readers of entries
from shared.domain.corrections import as_known_at as as_known_at

ORDER = causal_order.ORDER


@dataclass(frozen=True)
class Filters:
    """Which events a timeline shows. since/until bound the event day (an undated event
    counts by its publication day), inclusive; retracted events are hidden unless asked for."""

    types: tuple[str, ...] = ()
    actor: str | None = None
    since: date | None = None
    until: date | None = None
    include_retracted: bool = False
    as_of: str | None = None  # UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ", comparable with recorded_at

    @property
    def sort_from(self) -> str | None:
        return self.since.isoformat() if self.since else None

    @property
    def sort_below(self) -> str | None:
        # every sort key of the day `until` starts with that day, so the next day bounds it
        return (self.until + timedelta(days=1)).isoformat() if self.until else None

    def fingerprint(self, story_id: str) -> str:
        canon = [
            story_id,
            sorted(self.types),
            (self.actor or "").lower(),
            self.sort_from,
            self.sort_below,
            self.include_retracted,
            self.as_of,
        ]
        return hashlib.sha256(json.dumps(canon).encode()).hexdigest()[:16]


def shows(ev: dict[str, Any], f: Filters) -> bool:
    """The per-event predicate; the store query in services.query.reads says the same."""
    if f.types and ev["event_type"] not in f.types:
        return False
    if f.actor and ev["actor"]["name"].lower() != f.actor.lower():
        return False
    if f.sort_from and ev["sort"] < f.sort_from:
        return False
    if f.sort_below and ev["sort"] >= f.sort_below:
        return False
    if ev["status"] == "superseded":  # an older reading of its article (shared.domain.readings)
        return False
    return f.include_retracted or ev["status"] != "retracted"


# as known at a time: shared.domain.corrections (the undoing half of applying a change)


# ---------------------------------------------------------------- entries


def _provenance(ev: dict[str, Any]) -> dict[str, Any]:
    src = ev["source"]
    return {
        "event_id": ev["event_id"],
        "article_id": src["article_id"],
        "url": src.get("url"),
        "outlet": src.get("outlet"),
        "title": src.get("title"),
        "published_at": ev["published_at"],
        "sentence": src["sentence"],
        "char_start": src["char_start"],
        "char_end": src["char_end"],
        "extractor_version": ev["extractor"]["version"],
        "confidence": ev["extractor"]["confidence"],
        "recorded_at": ev["recorded_at"],
        "status": ev["status"],
        "corrections": [
            {k: h.get(k) for k in ("change_id", "kind", "recorded_at", "changes", "previous", "reason", "editor")}
            for h in ev["history"]
            if h.get("kind") in ("corrected", "retracted")
        ],
        "log": {"partition": ev["log"]["partition"], "offset": ev["log"]["offset"]} if ev.get("log") else None,
    }


@dataclass
class Entry:
    position: str
    members: list[dict[str, Any]] = field(default_factory=list)
    responds_to: list[str] = field(default_factory=list)  # entry_ids, resolved by group()
    entry_id: str = ""
    reasons: list[str] = field(default_factory=list)  # why each member joined, in member order
    shown: dict[str, Any] = field(default_factory=dict[str, Any])  # the best-supported values (matching.best_values)
    alternatives: dict[str, Any] = field(default_factory=dict[str, Any])  # the values other reports give
    placement: causal_order.Placement | None = None

    @property
    def lead(self) -> dict[str, Any]:
        """The report whose summary and details the entry shows: the most confident, then the first."""
        return max(self.members, key=lambda m: (m["extractor"]["confidence"], -self.members.index(m)))

    def to_dict(self) -> dict[str, Any]:
        lead, shown = self.lead, self.shown
        statuses = {m["status"] for m in self.members}
        status = "retracted" if statuses == {"retracted"} else "corrected" if "corrected" in statuses else "active"
        when = shown.get("when")
        details = dict(lead["details"])
        if shown.get("body"):
            details["body"] = shown["body"]
        provenance = []
        for m, why in zip(self.members, self.reasons):
            p = _provenance(m)
            p["joined"] = why
            p["reported"] = {
                "actor": m["actor"],
                "target": m["target"],
                "occurred_at": m["occurred_at"],
                "occurred_precision": m["occurred_precision"],
                "quote": m["quote"],
                "body": (m.get("details") or {}).get("body"),
            }
            provenance.append(p)
        placement = self.placement
        return {
            "entry_id": self.entry_id,
            "event_type": lead["event_type"],
            "occurred_at": when[0] if when else None,
            "occurred_precision": when[1] if when else None,
            "dated": when is not None,
            "published_at": min(m["published_at"] for m in self.members),
            "actor": shown.get("actor") or lead["actor"],
            "target": shown.get("target"),
            "summary": lead["summary"],
            "quote": shown.get("quote"),
            "details": details,
            "status": status,
            "retracted": status == "retracted",
            "confidence": max(m["extractor"]["confidence"] for m in self.members),
            "responds_to": list(self.responds_to),
            "responds_to_inferred": list(placement.inferred_links) if placement else [],
            "placement": placement.to_dict() if placement else None,
            "alternatives": {
                k: [
                    {**a, "value": {"occurred_at": a["value"][0], "occurred_precision": a["value"][1]}}
                    if k == "when"
                    else a
                    for a in alts
                ]
                for k, alts in self.alternatives.items()
            },
            "provenance": provenance,
        }


def group(events: list[dict[str, Any]]) -> list[Entry]:
    """A story's visible events -> its entries, in causal order (ORDER)."""
    return Grouping(events).entries()


class Grouping:
    """A story's reports grouped into entries, able to take later reports without grouping the
    earlier ones again (`extended`): grouping reads reports in log order and the first
    compatible entry wins, so reports later in log order than all the others, whose text spells
    out no new alias, join exactly as grouping them all at once would have them join."""

    def __init__(self, events: list[dict[str, Any]]):
        self._grouper = matching.Grouper(matching.story_aliases(events))
        ordered = sorted(events, key=matching.log_order)
        for ev in ordered:
            self._grouper.add(ev)
        self._last = matching.log_order(ordered[-1]) if ordered else None
        self._best: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}  # per group: best_values

    def extended(self, later: list[dict[str, Any]]) -> Grouping | None:
        """This grouping with `later` reports added (this one unchanged), or None when they
        cannot be added so: one is not later in log order than every report here, or their
        text spells out an alias the story's text did not."""
        ordered = sorted(later, key=matching.log_order)
        if not ordered:
            return self
        aliases = self._grouper.aliases
        texts = (
            text for ev in ordered for text in (ev["source"].get("sentence"), (ev.get("details") or {}).get("body"))
        )
        if (self._last is not None and matching.log_order(ordered[0]) <= self._last) or not aliases.knows_all(texts):
            return None
        out = Grouping.__new__(Grouping)
        out._grouper, out._best = self._grouper.copy(), dict(self._best)
        for ev in ordered:
            out._best.pop(out._grouper.add(ev), None)  # that group's best values change
        out._last = matching.log_order(ordered[-1])
        return out

    def _values(self, n: int, g: matching.Group) -> tuple[dict[str, Any], dict[str, Any]]:
        if n not in self._best:
            self._best[n] = matching.best_values(g.reports)
        return self._best[n]

    def entries(self) -> list[Entry]:
        """The entries in causal order (ORDER), new objects on every call."""
        groups = self._grouper.groups
        entry_of = {r["event_id"]: g.entry_id for g in groups for r in g.reports}
        entries: dict[str, Entry] = {}
        items = []
        for n, g in enumerate(groups):
            shown, others = self._values(n, g)
            entries[g.entry_id] = Entry(
                position="",
                members=list(g.reports),
                entry_id=g.entry_id,
                reasons=list(g.reasons),
                shown=shown,
                alternatives=others,
            )
            links = {entry_of[r] for m in g.reports for r in m.get("responds_to") or () if r in entry_of} - {g.entry_id}
            when, target = shown.get("when"), shown.get("target")
            first = g.reports[0]
            items.append(
                causal_order.Item(
                    entry_id=g.entry_id,
                    event_type=g.event_type,
                    actor=(shown.get("actor") or first["actor"])["name"],
                    target=target["name"] if target else None,
                    occurred_at=when[0][:10] if when else None,
                    published_at=min(m["published_at"] for m in g.reports),
                    log=matching.log_order(first),
                    links=sorted(links),
                    precision=when[1] if when else None,
                )
            )
        ordered = []
        for n, (item, placement) in enumerate(causal_order.place(items, self._grouper.aliases)):
            e = entries[item.entry_id]
            e.placement, e.responds_to = placement, list(placement.responds_to)
            e.position = f"{placement.date}|{n:06d}|{e.entry_id}"
            ordered.append(e)
        return ordered


def entry_shows(entry: Entry, f: Filters) -> bool:
    """The filters that apply to whole entries once the story is ordered: type, actor (any
    report's), and since/until on the day the entry is shown at (an undated one: its placement)."""
    if f.types and entry.members[0]["event_type"] not in f.types:
        return False
    if f.actor and all(m["actor"]["name"].lower() != f.actor.lower() for m in entry.members):
        return False
    day = entry.placement.date if entry.placement else entry.position[:10]
    if f.since and day < f.since.isoformat():
        return False
    return not (f.until and day > f.until.isoformat())


def page(entries: list[Entry], after: str | None, limit: int) -> tuple[list[Entry], str | None]:
    """The `limit` entries after position `after`, and the position to continue from (None at the end).
    A position names its entry: when that entry is still there, the page continues right after it,
    even if entries were inserted before it since; otherwise after the position's place."""
    if after is None:
        start = 0
    else:
        after_id = after.rsplit("|", 1)[-1]
        at = next((n for n, e in enumerate(entries) if e.entry_id == after_id), None)
        start = at + 1 if at is not None else sum(1 for e in entries if e.position <= after)
    rest = entries[start:]
    chosen = rest[:limit]
    return chosen, (chosen[-1].position if len(rest) > limit else None)


# ---------------------------------------------------------------- cursors


class BadCursor(ValueError):
    pass


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Opaque to clients; it names the query it belongs to, so it cannot be reused with other filters."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise BadCursor("not a cursor from this API") from None
    if not isinstance(values, dict) or not all(isinstance(values.get(k), str) for k in keys + ("f",)):
        raise BadCursor("not a cursor from this API")
    if values["f"] != fingerprint:
        raise BadCursor("this cursor belongs to a different query (story, filters or as_of changed)")
    return values
