"""Shared by the quote, date and summary tests: the project's own articles with their gold
(tests/corpus/quotes_dates.json), matching as the shared scorer does, short-clause checks."""

from __future__ import annotations

import json
import pathlib
import re
from datetime import datetime

ROOT = pathlib.Path(__file__).resolve().parents[1]
OWN = ROOT / "tests" / "corpus" / "quotes_dates.json"
SHARED = ROOT.parent / "shared" / "corpus"
CLI = ROOT / ".venv" / "bin" / "storyline"


def load(path: pathlib.Path = OWN) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def published(article: dict) -> datetime:
    return datetime.fromisoformat(article["published_at"].replace("Z", "+00:00"))


def norm(s: str | None) -> str:
    """The scorer's quote normalisation: case, quote marks and spacing do not count."""
    s = re.sub("[\u2018\u2019\u201c\u201d\"']", "", (s or "").lower())
    return re.sub(r"\s+", " ", s).strip()


def actor_matches(name: str, aliases: list[str]) -> bool:
    p = re.sub(r"^(the|dr|mr|mrs|ms)\s+", "", (name or "").lower().replace("\u2019", "'").strip())
    return bool(p) and any((a := al.lower().replace("\u2019", "'")) in p or p in a for al in aliases)


def gold_events(data: dict, field: str | None = None):
    """(article, gold event) pairs, those with `field` set when given."""
    by_id = {a["id"]: a for a in data["articles"]}
    for aid, g in data["gold"].items():
        for ev in g["required"]:
            if field is None or field in ev:
                yield by_id[aid], ev


def find(events: list[dict], gold: dict) -> dict | None:
    """The first extracted event of the gold event's type whose actor matches it."""

    def name(ev):
        a = ev.get("actor")
        return a.get("name") if isinstance(a, dict) else a

    return next((e for e in events if e["event_type"] == gold["type"] and actor_matches(name(e), gold["actor"])), None)


_DANGLING = {"the", "a", "an", "of", "to", "and", "or", "in", "on", "at", "for", "with", "that", "by", "from"}


def short_clause_problems(summary: str, actor: str, body: str) -> list[str]:
    """What keeps a summary from being one short clause about the event, empty if nothing."""
    problems = []
    if not summary or len(summary) > 140:
        problems.append(f"length {len(summary or '')}")
    if not summary.startswith(actor):
        problems.append("does not open with the actor")
    if re.search(r"[\"\u201c\u201d\n]", summary):
        problems.append("holds quote marks or a line break")
    last = re.findall(r"[\w'’-]+", summary)[-1] if re.findall(r"[\w'’-]+", summary) else ""
    vocabulary = (
        set(re.findall(r"[\w'’-]+", body.lower()))
        | set(re.findall(r"[\w'’-]+", actor.lower()))
        | {"allegation", "complaint", "post", "accused", "denied", "filed", "deleted", "rejected", "made"}
    )
    if last.lower() not in vocabulary:
        problems.append(f"ends in a cut word {last!r}")
    if last.lower() in _DANGLING:
        problems.append(f"ends on {last!r}")
    if summary.count(" ") < 2:
        problems.append("not a clause")
    return problems
