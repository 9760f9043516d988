"""What the page's markup states on purpose: JSON-LD objects, ``<meta>`` tags, and the text a
reader sees (to check that a name the heuristics found is really shown)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

# JSON-LD types that describe the article (or, for "webpage", the page holding it).
ARTICLE_TYPES = {
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
PAGE_TYPES = {"webpage", "medicalwebpage"}
PUBLISHED_META = (
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
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
)
AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
_HIDDEN = {"script", "style", "noscript", "template"}
_SPACE = re.compile(r"\s+")


def clean_text(value: Any) -> str | None:
    """A metadata string with entities decoded (some CMSs escape twice) and whitespace
    collapsed; None when empty or not a string."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", html.unescape(html.unescape(value))).strip()
    return text or None


def key(text: str) -> str:
    """``text`` as compared: whitespace collapsed, case folded."""
    return _SPACE.sub(" ", text).strip().casefold()


def json_ld_objects(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of the page's ``application/ld+json`` scripts, graphs and main
    entities included; broken scripts skipped."""
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
        for name in ("@graph", "mainEntity", "mainEntityOfPage"):
            if name in node:
                yield from _walk(node[name], depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, depth + 1)


def types(obj: dict[str, Any]) -> set[str]:
    """The object's ``@type`` values, lower-cased."""
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def meta_tags(tree: Any) -> dict[str, str]:
    """``<meta>`` contents by lower-cased property / name / itemprop (the first of each)."""
    tags: dict[str, str] = {}
    for meta in tree.iterfind(".//meta[@content]"):
        name = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        content = meta.get("content")
        if name and content and content.strip():
            tags.setdefault(name.strip().lower(), content)
    return tags


def visible_text(tree: Any) -> str:
    """The text of the page's body outside scripts, styles and templates, whitespace
    collapsed and case folded."""
    return shown_text(tree).casefold()


def shown_text(tree: Any) -> str:
    """The text of the page's body outside scripts, styles and templates, whitespace
    collapsed, as written."""
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
    return _SPACE.sub(" ", " ".join(parts))
