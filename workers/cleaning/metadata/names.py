"""Author names: from markup author values, and from the bylines trafilatura's heuristics cut
out of the page. Placeholders, account names, dates and sentences are not names."""

from __future__ import annotations

import re
from typing import Any

from courlan import extract_domain

from workers.cleaning.metadata.dates import MONTH_WORD, MONTHS
from workers.cleaning.metadata.markup import (
    ARTICLE_TYPES,
    AUTHOR_META,
    clean_text,
    json_ld_objects,
    key,
    types,
)

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
_NAME_LIKE_MONTHS = {"mar", "apr", "may", "jun", "jul"}
_DATE_IN_NAME = re.compile(
    r"\b(?:"
    + "|".join(sorted(set(MONTHS) - _NAME_LIKE_MONTHS, key=len, reverse=True))
    + r")\b\.?\s*\d",
    re.I,
)
# A copyright notice, not a byline: "The Pennsylvania State University ©".
_NOT_IN_A_NAME = re.compile(r"©")
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
_LOGIN = re.compile(r"^[a-z0-9]+(?:[._\-][a-z0-9]+)*$")
_NAME_SPLIT = re.compile(r"\s*(?:;|\||\band\b|&)\s*")
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
# A byline label in the shown text, and the words that make "by" a credit instead.
_BYLINE_LABEL = re.compile(
    r"(?P<label>\b(?:(?:[Ww]ritten\s+)?[Bb]y|BY|[Aa]uthor)\s*:?)\s+(?P<rest>\S.*)", re.S
)
_BYLINE_AFTER = 400  # characters after the headline
_CREDIT_WORDS = {
    "photo",
    "photos",
    "image",
    "images",
    "illustration",
    "video",
    "powered",
    "sponsored",
    "presented",
    "supported",
    "funded",
    "hosted",
    "made",
    "designed",
    "developed",
    "built",
    "followed",
    "edited",
    "reviewed",
    "produced",
    "courtesy",
    "inspired",
    "caused",
    "led",
    "owned",
    "run",
    "published",
    "shared",
    "provided",
    "used",
    "trusted",
    "loved",
}
_NAME_JOINS = {
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
_NOT_NAME_WORDS = {
    "the",
    "a",
    "an",
    "this",
    "our",
    "my",
    "your",
    "on",
    "in",
    "at",
    "updated",
    "published",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "yesterday",
    *(set(MONTHS) - _NAME_LIKE_MONTHS),
}
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
        for part in _NAME_SPLIT.split(text):
            name = plausible_name(part)
            if name and name not in names:
                names.append(name)
    return names


def plausible_name(text: str) -> str | None:
    """The name in a byline fragment, or None when it is not a name (a placeholder, a login
    name, a date, a sentence)."""
    name = _BYLINE_PREFIX.sub("", text.strip(" ,;:|-\u2013\u2014")).strip(" ,;:|-\u2013\u2014")
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
    lower = [w for w in words if w[:1].islower() and w not in _NAME_JOINS]
    return bool(lower) and len(lower) < len(words)


def shown_byline(shown: str, headline: str | None) -> list[str]:
    """The names of a "By Ana Silva" byline written after the headline in the page's
    ``shown`` text (as written, not case-folded); [] when there is none."""
    if not headline or not (at := re.search(re.escape(headline), shown, re.I)):
        return []
    window = shown[at.end() : at.end() + _BYLINE_AFTER]
    for match in _BYLINE_LABEL.finditer(window):
        before = window[: match.start()].split()
        label = match.group("label")
        if before and (
            before[-1].casefold().strip(".,:;") in _CREDIT_WORDS or before[-1].endswith("(")
        ):
            continue  # "Photo by …", "Powered by …", "(By type)": a credit, not the byline
        if before and label.islower() and not label.endswith(":"):
            continue  # "reached by phone": a sentence, unless right after the headline
        names = [
            n
            for part in _NAME_SPLIT.split(_leading_name(match.group("rest")))
            if (n := plausible_name(part))
        ]
        if names:
            return names
    return []


def _leading_name(text: str) -> str:
    """The capitalised words at the start of ``text`` (particles and "and" between them),
    up to five per name: "Ana Silva and Tom May on Monday" → "Ana Silva and Tom May"."""
    words: list[str] = []
    tokens = text.split()[:12]
    for at, word in enumerate(tokens):
        bare = word.rstrip(",;")
        lower = bare.casefold()
        if lower.rstrip(".") in MONTHS and tokens[at + 1 : at + 2] and tokens[at + 1][0].isdigit():
            break  # "May 3": the date after the name
        joins = words and lower in _NAME_JOINS
        if not joins and not (bare[:1].isupper() and lower.rstrip(".") not in _NOT_NAME_WORDS):
            break
        words.append(bare)
        if bare != word:  # a comma or semicolon ends the name
            break
    while words and words[-1].casefold() in _NAME_JOINS:
        words.pop()
    return " ".join(words) if 0 < len(words) <= 8 else ""


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
