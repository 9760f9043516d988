"""Article metadata the page states itself: headline, authors, publication date.

Structured markup comes first (JSON-LD ``Article`` objects, OpenGraph / ``article:*`` and
``<meta name=author>`` tags) because a publisher writes it on purpose; the visible ``<h1>``
is the headline readers see. The cleaning stage falls back to trafilatura's heuristics only
where these say nothing, and never guesses a date or an author the page does not give.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_SPACE = re.compile(r"\s+")
# Separators between a headline and the site name in <title> / og:title.
_TITLE_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014·•»:]\s+")
_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "techarticle",
    "scholarlyarticle",
    "report",
    "liveblogposting",
    "medicalwebpage",
    "webpage",
    "posting",
    "socialmediaposting",
}
_PUBLISHED_META = (
    "article:published_time",
    "datepublished",
    "og:published_time",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "date",  # <meta name="date">: NPR and other news CMSs (DC.date is often the last edit)
)
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
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
_MONTHS = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|march|april|june|july|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s*\d",
    re.I,
)
_LOGIN = re.compile(r"^[a-z0-9]+(?:[._\-][a-z0-9]+)*$")
_NAME_SPLIT = re.compile(r"\s*(?:;|\||\band\b|&)\s*")


@dataclass(slots=True)
class PageMeta:
    """What the page's markup says about the article (None / empty when it says nothing)."""

    headline: str | None = None
    title_candidates: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    site_names: set[str] = field(default_factory=set)
    # A date written next to the visible headline (the byline's), e.g. "Updated March 3, 2024".
    byline_date: str | None = None
    # A machine-readable <time datetime> beside the visible headline (the article header's).
    header_time: str | None = None
    # The first date the page labels as its publication: "Published on …", "Posted: …",
    # "Originally published …".
    labelled_date: str | None = None
    # Markup author values that are account names ("jdoe"), kept apart from ``authors``.
    account_names: list[str] = field(default_factory=list)
    # The page's visible text, case-folded, for checking that a name is really shown.
    visible_text: str = ""

    def shows(self, name: str) -> bool:
        """True when ``name`` appears in the page's visible text."""
        return _key(name) in self.visible_text

    def is_site(self, name: str) -> bool:
        """True when ``name`` is the site's or publisher's name."""
        return _key(name) in self.site_names

    def near_site(self, name: str) -> bool:
        """True when ``name`` contains a site name or is part of one."""
        key = _key(name)
        return any(key in site or site in key for site in self.site_names)


def clean_text(value: Any) -> str | None:
    """A metadata string with entities decoded (some CMSs escape twice) and whitespace
    collapsed; None when empty or not a string."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", html.unescape(html.unescape(value))).strip()
    return text or None


def _key(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def _json_ld_objects(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:  # CMSs emit broken JSON-LD often enough; it is only a hint
            continue
        yield from _walk(data, depth=0)


def _walk(node: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 6:  # bounded: JSON-LD graphs can be deep, the article object never is
        return
    if isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if key in node:
                yield from _walk(node[key], depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, depth + 1)


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _meta_tags(tree: Any) -> dict[str, str]:
    tags: dict[str, str] = {}
    for meta in tree.iterfind(".//meta[@content]"):
        name = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        content = meta.get("content")
        if name and content and content.strip():
            tags.setdefault(name.strip().lower(), content)
    return tags


def iso_date(value: Any) -> str | None:
    """YYYY-MM-DD from an ISO 8601 date or timestamp as the page wrote it (its own day,
    not converted to UTC), else None."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def person_names(value: Any, site_names: set[str] | None = None) -> list[str]:
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
    if _NOT_A_NAME.match(name) or _MONTHS.search(name) or not re.search(r"[^\W\d_]", name):
        return None
    # "jdoe", "andrew.keaveney", "user-42": account names, not how a byline reads.
    if " " not in name and _LOGIN.match(name) and (name.islower() or re.search(r"\d", name)):
        return None
    return name


# Heuristic bylines often run on into the role or the date: "Rachel MacDonald Writer",
# "Luke Kim December", "Haley Hoekstra • March", "Recipe by PJ Hamel".
_MONTH_WORD = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ROLE_TAIL = re.compile(
    r"\s+(?:[•|·]|(?:writer|reporter|contributor|correspondent|columnist|co-founder|founder|"
    r"former|contributing|senior|staff|head|(?:last\s+)?updated|published|posted|reviewed)\b)"
    r".*$",
    re.I,
)
_MONTH_TAIL = re.compile(rf"\s+(?:{_MONTH_WORD})\.?$", re.I)
_LEAD_IN = re.compile(
    r"^(?:.*?\bwritten\s+by|(?:recipe|article|story|words|photos?|text)\s+by|"
    r"read\s+more\s+about)\s+",
    re.I,
)
_ONLY_DATE = re.compile(rf"^(?:(?:{_MONTH_WORD}|updated|last|\d+)\.?\s*)+$", re.I)


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
    if not name or _ONLY_DATE.match(name):
        return None
    return plausible_name(name)


_MONTH_NAMES = {
    m: i
    for i, names in enumerate(
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
    for m in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_WRITTEN_DATES = [
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I),
    re.compile(r"\b(?P<year>(?:19|20)\d{2})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"),
]
_BYLINE_BEFORE, _BYLINE_AFTER = 200, 500  # characters around the headline


def _match_date(match: re.Match[str]) -> str | None:
    month = match.group("month")
    number = _MONTH_NAMES.get(month.lower().rstrip(".")) if month.isalpha() else month
    return iso_date(f"{match.group('year')}-{int(number):02d}-{int(match.group('day')):02d}")


# Day and month in figures: "17.05.2021", "2/24/2026". Which comes first differs by
# country, so only a date that reads one way (a number above 12, or both equal) counts.
_NUMERIC_DATE = re.compile(r"(?<![\d./])(\d{1,2})([./])(\d{1,2})\2((?:19|20)\d{2})(?![\d./])")


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


# "Published on 3 March 2024", "Posted: Nov 21, 2018", "Originally published 26 Sep 2019".
_PUBLISHED_LABEL = re.compile(
    r"\b(?:originally\s+|first\s+)?(?:published|posted)(?:\s+on)?\s*:?\s*", re.I
)


def labelled_date(visible: str) -> str | None:
    """The date right after the first "published" / "posted" label in ``visible`` that
    has one: the page saying which of its dates is the publication's."""
    for label in _PUBLISHED_LABEL.finditer(visible):
        for pattern in _WRITTEN_DATES:
            if (match := pattern.match(visible, label.end())) and (date := _match_date(match)):
                return date
    return None


def _account_names(tree: Any, tags: dict[str, str]) -> list[str]:
    """Author values of the markup that are account names ("jdoe", "user-42"), which
    :func:`person_names` leaves out; in markup order."""
    values: list[Any] = []
    for obj in _json_ld_objects(tree):
        if _types(obj) & _ARTICLE_TYPES and (author := obj.get("author")):
            for item in author if isinstance(author, list) else [author]:
                values.append(item.get("name") if isinstance(item, dict) else item)
    values.extend(tags.get(name) for name in _AUTHOR_META)
    names: list[str] = []
    for value in values:
        text = clean_text(value)
        if text and _LOGIN.match(text) and not _NOT_A_NAME.match(text) and text not in names:
            names.append(text)
    return names


_HIDDEN = {"script", "style", "noscript", "template"}


def _visible_text(tree: Any) -> str:
    body = tree.find(".//body")
    if body is None:
        return ""
    # One walk keeping the text outside hidden elements. (An XPath text() test with
    # not(ancestor::…) predicates does the same but slows down with the page's size
    # squared: 6 s for a 1 MB page of short paragraphs, inside libxml2, where no time
    # limit can stop it.)
    parts: list[str] = []
    hidden = 0
    events = ("start", "end", "comment", "pi")
    for event, element in etree.iterwalk(body, events=events):
        if event == "start":
            if element.tag in _HIDDEN:
                hidden += 1
            elif not hidden and element.text:
                parts.append(element.text)
            continue
        if event == "end" and element.tag in _HIDDEN:
            hidden -= 1
        # A comment's or PI's own text is not shown; the text after it is.
        if not hidden and element.tail and element is not body:
            parts.append(element.tail)
    return _SPACE.sub(" ", " ".join(parts)).casefold()


def _byline_date(visible: str, headline: str | None) -> str | None:
    if not headline:
        return None
    at = visible.find(_key(headline))
    if at < 0:
        return None
    end = at + len(headline)
    return written_date(visible[max(0, at - _BYLINE_BEFORE) : end + _BYLINE_AFTER])


_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})/(\d{2})(?=/|$)")
_HEADER_LEVELS = 3  # how far up from the <h1> the article header may reach
_CHROME = {"nav", "aside", "footer"}


def url_date(url: str | None) -> str | None:
    """The day in a URL path written /YYYY/MM/DD/ (CMS permalinks: the day the article was
    first published, in the publisher's time zone), else None."""
    path = (url or "").split("?", 1)[0].split("#", 1)[0]
    match = _URL_DATE.search(path)
    return iso_date("-".join(match.groups())) if match else None


def _header_time(tree: Any, headline: str | None) -> str | None:
    """The date of the first ``<time datetime>`` in the headline's header: within a few
    levels above the <h1> that shows ``headline``, not in a menu, sidebar or footer."""
    if not headline:
        return None
    key = _key(headline)
    for h1 in _heading_elements(tree):
        if _key(h1.text_content()) != key:
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


def _heading_elements(tree: Any) -> Iterator[Any]:
    for h1 in tree.iter("h1"):
        # An <h1> inside the page chrome is a logo or a menu label, not the headline.
        ancestors = {a.tag for a in h1.iterancestors()}
        if ancestors & {"header", "nav", "footer", "aside"} and not ancestors & {"article", "main"}:
            continue
        yield h1


def _headings(tree: Any) -> list[str]:
    headings = []
    for h1 in _heading_elements(tree):
        text = clean_text(h1.text_content())
        if text:
            headings.append(text)
    return headings


def _choose_headline(headings: list[str], candidates: list[str], sites: set[str]) -> str | None:
    keys = [_key(c) for c in candidates]
    # The visible headline that the structured titles confirm (they add a site name or
    # shorten it, so containment rather than equality).
    for heading in headings:
        k = _key(heading)
        if len(k) >= 10 and k not in sites and any(k in c for c in keys):
            return heading
    for heading in headings:
        if _key(heading) not in sites and len(heading.split()) >= 2:
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
    kept = [p for p in parts if _key(p) not in sites]
    if len(kept) == len(parts):
        # The site name is not known: the headline is the longest part.
        return max(parts, key=len)
    return " - ".join(kept) if kept else None


def page_meta(tree: Any) -> PageMeta:
    """Headline, authors, publication date and site names stated by the page's markup."""
    tags = _meta_tags(tree)
    sites = {_key(s) for s in (clean_text(tags.get("og:site_name")),) if s}
    title_tag = tree.find(".//title")
    title_text = clean_text(title_tag.text_content()) if title_tag is not None else None

    headline_ld: str | None = None
    authors: list[str] = []
    published: str | None = None
    for obj in _json_ld_objects(tree):
        types = _types(obj)
        if types & {"organization", "newsmediaorganization", "website"}:
            name = clean_text(obj.get("name"))
            if name and "website" in types:
                sites.add(_key(name))
        if not types & _ARTICLE_TYPES:
            continue
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and (name := clean_text(publisher.get("name"))):
            sites.add(_key(name))
        # "webpage" objects describe the page, not the article: use them only as a fallback.
        primary = bool(types - {"webpage", "medicalwebpage"})
        if headline_ld is None and primary:
            headline_ld = clean_text(obj.get("headline"))
        if not authors and (primary or obj.get("author")):
            authors = person_names(obj.get("author"))
        if published is None and (primary or obj.get("datePublished")):
            published = iso_date(obj.get("datePublished"))

    for name in _PUBLISHED_META:
        if published:
            break
        published = iso_date(tags.get(name))
    if not authors:
        for name in _AUTHOR_META:
            if (value := tags.get(name)) and (authors := person_names(value)):
                break
    accounts = [] if authors else _account_names(tree, tags)

    candidates = [c for c in (headline_ld, clean_text(tags.get("og:title")), title_text) if c]
    headline = _choose_headline(_headings(tree), candidates, sites)
    visible = _visible_text(tree)
    return PageMeta(
        byline_date=_byline_date(visible, headline),
        labelled_date=labelled_date(visible),
        account_names=accounts,
        header_time=_header_time(tree, headline),
        visible_text=visible,
        headline=headline,
        title_candidates=candidates,
        authors=authors,
        published=published,
        site_names=sites,
    )
