"""Words the narrative, the lead and placement reasons share: dates, names in running text, counts."""

from __future__ import annotations

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_day(iso: str, precision: str | None = "day") -> str:
    """'11 March 2025'; 'March 2025', '2025', 'the week of 3 March 2025' for coarser dates.
    A date written coarser than `precision` ('2025-03', '2025') is read at its own precision."""
    if len(iso) < 10:
        precision = "year" if len(iso) < 7 else "month"
    y, m, d = int(iso[:4]), int(iso[5:7] or 1), int(iso[8:10] or 1)
    if precision == "year":
        return str(y)
    if precision == "month":
        return f"{MONTHS[m - 1]} {y}"
    if precision == "week":
        return f"the week of {d} {MONTHS[m - 1]} {y}"
    return f"{d} {MONTHS[m - 1]} {y}"


def possessive(name: str) -> str:
    """ "Jane Doe's", "Ben Moss's", "Boatowners'" (a one-word plural)."""
    one_plural = " " not in name and name.endswith("s") and not name.endswith("ss")
    return f"{name}'" if one_plural else f"{name}'s"


# Generic nouns of bodies that take "the" in running text ("the Kestrel Party", "the X campaign").
_TAKES_THE = frozenset(
    {
        "campaign",
        "party",
        "commission",
        "committee",
        "agency",
        "department",
        "council",
        "trust",
        "union",
        "board",
        "ministry",
        "office",
        "government",
        "police",
        "association",
        "authority",
        "service",
        "tribunal",
        "court",
        "regulator",
        "team",
        "panel",
        "federation",
        "foundation",
        "ombudsman",
        "watchdog",
        "inspectorate",
        "commissioner",
    }
)


def in_text(name: str | None) -> str:
    """A name as it reads inside a sentence: 'Kestrel Party' -> 'the Kestrel Party'."""
    if not name:
        return ""
    ws = name.split(" (")[0].split()
    if ws and ws[0][:1].islower() and ws[0].lower() not in ("the", "a", "an"):
        return "the " + name  # a description, not a name: "the ministry"
    # the head noun: the last word, or the one before "of"/"for" ("Ministry of Tests")
    head = next((ws[:i] for i, w in enumerate(ws) if w in ("of", "for") and i), ws)
    if len(ws) > 1 and head[-1].lower() in _TAKES_THE and ws[0].lower() != "the":
        return "the " + name
    return name


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 outlet', '3 outlets', '2 entries' (with `many`)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def and_list(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
