"""Resolve relative date phrases against the article's publication time.

Past events are never dated after publication; an unresolvable phrase leaves the date unknown.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_M = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUM = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}

_MONTH_DAY = re.compile(r"\b(?:on\s+)?(%s)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?" % _M, re.I)
_DAY_MONTH = re.compile(r"\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(%s)\b(?:,?\s+(\d{4}))?" % _M, re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEKDAY = re.compile(r"\b(on|last|this|earlier on|late on|early on)?\s*(%s)\b" % "|".join(WEEKDAYS), re.I)
_MONTH = re.compile(r"\b(in|last|this|since|early|late|earlier in|during|mid-|back in)\s*(%s)\b(?:\s+(\d{4}))?" % _M, re.I)
_RELATIVE = re.compile(r"\b(the next day|the following day|the day after|the day before|the previous day|"
                       r"the next morning|the following morning|yesterday|today|this morning|this afternoon|"
                       r"tonight|last night|earlier today|last week|earlier this week|this week|last month|"
                       r"earlier this month|this month|last year|earlier this year|"
                       r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten) (day|week|month)s? ago)\b", re.I)


def _past_month(pub: date, month: int) -> date:
    year = pub.year if month <= pub.month else pub.year - 1
    return date(year, month, 1)


def _day(pub: date, month: int, day: int, year: str | None) -> date | None:
    try:
        d = date(int(year) if year else pub.year, month, day)
    except ValueError:
        return None
    if d > pub:
        if year or (d - pub).days < 180:
            return None  # a future plan, not the time of a past event
        d = d.replace(year=d.year - 1)
    return d


def resolve(sentence: str, published: datetime, anchor: str | None = None) -> tuple[str | None, str | None]:
    """Return (ISO date, precision) for the first date phrase, never after publication.

    anchor: the last date resolved earlier in the article, for "the next day".
    """
    pub = published.date()
    hits: list[tuple[int, str, str]] = []
    m = _ISO.search(sentence)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if d <= pub:
                hits.append((m.start(), d.isoformat(), "day"))
        except ValueError:
            pass
    for m in _MONTH_DAY.finditer(sentence):
        d = _day(pub, MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3))
        if d:
            hits.append((m.start(), d.isoformat(), "day"))
            break
    for m in _DAY_MONTH.finditer(sentence):
        d = _day(pub, MONTHS[m.group(2).lower()], int(m.group(1)), m.group(3))
        if d:
            hits.append((m.start(), d.isoformat(), "day"))
            break
    m = _WEEKDAY.search(sentence)
    if m:
        back = (pub.weekday() - WEEKDAYS[m.group(2).lower()]) % 7
        if (m.group(1) or "").lower() == "last" and back == 0:
            back = 7
        hits.append((m.start(), (pub - timedelta(days=back)).isoformat(), "day"))
    m = _RELATIVE.search(sentence)
    if m:
        phrase = m.group(1).lower()
        val = None
        if phrase.startswith(("the next", "the following", "the day after")):
            if anchor and len(anchor) == 10:
                d = date.fromisoformat(anchor) + timedelta(days=1)
                val = (min(d, pub).isoformat(), "day")
        elif phrase in ("the day before", "the previous day"):
            if anchor and len(anchor) == 10:
                val = ((date.fromisoformat(anchor) - timedelta(days=1)).isoformat(), "day")
        elif phrase in ("yesterday", "last night"):
            val = ((pub - timedelta(days=1)).isoformat(), "day")
        elif phrase in ("today", "this morning", "this afternoon", "tonight", "earlier today"):
            val = (pub.isoformat(), "day")
        elif phrase == "last week":
            val = ((pub - timedelta(days=7)).isoformat(), "week")
        elif phrase in ("earlier this week", "this week"):
            val = ((pub - timedelta(days=pub.weekday())).isoformat(), "week")
        elif phrase == "last month":
            first = pub.replace(day=1) - timedelta(days=1)
            val = (first.isoformat()[:7], "month")
        elif phrase in ("earlier this month", "this month"):
            val = (pub.isoformat()[:7], "month")
        elif phrase == "last year":
            val = (str(pub.year - 1), "year")
        elif phrase == "earlier this year":
            val = (str(pub.year), "year")
        elif m.group(2):
            n = int(m.group(2)) if m.group(2).isdigit() else _NUM[m.group(2).lower()]
            unit = m.group(3).lower()
            if unit == "day":
                val = ((pub - timedelta(days=n)).isoformat(), "day")
            elif unit == "week":
                val = ((pub - timedelta(days=7 * n)).isoformat(), "week")
            else:
                y, mo = divmod(pub.year * 12 + pub.month - 1 - n, 12)
                val = (f"{y:04d}-{mo + 1:02d}", "month")
        if val:
            hits.append((m.start(), *val))
    m = _MONTH.search(sentence)
    if m and not any(h[0] <= m.start() + len(m.group(0)) and h[2] == "day" and h[0] >= m.start() for h in hits):
        month = MONTHS[m.group(2).lower()]
        if m.group(3):
            if date(int(m.group(3)), month, 1) <= pub:
                hits.append((m.start(), f"{int(m.group(3)):04d}-{month:02d}", "month"))
        else:
            hits.append((m.start(), _past_month(pub, month).isoformat()[:7], "month"))
    if not hits:
        return None, None
    # precise dates win over vaguer ones; among equals, the first in the sentence
    rank = {"day": 0, "week": 1, "month": 2, "year": 3}
    _, value, precision = min(hits, key=lambda h: (rank[h[2]], h[0]))
    return value, precision


def date_findings(findings, doc, published):
    pass
