"""The fallback chain for pages trafilatura alone reads wrongly: legacy layouts, broken markup.

Two steps, each taken only when the one before looks wrong:

- **An HTML5 re-parse.** lxml's parser (libxml2) gives up on markup a browser reads: garbage
  before ``<html>``, a ``</html>`` before the body. Its tree then has no body, or a tiny one.
  selectolax's lexbor engine follows the HTML5 parsing rules browsers follow; its
  serialisation, parsed again by lxml, has the body back.
- **A second extractor.** Where trafilatura's text (after its recall retry) is still short,
  readability-lxml, which scores the page's blocks differently, reads the page too, and its
  text is kept when it is clearly longer: an article trafilatura pruned away (wrapped in a
  ``<nav>``, say) is not lost. Taking readability's text in the other case, where it is the
  shorter one inside trafilatura's, helped on 2012 pages but cost more on modern ones
  (bench/RESULTS.md), so that case is left to trafilatura.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from readability import Document  # type: ignore[import-untyped]
from readability.readability import Unparseable  # type: ignore[import-untyped]
from selectolax.lexbor import LexborHTMLParser
from trafilatura.utils import load_html

# lxml's body is "tiny" below this many words: only then is the page parsed a second time.
LOST_BODY_WORDS = 50
# trafilatura's text looks wrong under this many words: only then does readability run
# (tuned on half A of the development sets, bench/RESULTS.md) ...
LOOKS_SHORT_WORDS = 80
# ... and its text is kept when it has more than this many times trafilatura's words.
CLEARLY_LONGER = 2
_WORD = re.compile(r"\w+")
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "br")
_INVISIBLE = ("script", "style", "noscript", "template")


def parse_page(html: str) -> tuple[Any, str, str]:
    """The page's lxml tree, the HTML it was parsed from and the parser that read it:
    ``lxml``, or ``html5`` when lxml's tree has lost the body and lexbor's reading of the
    page (serialised, then parsed by lxml) has more of it."""
    tree = load_html(html)
    words = _body_words(tree)
    if tree is None or words >= LOST_BODY_WORDS:
        # No tree at all: trafilatura's parser found no HTML document (binary data, a bare
        # fragment), a not_html page; a browser would still make a body of it, of garbage.
        return tree, html, "lxml"
    serialised = LexborHTMLParser(html).html or ""
    reparsed = load_html(serialised)
    if _body_words(reparsed) > words:
        return reparsed, serialised, "html5"
    return tree, html, "lxml"


def _body_words(tree: Any) -> int:
    """Words of visible text in the tree's body (0 without a tree or a body)."""
    body = tree.find(".//body") if tree is not None else None
    if body is None:
        return 0
    count = 0
    for element in body.iter():
        if element.tag in _INVISIBLE:
            count += len(_WORD.findall(element.tail or ""))
            continue
        parent = element.getparent()
        if parent is None or parent.tag not in _INVISIBLE:
            count += len(_WORD.findall(element.text or "")) + len(_WORD.findall(element.tail or ""))
    return count


def readability_lines(html: str) -> list[str]:
    """readability-lxml's article as lines of text, one per block ([] when it gives up)."""
    try:
        summary = Document(html).summary(html_partial=True)
        root = lxml_html.fromstring(summary)
    except (Unparseable, etree.LxmlError, ValueError, TypeError):
        return []
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    return [line.strip() for line in root.text_content().splitlines() if line.strip()]


def looks_short(lines: list[str]) -> bool:
    """Whether trafilatura's text is too short to be trusted without a second opinion."""
    return _bag(lines).total() < LOOKS_SHORT_WORDS


def prefer_second(first: list[str], second: list[str]) -> bool:
    """Whether readability's ``second`` text replaces trafilatura's short ``first``: when
    it is clearly longer (any text beats none)."""
    theirs = _bag(second).total()
    return theirs > 0 and theirs > CLEARLY_LONGER * _bag(first).total()


def _bag(lines: list[str]) -> Counter[str]:
    return Counter(word for line in lines for word in _WORD.findall(line.lower()))
