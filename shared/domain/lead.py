"""A story's lead: who accused whom of what, who answered, what was filed or deleted, between
which dates, from how many outlets. As data (the story summary's `lead`) and as the opening
paragraph of the narrative. Pure: it reads timeline entry dicts in their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.domain.wording import MONTHS as _MONTHS
from shared.domain.wording import and_list, in_text, long_day, plural


def date_range(first: str, last: str, first_precision: str = "day") -> str:
    """'On 24 October 2024', 'Between 22 and 24 October 2024', 'Between 30 October and 2 November 2024',
    'Between October and 2 November 2024' (the first date known to the month only)."""
    if first == last and len(first) < 10:  # one date, known to the month or the year only
        return f"In {long_day(first, first_precision)}"
    if first_precision in ("month", "year"):
        y1, m1 = int(first[:4]), int(first[5:7])
        start = str(y1) if first_precision == "year" else _MONTHS[m1 - 1]
        if first_precision == "month" and y1 != int(last[:4]):
            start += f" {y1}"
        if first_precision == "year" and y1 == int(last[:4]):
            return f"In {y1}, by {long_day(last)}"
        return f"Between {start} and {long_day(last)}"
    if first == last:
        return f"On {long_day(first)}"
    if len(first) < 10 or len(last) < 10:
        return f"Between {long_day(first)} and {long_day(last)}"
    (y1, m1, d1), (y2, m2, d2) = (tuple(int(x) for x in (d[:4], d[5:7], d[8:10])) for d in (first, last))
    if (y1, m1) == (y2, m2):
        return f"Between {d1} and {d2} {_MONTHS[m2 - 1]} {y2}"
    if y1 == y2:
        return f"Between {d1} {_MONTHS[m1 - 1]} and {d2} {_MONTHS[m2 - 1]} {y2}"
    return f"Between {long_day(first)} and {long_day(last)}"


def _names(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _quoted(text: str | None, limit: int = 160) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[:limit].rsplit(' ', 1)[0] + '…'}”"


def _outlets(entries: list[dict[str, Any]]) -> list[str]:
    return sorted({p.get("outlet") or p["article_id"] for e in entries for p in e["provenance"]})


def story_lead(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The lead of a story from its entries (retracted ones left out)."""
    live = [e for e in entries if not e.get("retracted")]

    def of(kind: str) -> list[dict[str, Any]]:
        return [e for e in live if e["event_type"] == kind]

    allegations, rebuttals = of("allegation_made"), of("rebuttal_given")
    complaints, deletions = of("complaint_filed"), of("post_deleted")
    days = [e["placement"]["date"] for e in live if e.get("placement")]
    # the first entry shown is the earliest; its precision says how to write the first date
    first_precision = (live[0]["occurred_precision"] if live and live[0]["dated"] else None) or "day"
    lead = {
        "accusers": _names(e["actor"]["name"] for e in allegations),
        "accused": _names((e.get("target") or {}).get("name") for e in allegations),
        "responders": _names(e["actor"]["name"] for e in rebuttals),
        "filed": [
            {
                "actor": e["actor"]["name"],
                "body": e["details"].get("body"),
                "target": (e.get("target") or {}).get("name"),
            }
            for e in complaints
        ],
        "deleted": [{"actor": e["actor"]["name"], "platform": e["details"].get("platform")} for e in deletions],
        "first_date": min(days) if days else None,
        "last_date": max(days) if days else None,
        "outlets": _outlets(live),
        "event_count": len(live),
    }
    # with no date anywhere, the days are only those of publication
    dated = any(e["dated"] or (e.get("placement") or {}).get("date", "9") < e["published_at"][:10] for e in live)
    lead["text"] = lead_text(lead, allegations, rebuttals, dated, first_precision)
    return lead


def lead_text(
    lead: dict[str, Any],
    allegations: list[dict[str, Any]],
    rebuttals: list[dict[str, Any]],
    dated: bool,
    first_precision: str,
) -> str:
    if not lead["event_count"]:
        return "No events are reported in this story yet."
    sentences = []
    when = date_range(lead["first_date"], lead["last_date"], first_precision)
    if not dated:
        when = "As reported " + when[0].lower() + when[1:]
    claims: list[Any] = []  # clauses, or the accusers of one target (joined below)
    by_target: dict[str, list[str]] = {}
    for e in allegations[:4]:
        target, quote = (e.get("target") or {}).get("name"), _quoted(e.get("quote"))
        if target and not quote:  # accusers of one target without a quotation share a clause
            if target in by_target:
                by_target[target].append(in_text(e["actor"]["name"]))
                continue
            by_target[target] = [in_text(e["actor"]["name"])]
            claims.append(by_target[target])
        elif target:
            claims.append(f"{in_text(e['actor']['name'])} accused {in_text(target)} of {quote}")
        else:
            claims.append(f"{in_text(e['actor']['name'])} made an allegation" + (f", {quote}" if quote else ""))
    targets = {id(v): k for k, v in by_target.items()}
    claims = [f"{and_list(c)} accused {in_text(targets[id(c)])}" if isinstance(c, list) else c for c in claims]
    if claims:
        sentences.append(f"{when}, {and_list(claims)}.")  # names keep their case after the comma
    else:
        sentences.append(
            f"{when}, {plural(lead['event_count'], 'event')} {'was' if lead['event_count'] == 1 else 'were'} reported."
        )
    if rebuttals:
        answered = "the allegation" if len(allegations) == 1 else "the allegations" if allegations else "the claims"
        responders = and_list([in_text(r) for r in lead["responders"]])
        sentences.append(f"{responders[0].upper() + responders[1:]} rejected {answered}.")
    acts = [
        f"{in_text(f['actor'])} filed a complaint"
        + (f" with {in_text(f['body'])}" if f["body"] else "")
        + (f" against {in_text(f['target'])}" if f["target"] else "")
        for f in lead["filed"]
    ]
    acts += [
        f"a {d['platform'] + ' ' if d['platform'] else ''}post by {in_text(d['actor'])} was deleted"
        for d in lead["deleted"]
    ]
    if acts:
        text = and_list(acts)
        sentences.append(text[0].upper() + text[1:] + ".")
    outlets = lead["outlets"]
    sentences.append(
        f"Reported by {plural(len(outlets), 'outlet')} ({and_list(outlets)}), "
        f"{plural(lead['event_count'], 'event')} in all."
    )
    return " ".join(sentences)
