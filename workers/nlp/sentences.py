"""Sentence splitting by punctuation, for tone and readability (the NER-only spaCy pipeline
has no sentence boundaries, and a parser would cost more than both enrichers together)."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (with closing quotes) before a space and a capital, digit or
# quote, or at a paragraph break; common abbreviations do not end one.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"\u201c\u2018(]?[A-Z0-9])|\n\s*\n")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Gov|Sen|Rep|U\.S|U\.K|No)\.$")


# Other languages: a capital of any alphabet, Spanish ¿ ¡ and the quotes „ « may open a
# sentence; their titles and abbreviations before a capital ("M. Macron", "Dr. Müller",
# "2,4 Mrd. Euro") do not end one.
_BOUNDARY_ANY = re.compile(
    r"(?<=[.!?])[\"'\u201d\u2019\u00bb)]*\s+(?=[\"\u201c\u201e\u2018\u00ab(\u00bf\u00a1]?[^\W\d_a-zà-ÿа-яё]|\d)"
    r"|\n\s*\n"
)
_ABBREVIATION_ANY = re.compile(
    r"\b(?:Dr|Prof|Nr|St|Sr|Sra|Srta|Dña|Mme|Mlle|Me|M|Hr|Fr|Mio|Mrd|Abs|Art|Bd|Sig|Dott|Ing"
    r"|Avv|Gen|No|Nº|ca|bzw|vgl|etc|usw|[A-ZÄÖÜА-Я]|г|гг|ул|им|т|д)\.$"  # noqa: RUF001
)


def sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text``, stripped, none empty."""
    boundary, abbreviation = (
        (_BOUNDARY, _ABBREVIATION) if language == "en" else (_BOUNDARY_ANY, _ABBREVIATION_ANY)
    )
    result: list[str] = []
    start = 0
    for match in boundary.finditer(text):
        piece = text[start : match.start()]
        if abbreviation.search(piece):
            continue  # "Mr. Putin": keep going, the sentence is not over
        result.append(piece)
        start = match.end()
    result.append(text[start:])
    return [s.strip() for s in result if s.strip()]
