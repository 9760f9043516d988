"""Authors that are organisations: typed so in the markup, named so ("Editorial Team",
"University"), or the site's domain name."""

from __future__ import annotations

import re
from typing import Any

from courlan import extract_domain

from workers.cleaning.metadata.markup import clean_text, key, types

# JSON-LD types of an author that is not a person.
ORGANISATION_TYPES = {
    "organization",
    "corporation",
    "newsmediaorganization",
    "educationalorganization",
    "governmentorganization",
    "medicalorganization",
    "localbusiness",
    "onlinebusiness",
    "ngo",
    "website",
}
# Words that make a name an organisation's: "Flatworld Solutions Editorial Team".
_ORGANISATION_WORD = re.compile(
    r"\b(?:editorial|newsroom|official|university|college|institute|inc|llc|ltd|plc|corp|"
    r"corporation|foundation|association|department|clinic|hospital|solutions)\b",
    re.I,
)
_NOT_ALNUM = re.compile(r"[\W_]+")


def organisation_names(value: Any) -> set[str]:
    """The names (compared by :func:`~.markup.key`) of a JSON-LD author value's items whose
    ``@type`` is an organisation's or a website's."""
    items = value if isinstance(value, list) else [value]
    found = set()
    for item in items:
        name = clean_text(item.get("name")) if isinstance(item, dict) else None
        if name and types(item) & ORGANISATION_TYPES:
            found.add(key(name))
    return found


def is_domain_name(name: str, url: str) -> bool:
    """True when a one-word ``name`` is the site's domain name ("GitHub" on github.com,
    "Paperium.net" on paperium.net); a person's site ("Erik Demaine" on erikdemaine.org)
    is named in two words and is not caught."""
    domain = extract_domain(url) or ""
    if " " in name.strip() or not domain:
        return False
    squashed = _NOT_ALNUM.sub("", name.casefold())
    return squashed in (domain.split(".")[0], _NOT_ALNUM.sub("", domain))


def has_organisation_word(name: str) -> bool:
    """True when ``name`` holds a word only organisations' names hold ("Editorial",
    "University", "Inc")."""
    return bool(_ORGANISATION_WORD.search(name))
