"""The benchmark's ablations: the cleaning stage with one idea turned off or changed.

The worker runs ``clean_message`` as it is; these variants compose its pieces differently
(``extract_article`` with other metadata choices, or with another text extraction) so
bench/extraction.py can measure what each idea is worth. Nothing here is on the worker's path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from workers.cleaning.extraction import Extraction, extract_text
from workers.cleaning.stage import CleanOptions


@dataclass(frozen=True, slots=True)
class Variant:
    """Metadata choices and the text extraction one variant runs."""

    options: CleanOptions = field(default_factory=CleanOptions)
    extract: Callable[..., Extraction] = extract_text


def _text(**switches: Any) -> Variant:
    return Variant(extract=partial(extract_text, **switches))


VARIANTS = {
    "newsflow": Variant(),
    "favor-recall": _text(favor="recall"),
    "favor-precision": _text(favor="precision"),
    "-line-filter": _text(line_filter=False),
    "-recall-retry": _text(recall_retry_chars=0),
    "-html5-reparse": _text(html5_reparse=False),
    "-second-extractor": _text(second_extractor=False),
    "+boundary": _text(boundary=True),
    # readability only where trafilatura's text looks short (the default before issue 19's
    # round 4), not where it looks wrong
    "-bound-where-wrong": _text(bound_where_wrong=False),
    "-trafilatura-fallback": _text(trafilatura_fallback=False),
    "-page-metadata": Variant(CleanOptions(page_metadata=False)),
    "-strict-dates": Variant(CleanOptions(strict_dates=False)),
    "byline-date-first": Variant(CleanOptions(byline_date="first")),
    "-byline-date": Variant(CleanOptions(byline_date="off")),
    "-shown-authors": Variant(CleanOptions(shown_authors=False)),
    "-url-date": Variant(CleanOptions(url_date=False)),
    "-header-time": Variant(CleanOptions(header_time=False)),
    "-earlier-shown-date": Variant(CleanOptions(earlier_shown_date=False)),
    "-labelled-date": Variant(CleanOptions(labelled_date=False)),
    "-tidy-bylines": Variant(CleanOptions(tidy_bylines=False)),
    "-person-over-publisher": Variant(CleanOptions(person_over_publisher=False)),
    "-shown-accounts": Variant(CleanOptions(shown_accounts=False)),
    "-credited-organisations": Variant(CleanOptions(credited_organisations=False)),
    "-shown-byline": Variant(CleanOptions(shown_byline=False)),
}


def variant(name: str) -> Variant:
    """A named ablation: ``newsflow`` is the stage as configured, ``-x`` turns one idea off."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name]
