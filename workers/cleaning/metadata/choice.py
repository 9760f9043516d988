"""The record's metadata: what the page states (:class:`PageMeta`) chosen over what
trafilatura's heuristics guess, field by field, never a guess the page contradicts.

``options`` is the cleaning stage's ``CleanOptions``: the defaults are what the worker runs,
the other values are the benchmark's ablations.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from workers.cleaning.metadata.dates import url_date
from workers.cleaning.metadata.names import byline_name, plausible_name
from workers.cleaning.metadata.page import PageMeta

_AUTHOR_SEPARATOR = re.compile(r"\s*;\s*")


def chosen_metadata(
    stated: PageMeta,
    url: str,
    options: Any,
    *,
    title: str | None,
    author: str | None,
    published: str | None,
) -> dict[str, Any]:
    """``title``, ``authors`` and ``published_at`` of the record; ``title``, ``author`` and
    ``published`` are trafilatura's guesses."""
    return {
        "title": stated.headline or title,
        "authors": _authors(stated, author, options),
        "published_at": _published(stated, url, published, options),
    }


def _authors(stated: PageMeta, heuristic: str | None, options: Any) -> list[str]:
    """The page's authors: the markup's, else the names trafilatura's heuristics found."""
    read = byline_name if options.tidy_bylines else plausible_name
    names = [name for part in _AUTHOR_SEPARATOR.split(heuristic or "") if (name := read(part))]
    if options.shown_authors and options.page_metadata:
        # trafilatura's author heuristics read any text that looks like a byline; only
        # names the page really shows are kept (stated markup authors are kept as stated).
        names = [name for name in names if stated.shows(name)]
    names = list(dict.fromkeys(names))
    if (
        options.person_over_publisher
        and stated.authors
        and names
        and all(stated.is_site(author) for author in stated.authors)
        and not any(stated.near_site(name) for name in names)
    ):
        # The markup credits the publisher (a CMS default); the page's byline names a person.
        return names
    if stated.authors or names:
        return stated.authors or names
    if options.shown_accounts:
        # An account name is a poor byline, but when the page shows it, it is the one it has.
        return [name for name in stated.account_names if stated.shows(name)][:1]
    return []


def _published(stated: PageMeta, url: str, heuristic: str | None, options: Any) -> str | None:
    """The publication day. Most deliberate first: the permalink's day, the markup's
    datePublished, the header's <time datetime>, a date labelled "Published", the date
    written in the byline, then trafilatura's (htmldate's) pick."""
    markup = stated.published
    shown = stated.byline_date
    if options.earlier_shown_date and markup and shown and _days_between(shown, markup) > 1:
        # The page shows an earlier date than its markup states: the markup's is a later
        # re-import or migration (a time zone moves a day by one at most).
        markup = shown
    dates = [markup, stated.header_time if options.header_time else None]
    if options.labelled_date:
        dates.append(stated.labelled_date)
    if options.byline_date != "off":
        dates.insert(0 if options.byline_date == "first" else len(dates), shown)
    if options.url_date:
        dates.insert(0, url_date(url))
    dates.append(heuristic)
    return next((d for d in dates if d), None)


def _days_between(earlier: str, later: str) -> int:
    return (date.fromisoformat(later[:10]) - date.fromisoformat(earlier[:10])).days
