"""Author names: from markup author values, and from the bylines trafilatura's heuristics cut
out of the page. Placeholders, account names, dates and sentences are not names."""

from __future__ import annotations

import re
from typing import Any

from workers.cleaning.metadata.dates import MONTH_WORD, MONTHS
from workers.cleaning.metadata.markup import (
    ARTICLE_TYPES,
    AUTHOR_META,
    clean_text,
    json_ld_objects,
    types,
)

# Punctuation and quotes around a name ('"David Kim"', "- Ana Silva,").
_EDGES = ' ,;:|-\u2013\u2014"\u201c\u201d'
# Byline prefixes that are not part of a name.
_BYLINE_PREFIX = re.compile(
    r"^(?:(?:written|posted|published|reviewed)\s+by|by|author|von|par|por|di|door)\s*:?\s+",
    re.I,
)
# CMS placeholders and account names that are not a person's or organisation's name.
_NOT_A_NAME = re.compile(
    r"^(?:admin(?:istrator)?|webmaster|editor|author|the author|name|undefined|null|none|"
    r"unknown|anonymous|guest|staff|user|written by|posted by)$",
    re.I,
)
# Month spellings that are also names or words ("May", "Jun", "Mar"): a name holding one is
# still a name; the others followed by a figure make a date.
NAME_LIKE_MONTHS = {"mar", "apr", "may", "jun", "jul"}
_DATE_IN_NAME = re.compile(
    r"\b(?:"
    + "|".join(sorted(set(MONTHS) - NAME_LIKE_MONTHS, key=len, reverse=True))
    + r")\b\.?\s*\d",
    re.I,
)
# A copyright notice, not a byline: "The Pennsylvania State University ©".
_NOT_IN_A_NAME = re.compile(r"©")
NAME_JOINS = {
    "and",
    "&",
    "van",
    "von",
    "der",
    "den",
    "de",
    "da",
    "di",
    "du",
    "la",
    "le",
    "del",
    "bin",
    "al",
}
_LOGIN = re.compile(r"^[a-z0-9]+(?:[._\-][a-z0-9]+)*$")
_NAME_SPLIT = re.compile(r"\s*(?:;|\||\band\b)\s*")
# Heuristic bylines often run on into the role or the date: "Rachel MacDonald Writer",
# "Luke Kim December", "Haley Hoekstra • March", "Recipe by PJ Hamel".
_ROLE_TAIL = re.compile(
    r"\s+(?:[•|·]|(?:writer|reporter|contributor|correspondent|columnist|co-founder|founder|"
    r"former|contributing|senior|staff|head|(?:last\s+)?updated|published|posted|reviewed)\b)"
    r".*$",
    re.I,
)
_MONTH_TAIL = re.compile(rf"\s+(?:{MONTH_WORD})\.?$", re.I)
_LEAD_IN = re.compile(
    r"^(?:.*?\bwritten\s+by|(?:recipe|article|story|words|photos?|text)\s+by|"
    r"read\s+more\s+about)\s+",
    re.I,
)
_ONLY_DATE = re.compile(rf"^(?:(?:{MONTH_WORD}|updated|last|\d+)\.?\s*)+$", re.I)


def person_names(value: Any) -> list[str]:
    """Names from a JSON-LD author value or a meta/byline string; placeholders and login
    names dropped."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        raw = item.get("name") if isinstance(item, dict) else item
        text = clean_text(raw)
        if not text or text.lower().startswith(("http://", "https://", "www.")):
            continue
        for part in split_names(text):
            name = plausible_name(part)
            if name and name not in names:
                names.append(name)
    return names


def split_names(text: str) -> list[str]:
    """The names in a list of them ("Ana Silva; Tom May", "Ana Silva and Tom May"). "&"
    separates names only when no side is a single word: "Ana Silva & Tom May" are two,
    "Ernst & Young" and "Johnson & Johnson Inc" are one firm."""
    parts = []
    for chunk in _NAME_SPLIT.split(text):
        sides = [side.strip() for side in chunk.split("&")]
        if len(sides) > 1 and any(len(side.split()) == 1 for side in sides):
            parts.append(chunk)
        else:
            parts.extend(sides)
    return parts


def plausible_name(text: str) -> str | None:
    """The name in a byline fragment, or None when it is not a name (a placeholder, a login
    name, a date, a sentence)."""
    name = _BYLINE_PREFIX.sub("", text.strip(_EDGES)).strip(_EDGES)
    if not name or len(name) > 80 or len(name.split()) > 8:
        return None
    if _NOT_A_NAME.match(name) or _DATE_IN_NAME.search(name) or not re.search(r"[^\W\d_]", name):
        return None
    if _NOT_IN_A_NAME.search(name):
        return None
    # "jdoe", "andrew.keaveney", "user-42": account names, not how a byline reads.
    if " " not in name and _LOGIN.match(name) and (name.islower() or re.search(r"\d", name)):
        return None
    return name


def byline_name(text: str) -> str | None:
    """The name in a byline that an extractor's heuristics cut out of the page: lead-ins
    ("Recipe by") and a trailing role or date dropped when a name of two words or more
    remains (so "Tom May" and "Podium Staff" stay whole); None when it is only a date."""
    name = _LEAD_IN.sub("", text.strip())
    for tail in (_ROLE_TAIL, _MONTH_TAIL):
        cut = tail.sub("", name)
        if len(cut.split()) >= 2:
            name = cut
    name = name.strip(" ,;:-")
    if not name or _ONLY_DATE.match(name) or mixed_case(name):
        return None
    return plausible_name(name)


def mixed_case(name: str) -> bool:
    """True when capitalised words and lower-case words other than particles mix: a menu
    or a sentence the heuristics took for a byline ("Board Actions Open submenu")."""
    words = name.split()
    lower = [w for w in words if w[:1].islower() and w not in NAME_JOINS]
    return bool(lower) and len(lower) < len(words)


def account_names(tree: Any, tags: dict[str, str]) -> list[str]:
    """Author values of the markup that are account names ("jdoe", "user-42"), which
    :func:`person_names` leaves out; in markup order."""
    values: list[Any] = []
    for obj in json_ld_objects(tree):
        if types(obj) & ARTICLE_TYPES and (author := obj.get("author")):
            for item in author if isinstance(author, list) else [author]:
                values.append(item.get("name") if isinstance(item, dict) else item)
    values.extend(tags.get(name) for name in AUTHOR_META)
    names: list[str] = []
    for value in values:
        text = clean_text(value)
        if text and _LOGIN.match(text) and not _NOT_A_NAME.match(text) and text not in names:
            names.append(text)
    return names
