"""The headline: the visible ``<h1>`` that the structured titles confirm, else a structured
title without its site name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from workers.cleaning.metadata.markup import clean_text, key

# Separators between a headline and the site name in <title> / og:title.
_TITLE_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014·•»:]\s+")
_CHROME = {"header", "nav", "footer", "aside"}
BYLINE_BEFORE, BYLINE_AFTER = 200, 500  # characters around the headline in the shown text


def heading_elements(tree: Any) -> Iterator[Any]:
    """The page's ``<h1>`` elements outside the page chrome."""
    for h1 in tree.iter("h1"):
        # An <h1> inside the page chrome is a logo or a menu label, not the headline.
        ancestors = {a.tag for a in h1.iterancestors()}
        if ancestors & _CHROME and not ancestors & {"article", "main"}:
            continue
        yield h1


def headings(tree: Any) -> list[str]:
    """The texts of :func:`heading_elements`, empty ones left out."""
    found = []
    for h1 in heading_elements(tree):
        text = clean_text(h1.text_content())
        if text:
            found.append(text)
    return found


def choose_headline(headings: list[str], candidates: list[str], sites: set[str]) -> str | None:
    """The headline among the visible ``headings`` and the structured title ``candidates``
    (JSON-LD headline, og:title, <title>); ``sites`` are the site's names, case-folded."""
    keys = [key(c) for c in candidates]
    # The visible headline that the structured titles confirm (they add a site name or
    # shorten it, so containment rather than equality).
    for heading in headings:
        k = key(heading)
        if len(k) >= 10 and k not in sites and any(k in c for c in keys):
            return heading
    for heading in headings:
        if key(heading) not in sites and len(heading.split()) >= 2:
            return heading
    for candidate in candidates:
        stripped = strip_site_name(candidate, sites)
        if stripped:
            return stripped
    return None


def strip_site_name(title: str, sites: set[str]) -> str | None:
    """A <title>-style string without its site-name part ("Headline | Site")."""
    parts = [p for p in _TITLE_SEPARATOR.split(title) if p.strip()]
    if len(parts) <= 1:
        return title
    kept = [p for p in parts if key(p) not in sites]
    if len(kept) == len(parts):
        # The site name is not known: the headline is the longest part.
        return max(parts, key=len)
    return " - ".join(kept) if kept else None


def byline_window(visible: str, headline: str | None) -> tuple[str, str]:
    """The parts of the case-folded ``visible`` text before the headline and from the
    headline on where bylines and their dates are written; empty when it is not shown."""
    at = visible.find(key(headline)) if headline else -1
    if at < 0 or not headline:
        return "", ""
    return visible[max(0, at - BYLINE_BEFORE) : at], visible[at : at + len(headline) + BYLINE_AFTER]
