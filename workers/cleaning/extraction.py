"""The main text of a page: trafilatura (comments excluded), a recall retry, clutter lines out,
readability-lxml's second opinion.

``extract_text`` parses the page once, lets the caller read the intact tree (trafilatura
prunes the tree it is given), runs trafilatura, gives a short result a second,
recall-favouring look, drops the clutter lines extractors leave behind, and lets
readability-lxml bound or replace the text (:mod:`workers.cleaning.fallback`). The whole of
it shares one time limit. Every failure raises :class:`~workers.errors.StageError`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml import etree
from trafilatura.utils import load_html

from workers.cleaning.clutter import drop_clutter
from workers.cleaning.deadline import DeadlineExceeded, deadline
from workers.cleaning.fallback import (
    LIST_ITEM,
    looks_short,
    parse_page,
    readability_lines,
    second_opinion,
)
from workers.cleaning.options import CleanOptions
from workers.errors import StageError

# Menus are pruned before extraction; a <nav> holding paragraphs is not a menu but a
# template wrapping the page (or an unclosed tag), and pruning it would empty the article.
_NAVIGATION = ["//nav[count(.//p) < 3]", "//*[@role='navigation'][count(.//p) < 3]"]
# A word, or one CJK character (those scripts write no spaces; a character is about a word).
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_PROSE_LINE_WORDS = 10
_SENTENCE_WORDS = 3
# Sentence and verse endings (CJK full stops included), then closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?\u2026:;,\u3002\uff01\uff1f][\"'\u201d\u2019\u00bb)\]]*\s*$")
# A short extraction (under this many characters) gets a second, recall-favouring look,
# kept when it is clearly longer: the default pass sometimes stops at a section break.
RECALL_RETRY_CHARS = 2000
# trafilatura's text looks wrong when this share of its words is outside prose lines (menus,
# link labels and form fields it kept): readability then bounds it (looks_wrong).
NOT_PROSE_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Extraction:
    """What extraction found: trafilatura's document (its metadata fields; None when it
    found nothing), the text's lines, and what the caller read from the intact tree."""

    document: Any
    lines: list[str]
    seen: Any = None
    # The chain's path that produced the text: "parser+extractor", one of
    # workers.pipeline.EXTRACTION_PATHS.
    path: str = "lxml+trafilatura"
    # trafilatura's lines before readability bounded or replaced them (the page's longest
    # reading: what the not-an-article gate judges)
    first_lines: list[str] | None = None
    # readability's lines when it read the page (None when it did not run)
    second_lines: list[str] | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.lines)

    def field(self, name: str) -> str | None:
        """A metadata field of trafilatura's document, None when empty or absent."""
        # The default pass may have found nothing (None) while the recall retry found text.
        return (getattr(self.document, name, None) or None) if self.document is not None else None


def extract_text(
    html: str,
    url: str,
    options: CleanOptions,
    *,
    read_tree: Callable[[Any], Any] = lambda tree: None,
) -> Extraction:
    """The main text of ``html`` with trafilatura's metadata; ``read_tree`` is called with
    the parsed page before trafilatura prunes it."""
    started = time.monotonic()
    timeout_s = options.timeout_s
    try:
        with deadline(timeout_s):
            tree, html, parser = parse_page(html)
            if tree is None:
                raise StageError("not_html", "the HTML parser found no document")
            seen = read_tree(tree)
            document = trafilatura.bare_extraction(
                tree,
                url=url,
                include_comments=False,  # comments cost up to 8 F1 points
                with_metadata=True,
                include_tables=True,
                # A page of nothing but menus is empty, not an article made of menu items.
                prune_xpath=_NAVIGATION,
                # trafilatura's own fallback (its copy of readability, jusText) stays on:
                # without it the held-out modern pages lost 0.012 F1 (bench/RESULTS.md).
                fast=False,
                # Neither favour: on the WCXB pages "recall" kept more boilerplate and
                # "precision" emptied some pages (bench/RESULTS.md); recall is a retry only.
                # No date guessed from free text: it invents dates (bench/RESULTS.md).
                date_extraction_params={"extensive_search": False, "original_date": True},
            )
    except DeadlineExceeded as exc:
        raise StageError(
            "extraction_timeout",
            f"extraction took longer than {timeout_s} s (NEWSFLOW_EXTRACTION_TIMEOUT_S)",
        ) from exc
    except StageError:
        raise
    except (etree.LxmlError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise StageError(
            "extraction_failed", f"{type(exc).__name__}: {exc}", error_class=type(exc).__name__
        ) from exc

    extractor = "trafilatura"
    first = (document.text or "").strip() if document is not None else ""
    raw_text = first
    if len(raw_text) < RECALL_RETRY_CHARS:
        # The retry shares the page's time limit.
        remaining = timeout_s - (time.monotonic() - started)
        if remaining > 0:
            raw_text = _recall_retry(html, url, raw_text, remaining)
            extractor = "trafilatura" if raw_text is first else "trafilatura-recall"
    lines = first_lines = _lines(raw_text, options.line_filter)
    second = None
    remaining = timeout_s - (time.monotonic() - started)
    # readability reads a page where trafilatura's text looks wrong (it bounds it) or short
    # (it may replace it); NEWSFLOW_EXTRACTION_BOUNDARY has it bound every page (about 1.5x
    # the cleaning CPU). Running it everywhere gains little more (bench/RESULTS.md).
    wrong = options.boundary or looks_wrong(lines)
    if remaining > 0 and (wrong or looks_short(lines)):
        second = _second_opinion(html, remaining, options.line_filter)
        lines, how = second_opinion(lines, second, boundary=wrong)
        if how == "replaced":
            extractor = "readability"
        elif how == "bounded":
            extractor += "-bounded"
    return Extraction(document, lines, seen, f"{parser}+{extractor}", first_lines, second)


def _lines(text: str, line_filter: bool) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return drop_clutter(lines) if line_filter else lines


def _second_opinion(html: str, timeout_s: float, line_filter: bool) -> list[str]:
    """readability-lxml's text of the page ([] when it finds none in time)."""
    try:
        with deadline(timeout_s):
            return _lines("\n".join(readability_lines(html)), line_filter)
    except (DeadlineExceeded, RecursionError):
        return []  # trafilatura's text stands; the second opinion is only ever a correction


def _recall_retry(html: str, url: str, text: str, timeout_s: float) -> str:
    """The text of a recall-favouring pass when it is clearly longer than ``text``."""
    try:
        with deadline(timeout_s):
            retry = trafilatura.bare_extraction(
                load_html(html),
                url=url,
                include_comments=False,
                favor_recall=True,
                prune_xpath=_NAVIGATION,
                # Its own fallback extractors ran in the first pass already, and readability
                # reads the page next if the text still looks short.
                fast=True,
            )
    except (DeadlineExceeded, etree.LxmlError, ValueError, TypeError, RecursionError):
        return text  # the first pass stands; the retry is only ever an improvement
    longer = (retry.text or "").strip() if retry is not None else ""
    return longer if len(text) < 0.8 * len(longer) else text


def prose_words(lines: list[str]) -> int:
    """Words in lines that read as sentences: an index page's text is a column of short link
    labels, an article's is paragraphs. A line is prose when it is long (10+ words) or when
    it ends as a sentence or a verse does (3+ words and a closing ``. ! ? … : ; ,``): a
    poem's lines, a one-line caption post; a link label ends with none of them."""
    total = 0
    for line in lines:
        n = len(_WORD.findall(line))
        if n >= _PROSE_LINE_WORDS or (n >= _SENTENCE_WORDS and _SENTENCE_END.search(line)):
            total += n
    return total


def looks_wrong(lines: list[str]) -> bool:
    """Whether trafilatura's text looks like more than the article, so readability should
    bound it: its last line is not prose (a form field, a link label, a copyright line) or is
    a lead-in ending with a colon, its last two lines are list items (related posts, product
    teasers), or a fifth of its words are outside prose lines (:func:`prose_words`). An
    article ends on a sentence; a page's furniture does not."""
    if not lines:
        return False
    last = lines[-1].rstrip()
    if not prose_words([last]) or last.endswith(":"):
        return True
    if len(lines) >= 2 and all(LIST_ITEM.match(line) for line in lines[-2:]):
        return True
    words = sum(len(_WORD.findall(line)) for line in lines)
    return words > 0 and words - prose_words(lines) >= NOT_PROSE_SHARE * words
