"""The fallback chain for pages trafilatura alone reads wrongly: legacy layouts, broken markup.

Two steps:

- **An HTML5 re-parse.** lxml's parser (libxml2) gives up on markup a browser reads: garbage
  before ``<html>``, a ``</html>`` before the body. Its tree then has no body, or a tiny one.
  selectolax's lexbor engine follows the HTML5 parsing rules browsers follow; its
  serialisation, parsed again by lxml, has the body back. Taken only when lxml's body is tiny.
- **A second extractor.** readability-lxml scores the page's blocks differently and picks one
  container; trafilatura collects every block that reads as text. Each errs its own way:
  trafilatura runs on past the article (a blog's about box before it, related posts, product
  lists and comment threads without comment markup after it), readability stops at the end of
  its container. So readability's text is used in two ways:

  - *as a boundary*, where trafilatura's text looks wrong (``extraction.looks_wrong``: it ends in
    page furniture, or a fifth of it is not prose; ``NEWSFLOW_EXTRACTION_BOUNDARY=true`` runs
    it on every page, about 1.5x the cleaning CPU): when readability's text is a substantial
    part of trafilatura's, the lines of trafilatura's text before the first and after the
    last line readability also has are dropped (the page around the article). Lines in
    between stay, even those readability left out: an article's inner parts (a list, a quote
    box, a second section) are where readability truncates modern pages (bench/RESULTS.md);
  - *as a replacement*: when trafilatura's text is short (under 80 words) and readability's
    is clearly longer, trafilatura pruned the article away (wrapped in a ``<nav>``, say), and
    readability's text is kept; and where the boundary applies, when the two picked
    different parts of the page (readability's words are mostly not in trafilatura's text),
    the one with more sentences is kept: a column of link teasers is not the article; and
    when readability's text is a clear part of trafilatura's and what it left out holds no
    paragraph (captions, menus, teasers between the article's paragraphs, which the
    boundary cannot cut), readability's text is kept.

  Taking readability's text whenever it is a shorter part of trafilatura's helped on 2012
  pages but cost more on modern ones (bench/RESULTS.md): the boundary keeps trafilatura's
  inner lines instead.
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
# readability's text replaces trafilatura's when trafilatura's has fewer than this many words
# (it looks wrong) ...
LOOKS_SHORT_WORDS = 80
# ... and readability's has more than this many times as many. (At any length and 1.5 times,
# it gained on the modern pages it was tuned on and lost 0.012 F1 on the held-out ones.)
CLEARLY_LONGER = 2
# readability's text bounds trafilatura's only when it has at least this share of its words:
# a smaller one is a fragment (a caption, a teaser box readability mistook for the article).
BOUNDARY_MIN_SHARE = 0.2
# A line of trafilatura's text is one readability also has when this share of its words is in
# readability's text (the two split and punctuate blocks differently).
LINE_SHARED = 0.5
# The two extractors picked different parts of the page when less than this share of
# readability's words is in trafilatura's text (then neither bounds the other).
DIFFERENT_PARTS = 0.2
# readability's text replaces trafilatura's longer one when this share of its words is in it,
# it has at most this share of trafilatura's words, and under this share of the words it left
# out are in paragraphs (lines of this many words, not list items). Replacing without the
# paragraph condition lost 0.02-0.03 F1 on modern pages, where readability stops at a section
# (bench/RESULTS.md).
PART_OF = 0.8
CLEARLY_SHORTER = 0.7
NO_PARAGRAPH_SHARE = 0.1
PARAGRAPH_WORDS = 20
# A list item: a bullet or a number, then a space.
LIST_ITEM = re.compile(r"^\s*(?:[-\u2022*\u00b7\u00bb]|\d+[.)])\s")
# A sentence's end: a word, then . ! ? and closing quotes or brackets, then a space or the end.
_SENTENCE = re.compile(r"\w\w[.!?][\"'\u201d\u2019)\]]*(?=\s|$)")
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
    """Words of visible text in the tree's body (0 without a tree or a body), counted up to
    ``LOST_BODY_WORDS``: only a tiny body is ever compared, and counting a whole page's
    words cost about 4 ms a page."""
    body = tree.find(".//body") if tree is not None else None
    if body is None:
        return 0
    count = 0
    for element in body.iter():
        if element.tag in _INVISIBLE:
            count += len(_WORD.findall(element.tail or ""))
        else:
            parent = element.getparent()
            if parent is None or parent.tag not in _INVISIBLE:
                count += len(_WORD.findall(element.text or ""))
                count += len(_WORD.findall(element.tail or ""))
        if count >= LOST_BODY_WORDS:
            return count
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
    """Whether trafilatura's text is short enough to need readability's second opinion even
    where readability does not bound the text."""
    return _bag(lines).total() < LOOKS_SHORT_WORDS


def second_opinion(
    first: list[str], second: list[str], *, boundary: bool = True
) -> tuple[list[str], str]:
    """trafilatura's lines ``first`` after readability's ``second`` had its say, and what it
    did: ``"kept"`` (nothing to correct), ``"bounded"`` (the lines before and after the span
    readability also has are gone) or ``"replaced"`` (trafilatura's text is short and
    readability's clearly longer, or, with the boundary, the two picked different parts of
    the page and readability's has more sentences).
    ``boundary=False`` leaves out the boundary and that pick (trafilatura's text looked
    right)."""
    bag, theirs = _bag(first), _bag(second)
    ours = bag.total()
    if ours < LOOKS_SHORT_WORDS and theirs.total() > CLEARLY_LONGER * ours:
        return second, "replaced"  # any text beats none
    # Different parts of the page: the one that reads as an article wins (a column of link
    # teasers against a story; a newsletter box against the story loses).
    different = (bag & theirs).total() < DIFFERENT_PARTS * theirs.total()
    if boundary and second and different and _sentences(second) > _sentences(first):
        return second, "replaced"
    # (Only when readability found text: an empty one is no part of anything.)
    if (
        boundary
        and second
        and ours >= LOOKS_SHORT_WORDS
        and _left_out_no_paragraph(first, bag, theirs)
    ):
        return second, "replaced"
    substantial = boundary and theirs.total() >= BOUNDARY_MIN_SHARE * ours
    bounded = within_second(first, theirs) if substantial else first
    return bounded, "bounded" if len(bounded) < len(first) else "kept"


def within_second(first: list[str], theirs: Counter[str]) -> list[str]:
    """The lines of ``first`` from the first to the last one whose words are mostly in
    ``theirs`` (all of ``first`` when none is)."""
    shared = [i for i, line in enumerate(first) if _line_shared(line, theirs)]
    return first[shared[0] : shared[-1] + 1] if shared else first


def shared_lines(first: list[str], second: list[str]) -> list[str]:
    """The lines of ``first`` whose words are mostly in ``second`` (what both extractors
    read as the article)."""
    if not second:  # readability did not read the page (most pages): nothing to share
        return []
    theirs = _bag(second)
    return [line for line in first if _line_shared(line, theirs)]


def _left_out_no_paragraph(first: list[str], ours: Counter[str], theirs: Counter[str]) -> bool:
    """Whether readability's text is a clear part of trafilatura's and what it left out holds
    no paragraph: only captions, menus, teasers and list items trafilatura kept around the
    article and between its paragraphs, which the boundary cannot cut; ``ours`` is the bag of
    ``first``'s words."""
    inside = (ours & theirs).total() >= PART_OF * theirs.total()
    if not inside or theirs.total() > CLEARLY_SHORTER * ours.total():
        return False
    left_out = [line for line in first if not _line_shared(line, theirs)]
    words = sum(len(_WORD.findall(line)) for line in left_out)
    paragraphs = sum(
        n
        for line in left_out
        if (n := len(_WORD.findall(line))) >= PARAGRAPH_WORDS and not LIST_ITEM.match(line)
    )
    return paragraphs < NO_PARAGRAPH_SHARE * words


def _sentences(lines: list[str]) -> int:
    return sum(len(_SENTENCE.findall(line)) for line in lines)


def _line_shared(line: str, theirs: Counter[str]) -> bool:
    """Whether most of ``line``'s words are in ``theirs``."""
    words = _bag([line])
    return words.total() > 0 and (words & theirs).total() >= LINE_SHARED * words.total()


def _bag(lines: list[str]) -> Counter[str]:
    return Counter(word for line in lines for word in _WORD.findall(line.lower()))
