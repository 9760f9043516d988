"""The main text of a page: trafilatura (comments excluded), a recall retry, clutter lines out.

``extract_text`` parses the page once, lets the caller read the intact tree (trafilatura
prunes the tree it is given), runs trafilatura, gives a short result a second,
recall-favouring look, and drops the clutter lines extractors leave behind. The whole of it
shares one time limit. Every failure raises :class:`~workers.errors.StageError`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import trafilatura
from lxml import etree
from trafilatura.utils import load_html

from workers.cleaning.clutter import drop_clutter
from workers.cleaning.deadline import DeadlineExceeded, deadline
from workers.errors import StageError

# Menus are pruned before extraction; a <nav> holding paragraphs is not a menu but a
# template wrapping the page (or an unclosed tag), and pruning it would empty the article.
_NAVIGATION = ["//nav[count(.//p) < 3]", "//*[@role='navigation'][count(.//p) < 3]"]
# A word, or one CJK character (those scripts write no spaces; a character is about a word).
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_PROSE_LINE_WORDS = 10
# A short extraction (under this many characters) gets a second, recall-favouring look,
# kept when it is clearly longer: the default pass sometimes stops at a section break.
RECALL_RETRY_CHARS = 2000

Favor = Literal["recall", "default", "precision"]


@dataclass(frozen=True, slots=True)
class Extraction:
    """What extraction found: trafilatura's document (its metadata fields; None when it
    found nothing), the text's lines, and what the caller read from the intact tree."""

    document: Any
    lines: list[str]
    seen: Any = None

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
    timeout_s: float,
    *,
    read_tree: Callable[[Any], Any] = lambda tree: None,
    extensive_date_search: bool = False,
    favor: Favor = "default",
    recall_retry_chars: int = RECALL_RETRY_CHARS,
    line_filter: bool = True,
) -> Extraction:
    """The main text of ``html`` with trafilatura's metadata; ``read_tree`` is called with
    the parsed page before trafilatura prunes it. The keyword switches after it exist for
    the benchmark's ablations (bench/ablations.py); the worker runs the defaults (on the
    WCXB dev pages "recall" kept more boilerplate and lost 0.01 F1, "precision" empties
    some pages: bench/RESULTS.md)."""
    started = time.monotonic()
    try:
        with deadline(timeout_s):
            tree = load_html(html)
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
                favor_recall=favor == "recall",
                favor_precision=favor == "precision",
                date_extraction_params={
                    "extensive_search": extensive_date_search,
                    "original_date": True,
                },
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

    raw_text = (document.text or "").strip() if document is not None else ""
    if len(raw_text) < recall_retry_chars and favor != "recall":
        # The retry shares the page's time limit.
        remaining = timeout_s - (time.monotonic() - started)
        if remaining > 0:
            raw_text = _recall_retry(html, url, raw_text, remaining)
    lines = [line.strip() for line in raw_text.splitlines() if line.strip()]
    if line_filter:
        lines = drop_clutter(lines)
    return Extraction(document, lines, seen)


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
            )
    except (DeadlineExceeded, etree.LxmlError, ValueError, TypeError, RecursionError):
        return text  # the first pass stands; the retry is only ever an improvement
    longer = (retry.text or "").strip() if retry is not None else ""
    return longer if len(text) < 0.8 * len(longer) else text


def prose_words(lines: list[str]) -> int:
    """Words in lines long enough to be sentences: an index page's text is a column of
    short link labels, an article's is paragraphs."""
    counts = (len(_WORD.findall(line)) for line in lines)
    return sum(n for n in counts if n >= _PROSE_LINE_WORDS)
