"""How the clean stage reads a page: one frozen object, built from the settings once and passed
whole from the stage down to the text extraction.

Only what a user sets or a benchmark still compares is here. The ideas whose worth was
measured and settled (trafilatura's favour and fallback switches, the recall retry, the HTML5
re-parse, readability-lxml's second opinion and where it runs, the metadata rules) have no
switch: bench/RESULTS.md keeps what each was measured to be worth.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.settings import Settings


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """The clean stage's options (:meth:`from_settings` gives the worker's)."""

    # One page's extraction limit, seconds (NEWSFLOW_EXTRACTION_TIMEOUT_S).
    timeout_s: float
    # Words of prose a page needs to be an article (NEWSFLOW_MIN_ARTICLE_WORDS).
    min_words: int
    # readability-lxml judges every page, not only where trafilatura's text looks wrong or
    # short (NEWSFLOW_EXTRACTION_BOUNDARY).
    boundary: bool = False
    # The clutter lines out of the extracted text (workers/cleaning/clutter.py); off only for
    # bench/extraction.py, which counts what each clutter rule drops.
    line_filter: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> CleanOptions:
        return cls(
            timeout_s=settings.extraction_timeout_s,
            min_words=settings.min_article_words,
            boundary=settings.extraction_boundary,
        )
