"""The record's metadata: what the page states (:class:`PageMeta`) chosen over what
trafilatura's heuristics guess, field by field, never a guess the page contradicts.

Every rule here was measured one at a time on the WCXB pages and kept (bench/RESULTS.md,
"Extraction" and "Metadata you can trust"); none has a switch.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from workers.cleaning.metadata.dates import url_date
from workers.cleaning.metadata.markup import key
from workers.cleaning.metadata.names import byline_name, mixed_case
from workers.cleaning.metadata.organisations import has_organisation_word, is_domain_name
from workers.cleaning.metadata.page import PageMeta

_AUTHOR_SEPARATOR = re.compile(r"\s*;\s*")
# "Jagpreet Chhatwal, The Commercial Appeal", "David Jackson - FullStack Editorial Team".
_AFFILIATION_SEPARATOR = re.compile(r"\s*,\s*|\s+[-\u2013\u2014|]\s+")


def chosen_metadata(
    stated: PageMeta,
    url: str,
    *,
    title: str | None,
    author: str | None,
    published: str | None,
) -> dict[str, Any]:
    """``title``, ``authors``, ``published_at`` and ``modified_at`` of the record;
    ``title``, ``author`` and ``published`` are trafilatura's guesses."""
    published_at = _published(stated, url, published)
    return {
        "title": stated.headline or title,
        "authors": _authors(stated, author, url),
        "published_at": published_at,
        "modified_at": _modified(stated, published_at),
    }


def _modified(stated: PageMeta, published_at: str | None) -> str | None:
    """The last-modified day the page states (its markup's, else the one labelled
    "Updated" beside the headline); never a guess, never before the publication."""
    modified = stated.modified or stated.updated_date
    if modified and published_at and modified < published_at[:10]:
        return None  # a migration's or a template's date, not this article's edit
    return modified


def _authors(stated: PageMeta, heuristic: str | None, url: str) -> list[str]:
    """The page's authors: the markup's, else the names trafilatura's heuristics found."""
    # Heuristic bylines lose lead-ins and trailing roles or dates ("Rachel MacDonald Writer").
    parts = _AUTHOR_SEPARATOR.split(heuristic or "")
    names = [name for part in parts if (name := byline_name(part))]
    if any(mixed_case(part) for part in parts):
        names = []  # one part is a menu or a sentence: the heuristics read the wrong block
    # trafilatura's author heuristics read any text that looks like a byline; only names the
    # page really shows are kept (stated markup authors are kept as stated).
    names = list(dict.fromkeys(name for name in names if stated.shows(name)))
    names = _not_the_domain(names, stated, url)
    # An organisation named as the author but not credited in the byline is the publisher's
    # CMS default: a consumer is better served by no author than by it.
    names = _credited(names, stated, url)
    markup = _credited(stated.authors, stated, url)
    if (
        markup
        and names
        and all(stated.is_site(author) for author in markup)
        and not any(stated.near_site(name) for name in names)
    ):
        # The markup credits the publisher (a CMS default); the page's byline names a person.
        return names
    if markup or names:
        return markup or names
    if stated.byline_names:  # "By Ana Silva" written after the headline
        return _credited(stated.byline_names, stated, url)
    # An account name is a poor byline, but when the page shows it, it is the one it has.
    accounts = [name for name in stated.account_names if stated.shows(name)]
    return _not_the_domain(accounts, stated, url)[:1]


def _not_the_domain(names: list[str], stated: PageMeta, url: str) -> list[str]:
    """``names`` without a one-word guess that is the domain's name ("AppAddict" on
    appaddict.app): the site's logo or footer, unless the byline says "by" it."""
    return [name for name in names if not is_domain_name(name, url) or stated.credits_by(name)]


def _credited(names: list[str], stated: PageMeta, url: str) -> list[str]:
    """``names`` without the organisations the byline does not credit, and without an
    organisation named after a person ("Ana Silva, The Daily Tide" → "Ana Silva")."""
    kept = []
    for name in names:
        first, *rest = _AFFILIATION_SEPARATOR.split(name)
        if rest and all(_organisation(part, stated) or stated.is_site(part) for part in rest):
            name = first
        if _organisation(name, stated) and not stated.credits(name):
            continue
        if name not in kept:
            kept.append(name)
    return kept


def _organisation(name: str, stated: PageMeta) -> bool:
    """True when ``name`` is an organisation's: typed so in the markup or holding a word
    only organisations' names hold. (The site's name and the domain's are not enough:
    one-person sites are named after their author.)"""
    return key(name) in stated.organisations or has_organisation_word(name)


def _published(stated: PageMeta, url: str, heuristic: str | None) -> str | None:
    """The publication day. Most deliberate first: the permalink's day, the markup's
    datePublished, the header's <time datetime>, a date labelled "Published", the date
    written in the byline, then trafilatura's (htmldate's) pick."""
    markup = stated.published
    shown = stated.byline_date
    if markup and shown and _days_between(shown, markup) > 1:
        # The page shows an earlier date than its markup states: the markup's is a later
        # re-import or migration (a time zone moves a day by one at most).
        markup = shown
    dates = [url_date(url), markup, stated.header_time, stated.labelled_date, shown, heuristic]
    return next((d for d in dates if d), None)


def _days_between(earlier: str, later: str) -> int:
    return (date.fromisoformat(later[:10]) - date.fromisoformat(earlier[:10])).days
