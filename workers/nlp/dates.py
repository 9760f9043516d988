"""Date expressions resolved against an anchor date (the publication date).

Resolves what news text says about when: weekdays ("Wednesday", "Tuesday night", "last
Friday"), relative days ("today", "yesterday", "later this evening"), months with or without
a year ("last September", "February 2022"), years ("2019"), full dates ("19 June 2024",
"June 19, 2024", "2024-06-19"), "N years ago" and "last/next year|month". Durations ("24
years", "week-long", "several minutes") and vague spans ("recent years") resolve to nothing.

Conventions: a bare weekday is the nearest such day (±3 days) to the anchor; a bare month is
its latest occurrence not after the anchor's month (news reports the past); "last X" is the
latest X strictly before the anchor, "next X" the first strictly after.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = {name: i + 1 for i, name in enumerate(MONTHS)} | {
    name[:3]: i + 1 for i, name in enumerate(MONTHS)
}
_MONTH_RE = "|".join(sorted(_MONTH, key=len, reverse=True))
_DAY_PARTS = r"(?:\s+(?:night|morning|afternoon|evening))?"
_FILLER = re.compile(r"^(?:on|in|at|by|since|from|until|the|early|late|later|mid|of)\s+")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    (
        "day_month_year",
        re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+(\d{{4}})$"),
    ),
    (
        "month_day_year",
        re.compile(rf"^({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$"),
    ),
    ("month_day", re.compile(rf"^({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?$")),
    ("day_month", re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?$")),
    ("month_year", re.compile(rf"^({_MONTH_RE})\.?,?\s+(\d{{4}})$")),
    ("month", re.compile(rf"^(last|next|this)?\s*({_MONTH_RE})\.?$")),
    ("year", re.compile(r"^(\d{4})$")),
    ("weekday", re.compile(rf"^(last|next|this)?\s*({'|'.join(WEEKDAYS)}){_DAY_PARTS}$")),
    (
        "today",
        re.compile(r"^(?:today|tonight|this\s+(?:morning|afternoon|evening)|today\s*\(\w+\))$"),
    ),
    ("yesterday", re.compile(rf"^yesterday{_DAY_PARTS}$")),
    ("tomorrow", re.compile(rf"^tomorrow{_DAY_PARTS}$")),
    ("relative_unit", re.compile(r"^(last|next|this)\s+(year|month)$")),
    ("years_ago", re.compile(r"^(\d{1,3}|a|one|two|three|four|five|ten)\s+years?\s+ago$")),
]
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}


@dataclass(frozen=True, slots=True)
class Resolved:
    """An ISO 8601 date ("2024-06-19"), month ("2023-09") or year ("2000")."""

    value: str
    granularity: str  # "day", "month" or "year"


def _day(value: dt.date) -> Resolved:
    return Resolved(value.isoformat(), "day")


def _month(year: int, month: int) -> Resolved:
    return Resolved(f"{year:04d}-{month:02d}", "month")


def _valid_day(year: int, month: int, day: int) -> Resolved | None:
    try:
        return _day(dt.date(year, month, day))
    except ValueError:
        return None


def _weekday(anchor: dt.date, weekday: int, relation: str | None) -> Resolved:
    delta = (weekday - anchor.weekday()) % 7  # 0..6 days ahead
    if relation == "last":
        return _day(anchor - dt.timedelta(days=(7 - delta) if delta else 7))
    if relation == "next":
        return _day(anchor + dt.timedelta(days=delta or 7))
    return _day(anchor + dt.timedelta(days=delta if delta <= 3 else delta - 7))


def _bare_month(anchor: dt.date, month: int, relation: str | None) -> Resolved:
    if relation == "next":
        return _month(anchor.year + (month <= anchor.month), month)
    if relation == "last":
        return _month(anchor.year - (month >= anchor.month), month)
    return _month(anchor.year - (month > anchor.month), month)


def resolve(expression: str, anchor: dt.date) -> Resolved | None:
    """The date ``expression`` means, written on ``anchor``; None for durations and
    anything not understood."""
    text = " ".join(expression.lower().replace("\u2019", "'").split())
    while _FILLER.match(text):
        text = _FILLER.sub("", text, count=1)
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            return _resolve(kind, match.groups(), anchor)
    return None


def _resolve(kind: str, groups: tuple[str, ...], anchor: dt.date) -> Resolved | None:
    if kind == "iso":
        return _valid_day(int(groups[0]), int(groups[1]), int(groups[2]))
    if kind == "day_month_year":
        return _valid_day(int(groups[2]), _MONTH[groups[1]], int(groups[0]))
    if kind == "month_day_year":
        return _valid_day(int(groups[2]), _MONTH[groups[0]], int(groups[1]))
    if kind in ("month_day", "day_month"):
        month, day = (
            (_MONTH[groups[0]], int(groups[1]))
            if kind == "month_day"
            else (_MONTH[groups[1]], int(groups[0]))
        )
        year = anchor.year - ((month, day) > (anchor.month, anchor.day))
        return _valid_day(year, month, day)
    if kind == "month_year":
        return _month(int(groups[1]), _MONTH[groups[0]])
    if kind == "month":
        return _bare_month(anchor, _MONTH[groups[1]], groups[0])
    if kind == "year":
        year = int(groups[0])
        return Resolved(f"{year:04d}", "year") if 1800 <= year <= anchor.year + 50 else None
    if kind == "weekday":
        return _weekday(anchor, WEEKDAYS.index(groups[1]), groups[0])
    if kind == "today":
        return _day(anchor)
    if kind == "yesterday":
        return _day(anchor - dt.timedelta(days=1))
    if kind == "tomorrow":
        return _day(anchor + dt.timedelta(days=1))
    if kind == "relative_unit":
        step = {"last": -1, "next": 1, "this": 0}[groups[0]]
        if groups[1] == "year":
            return Resolved(f"{anchor.year + step:04d}", "year")
        months = anchor.year * 12 + anchor.month - 1 + step
        return _month(months // 12, months % 12 + 1)
    if kind == "years_ago":
        count = _NUMBER_WORDS.get(groups[0]) or int(groups[0])
        return Resolved(f"{anchor.year - count:04d}", "year")
    return None


_WEEKDAY_RE = "|".join(w.capitalize() for w in WEEKDAYS)
_MONTH_NAMES_RE = "|".join(m.capitalize() for m in MONTHS)
# Expressions found without NER (beyond its window): only shapes that are dates for sure.
_EXPRESSION = re.compile(
    rf"\b(?:"
    rf"(?:(?:[Ll]ast|[Nn]ext|[Tt]his)\s+)?(?:{_WEEKDAY_RE})"
    rf"(?:\s+(?:night|morning|afternoon|evening))?"
    rf"|\d{{1,2}}\s+(?:{_MONTH_NAMES_RE})(?:\s+\d{{4}})?"
    rf"|(?:(?:[Ll]ast|[Nn]ext)\s+)?(?:{_MONTH_NAMES_RE})(?:\s+\d{{1,2}}(?:,\s+\d{{4}})?|\s+\d{{4}})?"
    rf"|(?:[Ll]ater\s+)?(?:[Tt]his\s+(?:morning|afternoon|evening)|[Tt]oday|[Tt]onight"
    rf"|[Yy]esterday|[Tt]omorrow)"
    rf"|(?:(?<=\bin )|(?<=\bIn )|(?<=\bof )|(?<=\bsince )|(?<=\buntil ))(?:1[89]|20)\d\d(?![\d%])"
    rf")\b"
)


def find_expressions(text: str, start: int = 0) -> list[tuple[int, int, str]]:
    """Date expressions in ``text[start:]`` found by their shape alone: (start, end, text).
    "May" is left out (the verb), as are bare numbers that are not after in/since/until/of."""
    found = []
    for match in _EXPRESSION.finditer(text, start):
        if match.group() in ("May", "March") and not re.match(r"\s+\d", text[match.end() :]):
            continue  # "may" the verb, "march" the walk: only with a day or a year
        found.append((match.start(), match.end(), match.group()))
    return found
