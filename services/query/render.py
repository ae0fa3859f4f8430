"""Timeline entries as a person reads them: narrative text (Markdown or plain) and TimelineJS.

Pure functions over entry dicts (timeline.Entry.to_dict()); no I/O.
"""

from __future__ import annotations

import html
import re
from datetime import date

from shared.domain.lead import story_lead
from shared.domain.wording import MONTHS, and_list, in_text, plural, possessive

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
    long = f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if precision == "year":
        return str(d.year)
    if precision == "month":
        return f"{MONTHS[d.month - 1]} {d.year}"
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


# ---------------------------------------------------------------- sentences

_SPEECH = {"allegation_made", "rebuttal_given", "statement_made", "apology_issued"}
_FIELD_WORDS = {
    "event_type": "type",
    "occurred_at": "date",
    "occurred_precision": "date precision",
    "actor": "actor",
    "target": "target",
    "quote": "quotation",
    "summary": "summary",
}


def _name(entity: dict | None) -> str | None:
    return (entity or {}).get("name")


def _is_sentence_copy(entry: dict) -> bool:
    """Today's extractor summarises an event as 'Actor: <the article's sentence>'; a narrative
    then says it in its own words rather than repeat the article."""
    summary = " ".join((entry.get("summary") or "").split())
    if not summary or summary.startswith(f"{entry['actor']['name']}: "):
        return True
    return any(" ".join(p["sentence"].split())[:60] in summary for p in entry["provenance"] if p.get("sentence"))


def _quote(entry: dict, limit: int = 300) -> str | None:
    q = " ".join((entry.get("quote") or "").split())
    if not q:
        return None
    return q if len(q) <= limit else q[:limit].rsplit(" ", 1)[0] + "…"


def summary_text(entry: dict) -> str:
    """The entry's summary as a sentence of the story: its own summary when extraction wrote one,
    else said from its fields (who did what to whom)."""
    if not _is_sentence_copy(entry):
        text = " ".join(entry["summary"].split()).rstrip(".")
        name = entry["actor"]["name"]
        if text.startswith(name + " ") and in_text(name) != name:  # "the X Party said ..."
            text = "The " + text
        return text
    actor, target, details = (
        in_text(entry["actor"]["name"]),
        in_text(_name(entry.get("target"))),
        entry.get("details") or {},
    )
    actor = actor[0].upper() + actor[1:]
    kind = entry["event_type"]
    if kind == "allegation_made":
        return f"{actor} accused {target}" if target else f"{actor} made an allegation"
    if kind == "rebuttal_given":
        return f"{actor} rejected {possessive(target)} allegation" if target else f"{actor} rejected the allegation"
    if kind == "complaint_filed":
        return (
            f"{actor} filed a complaint"
            + (f" with {in_text(details['body'])}" if details.get("body") else "")
            + (f" against {target}" if target else "")
        )
    if kind == "post_deleted":
        platform = details.get("platform")
        return f"A {platform + ' ' if platform else ''}post by {in_text(entry['actor']['name'])} was deleted"
    if kind == "investigation_opened":
        return f"{actor} opened an investigation" + (f" into {target}" if target else "")
    if kind == "apology_issued":
        return f"{actor} apologised" + (f" to {target}" if target else "")
    return f"{actor} made a statement" + (f" about {target}" if target else "")


def summary_with_quote(entry: dict) -> str:
    text, quote = summary_text(entry), _quote(entry)
    if quote and quote not in text:
        text += f", saying “{quote}”" if entry["event_type"] in _SPEECH else f" (“{quote}”)"
    return text


def _day_label(entry: dict) -> str:
    placement = entry.get("placement") or {}
    if entry["dated"] and entry["occurred_precision"] in ("week", "month", "year"):
        return human_date(entry["occurred_at"], entry["occurred_precision"])
    return human_date(placement.get("date") or entry["published_at"], "day")


def _known_day(entry: dict) -> bool:
    return entry["dated"] and entry["occurred_precision"] in (None, "day", "datetime") or _moved(entry)


def _connector(
    entry: dict, previous: dict | None, told: dict[str, dict], new_day: str | None, last_known: str | None
) -> str:
    """'In response, ', 'The next day, ', 'Answering X's allegation, ' (or nothing)."""
    parts = []
    # "the next day" only between days that are known (dated, or placed by what answers them)
    if new_day and last_known and _known_day(entry):
        prev, cur = _day(last_known), _day(entry["placement"]["date"])
        if prev and cur and (cur - prev).days == 1:
            parts.append("the next day")
    answers = [told[r] for r in entry.get("responds_to") or () if r in told]
    if answers:
        if previous is not None and previous["entry_id"] in {a["entry_id"] for a in answers}:
            parts.append("in response")
        elif previous is not None and set(previous.get("responds_to") or ()) & {a["entry_id"] for a in answers}:
            parts.append("also in response")
        elif not entry.get("target"):  # with a target, the sentence itself says whose claim it answers
            a = answers[-1]
            parts.append(
                f"answering {possessive(in_text(a['actor']['name']))} {kind_label(a['event_type']).split()[0]}"
            )
    if not parts:
        return ""
    text = ", ".join(parts) + ", "
    return text[0].upper() + text[1:]


def _decapitalise_after(connector: str, sentence: str) -> str:
    # "In response, A post by X was deleted" -> "In response, a post ..."; names keep their capital
    if connector and sentence.startswith(("A ", "An ", "The ")) and not sentence.startswith("The next"):
        return sentence[0].lower() + sentence[1:]
    return sentence


def _change_words(change: dict) -> str:
    changes, previous = change.get("changes") or {}, change.get("previous") or {}
    said = []
    for key, value in changes.items():
        word = _FIELD_WORDS.get(key, key)
        old = previous.get(key)
        show = lambda v: (v.get("name") if isinstance(v, dict) else v) or "none"  # noqa: E731
        said.append(f"the {word} changed from {show(old)} to {show(value)}")
    return and_list(said)


def correction_lines(entry: dict) -> list[str]:
    """One line per correction or retraction: what changed, when and why."""
    out = []
    for p in entry["provenance"]:
        for h in p.get("corrections") or ():
            when = human_date(h.get("recorded_at"), "day")
            who = f" by {h['editor']}" if h.get("editor") else ""
            why = f", because {h['reason']}" if h.get("reason") else ""
            if h.get("kind") == "retracted":
                out.append(
                    f"Retracted on {when}{who}: {summary_text(entry)} ({p.get('outlet') or p['article_id']}){why}."
                )
            else:
                out.append(f"Corrected on {when}{who}: {_change_words(h) or 'details changed'}{why}.")
    return out


def _told(entries: list[dict]):
    """Paragraphs of the story: (day label, [(entry, connector, sentence)]) in the entries' order."""
    paragraphs: list[tuple[str, list]] = []
    told: dict[str, dict] = {}
    previous, last_known = None, None
    for e in entries:
        label = _day_label(e)
        new_day = label if not paragraphs or paragraphs[-1][0] != label else None
        if new_day:
            paragraphs.append((label, []))
        connector = _connector(e, previous, told, new_day, last_known)
        paragraphs[-1][1].append((e, connector, _decapitalise_after(connector, summary_with_quote(e))))
        told[e["entry_id"]] = e
        previous = e
        if _known_day(e):
            last_known = e["placement"]["date"]
    return paragraphs


def _inferred_note(entry: dict) -> str:
    placement = entry.get("placement") or {}
    if not placement.get("inferred") or not placement.get("reason"):
        return ""
    return placement["reason"].replace("undated; placed", "date not reported; placed", 1)


def _moved(entry: dict) -> bool:
    """Undated and shown before its publication day (an answer dated earlier placed it)."""
    placement = entry.get("placement") or {}
    return bool(placement.get("inferred")) and placement.get("date", "") < entry["published_at"][:10]


def _paragraph_label(label: str, told: list) -> str:
    if all(not e["dated"] and not _moved(e) for e, _, _ in told):
        return f"Reported on {label}"  # none of them says when it happened
    return label


def _sentence_note(entry: dict, told: list) -> str:
    """In a paragraph: why an undated entry sits where it does, when that is not plain."""
    if _moved(entry):
        return _inferred_note(entry)
    if not entry["dated"] and any(e["dated"] or _moved(e) for e, _, _ in told):
        return "date not reported"
    return ""


# ---------------------------------------------------------------- narrative


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _counts_line(entries: list[dict], as_of: str | None) -> str:
    known = f", as known at {as_of}" if as_of else ""
    outlets = {p.get("outlet") or p["article_id"] for e in entries for p in e["provenance"]}
    return f"{plural(len(entries), 'event')} from {plural(len(outlets), 'outlet')}, in the order they happened{known}."


def narrative_markdown(title: str, story_id: str, entries: list[dict], as_of: str | None) -> str:
    lines = [
        f"# {_md(title or story_id)}",
        "",
        _md(story_lead(entries)["text"]),
        "",
        f"_{_md(_counts_line(entries, as_of))}_",
        "",
    ]
    for label, told in _told(entries):
        sentences, notes = [], []
        for e, connector, sentence in told:
            sources = ", ".join(
                f"[{_md(p.get('outlet') or p['article_id'])}]({_safe_url(p.get('url'))})"
                if _safe_url(p.get("url"))
                else _md(p.get("outlet") or p["article_id"])
                for p in _articles(e)
            )
            note = _sentence_note(e, told)
            text = f"{_md(connector + sentence)} ({sources}{'; _' + _md(note) + '_' if note else ''})."
            if e["status"] == "retracted":
                text = f"~~{text}~~"
            sentences.append(text)
            notes += correction_lines(e)
        lines.append(f"**{_md(_paragraph_label(label, told))}.** " + " ".join(sentences))
        lines += [""] + [f"> {_md(n)}" for n in notes] if notes else []
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def narrative_plain(title: str, story_id: str, entries: list[dict], as_of: str | None) -> str:
    heading = title or story_id
    lines = [heading, "=" * len(heading), "", story_lead(entries)["text"], "", _counts_line(entries, as_of), ""]
    for label, told in _told(entries):
        sentences, notes = [], []
        for e, connector, sentence in told:
            sources = ", ".join(p.get("outlet") or p["article_id"] for p in _articles(e))
            note = _sentence_note(e, told)
            prefix = "[retracted] " if e["status"] == "retracted" else ""
            sentences.append(
                f"{prefix}{' '.join((connector + sentence).split())} ({sources}{'; ' + note if note else ''})."
            )
            notes += correction_lines(e)
        lines.append(f"{_paragraph_label(label, told)}. " + " ".join(sentences))
        lines += [f"  {n}" for n in notes]
        lines.append("")
    sources = {p["article_id"]: p for e in entries for p in _articles(e)}
    sources = dict(sorted(sources.items(), key=lambda kv: (kv[1]["published_at"], kv[0])))
    if sources:
        lines.append("Sources:")
        lines += [
            f"- {p.get('outlet') or p['article_id']}: {p.get('title') or ''} <{p['url']}>"
            if p.get("url")
            else f"- {p.get('outlet') or p['article_id']}"
            for p in sources.values()
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------- TimelineJS


def _tl_date(entry: dict) -> dict:
    placement = entry.get("placement") or {}
    iso = entry["occurred_at"] if entry["dated"] else (placement.get("date") or entry["published_at"])
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


def _tl_display_date(entry: dict) -> str:
    if entry["dated"]:
        return human_date(entry["occurred_at"], entry["occurred_precision"])
    placement = entry.get("placement") or {}
    day = human_date(placement.get("date") or entry["published_at"], "day")
    return f"{day} (inferred: {_inferred_note(entry) or 'date not reported'})"


def _tl_text(entry: dict) -> str:
    parts = [f"<p>{html.escape(summary_text(entry))}.</p>"]
    if _quote(entry, limit=2000):
        parts.append(f"<blockquote>{html.escape(_quote(entry, limit=2000))}</blockquote>")
    links = []
    for p in _articles(entry):
        name = html.escape(p.get("outlet") or p["article_id"])
        url = _safe_url(p.get("url"))
        links.append(f'<a href="{html.escape(url)}">{name}</a>' if url else name)
    parts.append(f"<p>Sources: {', '.join(links)}</p>")
    if entry["status"] != "active":
        parts.append(f"<p><strong>{html.escape(_status_note(entry))}</strong></p>")
    parts += [f"<p><em>{html.escape(line)}</em></p>" for line in correction_lines(entry)]
    return "".join(parts)


def timelinejs(title: str, story_id: str, entries: list[dict], group_by: str) -> dict:
    """Slides in the timeline's order (TimelineJS sorts by date; entries of one day keep this order)."""
    events = []
    for e in entries:
        who = e["actor"]["name"]
        events.append(
            {
                "start_date": _tl_date(e),
                "display_date": _tl_display_date(e),
                "text": {
                    "headline": html.escape(f"{kind_label(e['event_type']).capitalize()}: {who}"),
                    "text": _tl_text(e),
                },
                "group": who if group_by == "actor" else kind_label(e["event_type"]),
                "unique_id": f"entry-{e['entry_id']}",
            }
        )
    return {
        "title": {
            "text": {"headline": html.escape(title or story_id), "text": html.escape(story_lead(entries)["text"])}
        },
        "events": events,
    }
