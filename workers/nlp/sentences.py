"""Sentence splitting by punctuation, for tone and readability (the NER-only spaCy pipeline
has no sentence boundaries, and a parser would cost more than both enrichers together)."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (with closing quotes) before a space and a capital, digit or
# quote, or at a paragraph break; common abbreviations do not end one.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"\u201c\u2018(]?[A-Z0-9])|\n\s*\n")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Gov|Sen|Rep|U\.S|U\.K|No)\.$")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, none empty."""
    result: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start : match.start()]
        if _ABBREVIATION.search(piece):
            continue  # "Mr. Putin": keep going, the sentence is not over
        result.append(piece)
        start = match.end()
    result.append(text[start:])
    return [s.strip() for s in result if s.strip()]
