"""Resolve relative date phrases against the article's publication time."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}

_MONTH_DAY = re.compile(r"\bon (%s) (\d{1,2})\b" % "|".join(MONTHS), re.I)
_DAY_MONTH = re.compile(r"\bon (\d{1,2}) (%s)\b" % "|".join(MONTHS), re.I)
_WEEKDAY = re.compile(r"\b(?:on|last|this) (%s)\b" % "|".join(WEEKDAYS), re.I)
_MONTH = re.compile(r"\b(?:in|last|this|since|early|late) (%s)\b" % "|".join(MONTHS), re.I)
_RELATIVE = re.compile(r"\b(yesterday|today|last week|earlier this week|last month|last year)\b", re.I)


def _past_month(pub: date, month: int) -> date:
    year = pub.year if month <= pub.month else pub.year - 1
    return date(year, month, 1)


def resolve(sentence: str, published: datetime) -> tuple[str | None, str | None]:
    """Return (ISO date, precision) for the first date phrase, never after publication."""
    pub = published.date()
    for rx, order in ((_MONTH_DAY, "md"), (_DAY_MONTH, "dm")):
        m = rx.search(sentence)
        if m:
            month_s, day_s = (m.group(1), m.group(2)) if order == "md" else (m.group(2), m.group(1))
            try:
                d = date(pub.year, MONTHS[month_s.lower()], int(day_s))
            except ValueError:
                continue
            if d > pub:
                # far ahead means last year's date; just ahead is a future plan, not an event time
                if (d - pub).days < 180:
                    continue
                d = d.replace(year=d.year - 1)
            return d.isoformat(), "day"
    m = _WEEKDAY.search(sentence)
    if m:
        back = (pub.weekday() - WEEKDAYS[m.group(1).lower()]) % 7
        return (pub - timedelta(days=back or 7 if m.group(0).lower().startswith("last") else back)).isoformat(), "day"
    m = _RELATIVE.search(sentence)
    if m:
        phrase = m.group(1).lower()
        if phrase == "yesterday":
            return (pub - timedelta(days=1)).isoformat(), "day"
        if phrase == "today":
            return pub.isoformat(), "day"
        if phrase in ("last week", "earlier this week"):
            return (pub - timedelta(days=7 if phrase == "last week" else pub.weekday())).isoformat(), "week"
        if phrase == "last month":
            first = pub.replace(day=1) - timedelta(days=1)
            return first.replace(day=1).isoformat()[:7], "month"
        return str(pub.year - 1), "year"
    m = _MONTH.search(sentence)
    if m:
        return _past_month(pub, MONTHS[m.group(1).lower()]).isoformat()[:7], "month"
    return None, None
