"""Timeline entries as a person reads them: narrative text (Markdown or plain) and TimelineJS.

Pure functions over entry dicts (timeline.Entry.to_dict()); no I/O.
"""
from __future__ import annotations

import html
import re
from datetime import date

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def kind_label(event_type: str) -> str:
    return event_type.replace("_", " ")


def _day(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso[:10])
    except (TypeError, ValueError):
        return None


def human_date(iso: str | None, precision: str | None) -> str:
    """'24 October 2024', 'October 2024', '2024', 'week of 21 October 2024', with a time if known."""
    d = _day(iso or "")
    if d is None:
        return "undated"
    long = f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
    if precision == "year":
        return str(d.year)
    if precision == "month":
        return f"{_MONTHS[d.month - 1]} {d.year}"
    if precision == "week":
        return f"week of {long}"
    if precision == "datetime" and len(iso) >= 16:
        return f"{long}, {iso[11:16]} UTC"
    return long


def entry_date(entry: dict) -> str:
    if entry["dated"]:
        return human_date(entry["occurred_at"], entry["occurred_precision"])
    return f"undated (reported {human_date(entry['published_at'], 'day')})"


def _articles(entry: dict) -> list[dict]:
    """One reference per article (an entry can cite several sentences of one article)."""
    seen: dict[str, dict] = {}
    for p in entry["provenance"]:
        seen.setdefault(p["article_id"], p)
    return list(seen.values())


def _safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _status_note(entry: dict) -> str:
    return {"retracted": "RETRACTED", "corrected": "corrected"}.get(entry["status"], "")


# ---------------------------------------------------------------- narrative

def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def narrative_markdown(title: str, story_id: str, entries: list[dict], as_of: str | None) -> str:
    lines = [f"# {_md(title or story_id)}", ""]
    known = f", as known at {as_of}" if as_of else ""
    lines += [f"{len(entries)} events, in order{known}.", ""]
    for e in entries:
        sources = ", ".join(f"[{_md(p.get('outlet') or p['article_id'])}]({_safe_url(p.get('url'))})"
                            if _safe_url(p.get("url")) else _md(p.get("outlet") or p["article_id"])
                            for p in _articles(e))
        note = _status_note(e)
        text = f"**{entry_date(e)}**: {_md(e['summary'])} _({kind_label(e['event_type'])})_ Sources: {sources}."
        if note == "RETRACTED":
            text = f"~~{text}~~ **retracted**"
        elif note:
            text += f" _({note})_"
        lines.append(f"- {text}")
    return "\n".join(lines) + "\n"


def narrative_plain(title: str, story_id: str, entries: list[dict], as_of: str | None) -> str:
    heading = title or story_id
    lines = [heading, "=" * len(heading), ""]
    known = f", as known at {as_of}" if as_of else ""
    lines += [f"{len(entries)} events, in order{known}.", ""]
    for e in entries:
        sources = "; ".join(f"{p.get('outlet') or p['article_id']} <{p['url']}>" if p.get("url")
                            else (p.get("outlet") or p["article_id"]) for p in _articles(e))
        note = _status_note(e)
        prefix = f"[{note}] " if note else ""
        lines.append(f"{entry_date(e)}: {prefix}{' '.join(e['summary'].split())} "
                     f"({kind_label(e['event_type'])}). Sources: {sources}.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- TimelineJS

def _tl_date(entry: dict) -> dict:
    iso = entry["occurred_at"] if entry["dated"] else entry["published_at"]
    d = _day(iso) or date(1970, 1, 1)
    precision = entry["occurred_precision"] if entry["dated"] else "day"
    out = {"year": d.year}
    if precision != "year":
        out["month"] = d.month
    if precision not in ("year", "month"):
        out["day"] = d.day
    if precision == "datetime" and len(iso) >= 16 and iso[10] == "T":
        out["hour"], out["minute"] = int(iso[11:13]), int(iso[14:16])
    return out


def _tl_text(entry: dict) -> str:
    parts = [f"<p>{html.escape(entry['summary'])}</p>"]
    if entry.get("quote"):
        parts.append(f"<blockquote>{html.escape(entry['quote'])}</blockquote>")
    links = []
    for p in _articles(entry):
        name = html.escape(p.get("outlet") or p["article_id"])
        url = _safe_url(p.get("url"))
        links.append(f'<a href="{html.escape(url)}">{name}</a>' if url else name)
    parts.append(f"<p>Sources: {', '.join(links)}</p>")
    if entry["status"] != "active":
        parts.append(f"<p><strong>{html.escape(_status_note(entry))}</strong></p>")
    return "".join(parts)


def timelinejs(title: str, story_id: str, entries: list[dict], group_by: str) -> dict:
    events = []
    for e in entries:
        who = e["actor"]["name"]
        events.append({
            "start_date": _tl_date(e),
            "display_date": entry_date(e),
            "text": {"headline": html.escape(f"{kind_label(e['event_type']).capitalize()}: {who}"),
                     "text": _tl_text(e)},
            "group": who if group_by == "actor" else kind_label(e["event_type"]),
            "unique_id": f"entry-{e['entry_id']}",
        })
    outlets = sorted({p.get("outlet") or p["article_id"] for e in entries for p in e["provenance"]})
    return {"title": {"text": {"headline": html.escape(title or story_id),
                               "text": html.escape(f"{len(entries)} events from {len(outlets)} outlets: "
                                                   + ", ".join(outlets))}},
            "events": events}
