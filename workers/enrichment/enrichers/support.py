"""Which documents the English-only models may read.

spaCy's small English model, YAKE's English stop words and VADER's lexicon produce garbage on
other languages, so their enrichers return ``{"skipped": reason}`` instead of a result.
"""

from __future__ import annotations

from typing import Any

SUPPORTED_LANGUAGES = frozenset({"en"})


def skip_reason(article: dict[str, Any]) -> str | None:
    """Why an English-only enricher must not read ``article``, or None when it may."""
    language = article.get("language")
    if language in SUPPORTED_LANGUAGES:
        return None
    return f"language {language or 'unknown'} not supported"
