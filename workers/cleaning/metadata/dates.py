"""Dates the page states: ISO values in markup, dates written in the visible text (beside the
headline, after a "Published" label), the ``<time>`` in the article header, the permalink's
/YYYY/MM/DD/."""

from __future__ import annotations

import re
from typing import Any

from workers.cleaning.metadata.headline import heading_elements
from workers.cleaning.metadata.markup import key

# The one month table: every English spelling a page uses, by month number.
MONTHS = {
    spelling: number
    for number, spellings in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for spelling in spellings
}
# Any month spelling, longest first, as a regex alternation.
MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH = rf"(?P<month>{MONTH_WORD})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_WRITTEN_DATES = [
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I),
    re.compile(r"\b(?P<year>(?:19|20)\d{2})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"),
]
# Day and month in figures: "17.05.2021", "2/24/2026". Which comes first differs by
# country, so only a date that reads one way (a number above 12, or both equal) counts.
_NUMERIC_DATE = re.compile(r"(?<![\d./])(\d{1,2})([./])(\d{1,2})\2((?:19|20)\d{2})(?![\d./])")
# "Published on 3 March 2024", "Posted: Nov 21, 2018", "Originally published 26 Sep 2019".
_PUBLISHED_LABEL = re.compile(
    r"\b(?:originally\s+|first\s+)?(?:published|posted)(?:\s+on)?\s*:?\s*", re.I
)
# "Updated: March 3, 2024", "Last modified on 3 March 2024", "updated 2024-03-03".
_UPDATED_LABEL = re.compile(r"\b(?:last\s+)?(?:updated|modified)(?:\s+on)?\s*:?\s*", re.I)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})/(\d{2})(?=/|$)")
_HEADER_LEVELS = 3  # how far up from the <h1> the article header may reach
_CHROME = {"nav", "aside", "footer"}


def iso_date(value: Any) -> str | None:
    """YYYY-MM-DD from an ISO 8601 date or timestamp as the page wrote it (its own day,
    not converted to UTC), else None."""
    if not isinstance(value, str):
        return None
    match = _ISO.match(value)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _match_date(match: re.Match[str]) -> str | None:
    month = match.group("month")
    number = MONTHS.get(month.lower().rstrip(".")) if month.isalpha() else month
    return iso_date(f"{match.group('year')}-{int(number):02d}-{int(match.group('day')):02d}")


def _numeric_date(text: str) -> tuple[int, str] | None:
    for match in _NUMERIC_DATE.finditer(text):
        first, second = int(match.group(1)), int(match.group(3))
        if first > 12 or first == second:
            day, month = first, second
        elif second > 12:
            day, month = second, first
        else:
            continue  # 03/04/2024: March or April, depending on the country
        if date := iso_date(f"{match.group(4)}-{month:02d}-{day:02d}"):
            return match.start(), date
    return None


def written_date(text: str) -> str | None:
    """The first unambiguous date written in ``text`` (English month names, Y-M-D, or day
    and month in figures when only one reading is possible)."""
    found: list[tuple[int, str]] = []
    for pattern in _WRITTEN_DATES:
        for match in pattern.finditer(text):
            if (date := _match_date(match)) is not None:
                found.append((match.start(), date))
                break
    if numeric := _numeric_date(text):
        found.append(numeric)
    return min(found)[1] if found else None


def labelled_date(visible: str) -> str | None:
    """The date right after the first "published" / "posted" label in ``visible`` that
    has one: the page saying which of its dates is the publication's."""
    return _date_after(_PUBLISHED_LABEL, visible)


def updated_date(window: str) -> str | None:
    """The date right after an "Updated" / "Modified" label in the byline ``window``."""
    return _date_after(_UPDATED_LABEL, window)


def _date_after(label: re.Pattern[str], text: str) -> str | None:
    for found in label.finditer(text):
        for pattern in _WRITTEN_DATES:
            if (match := pattern.match(text, found.end())) and (date := _match_date(match)):
                return date
    return None


def byline_date(window: str) -> str | None:
    """The first date written in the byline ``window`` around the headline."""
    return written_date(window) if window else None


def url_date(url: str | None) -> str | None:
    """The day in a URL path written /YYYY/MM/DD/ (CMS permalinks: the day the article was
    first published, in the publisher's time zone), else None."""
    path = (url or "").split("?", 1)[0].split("#", 1)[0]
    match = _URL_DATE.search(path)
    return iso_date("-".join(match.groups())) if match else None


def header_time(tree: Any, headline: str | None) -> str | None:
    """The date of the first ``<time datetime>`` in the headline's header: within a few
    levels above the <h1> that shows ``headline``, not in a menu, sidebar or footer."""
    if not headline:
        return None
    wanted = key(headline)
    for h1 in heading_elements(tree):
        if key(h1.text_content()) != wanted:
            continue
        container = h1
        for _ in range(_HEADER_LEVELS):
            parent = container.getparent()
            if parent is None or parent.tag in ("body", "html"):
                break
            container = parent
        for time_el in container.iter("time"):
            if {a.tag for a in time_el.iterancestors()} & _CHROME:
                continue
            if date := iso_date(time_el.get("datetime")):
                return date
        return None
    return None
