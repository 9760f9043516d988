"""How high can date exact go on the WCXB dev articles? An upper bound for any date rule.

For every page whose ground truth has a publication date, this sorts the page into one of:

- ``month only``: the truth is a year and month, which no day can match;
- ``absent``: the true day is written nowhere in the HTML, in any common form (ISO,
  Y/M/D, D.M.Y and M/D/Y with two- or four-digit years, YYYYMMDD, English month names with
  or without ordinals), in markup, attributes, scripts or text: no rule that reads the page
  can find it;
- ``conflict``: the markup states one date (JSON-LD ``datePublished`` or a meta tag) and the
  byline beside the headline shows a later one ("Updated …"), and the permalink has no date;
  the truth is the markup's, the shown one, or neither;
- ``other``: the rest, which a rule can in principle get right.

A rule that treats conflict pages alike (markup first, or shown first) loses all of one
side; the bound assumes it gets every other page right. Which side a conflict page's truth
takes is also tabulated by file number, the one variable found to separate them.

    .venv/bin/python bench/date_ceiling.py [--data DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections import Counter
from pathlib import Path

from lxml import html as lxml_html
from wcxb import DEFAULT_DATA, page_ids, read_page

from workers.cleaning.metadata.dates import url_date
from workers.cleaning.metadata.page import page_meta

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def day_patterns(day: dt.date) -> list[re.Pattern[str]]:
    """The ways a page may write ``day``."""
    month = _MONTHS[day.month - 1]
    d, m, y = day.day, day.month, day.year
    year = rf"(?:{y}|{str(y)[2:]})"
    ordinal = r"(?:st|nd|rd|th)?"
    return [
        re.compile(rf"\b{month}[a-z]*\.?\s+0?{d}{ordinal},?\s+{y}"),
        re.compile(rf"\b0?{d}{ordinal}\s+(?:of\s+)?{month}[a-z]*\.?,?\s+{y}"),
        re.compile(rf"(?<!\d)0?{m}[/.-]0?{d}[/.-]{year}(?!\d)"),
        re.compile(rf"(?<!\d)0?{d}[/.-]0?{m}[/.-]{year}(?!\d)"),
        re.compile(rf"(?<!\d){y}[/.-]0?{m}[/.-]0?{d}(?!\d)"),  # ISO, also before "T10:00"
        re.compile(rf"(?<!\d){y}{m:02d}{d:02d}(?!\d)"),
    ]


def classify(html: bytes, truth: str, url: str) -> tuple[str, str]:
    """(class, side) of one page; side is set for conflicts only."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", truth):
        return "month only", ""
    raw = html.decode("utf-8", "replace").lower()
    text = _SPACE.sub(" ", _TAG.sub(" ", raw))
    patterns = day_patterns(dt.date.fromisoformat(truth))
    if not any(p.search(raw) or p.search(text) for p in patterns):
        return "absent", ""
    meta = page_meta(lxml_html.fromstring(html))
    markup, shown = (meta.published or "")[:10], (meta.byline_date or "")[:10]
    if markup and shown and shown > markup and not url_date(url):
        side = "markup" if truth == markup else "shown" if truth == shown else "neither"
        return "conflict", side
    return "other", ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()

    classes: Counter[str] = Counter()
    sides: Counter[tuple[str, str]] = Counter()
    for page_id in page_ids(args.data):
        body, record = read_page(args.data, page_id)
        truth = (record["ground_truth"].get("publish_date") or "")[:10]
        if not truth:
            continue
        kind, side = classify(body, truth, record["url"])
        classes[kind] += 1
        if side:
            batch = "files < 4000" if int(page_id) < 4000 else "files ≥ 4000"
            sides[(side, batch)] += 1

    total = sum(classes.values())
    print("| pages with a date | month only | absent | conflict | other |")
    print("|---|---|---|---|---|")
    print(
        f"| {total} | {classes['month only']} | {classes['absent']} | {classes['conflict']} "
        f"| {classes['other']} |"
    )
    print()
    print("| conflict pages: truth is | files < 4000 | files ≥ 4000 | all |")
    print("|---|---|---|---|")
    for side in ("markup", "shown", "neither"):
        low, high = sides[(side, "files < 4000")], sides[(side, "files ≥ 4000")]
        print(f"| {side} | {low} | {high} | {low + high} |")
    print()
    unreachable = classes["month only"] + classes["absent"] + sides_total(sides, "neither")
    for policy, loses in (("markup first", "shown"), ("shown first", "markup")):
        best = total - unreachable - sides_total(sides, loses)
        print(f"Bound for '{policy}': {best} / {total} = {best / total:.4f}")


def sides_total(sides: Counter[tuple[str, str]], side: str) -> int:
    return sum(n for (s, _), n in sides.items() if s == side)


if __name__ == "__main__":
    main()
