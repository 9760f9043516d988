"""A byline written in the page's shown text: "By Ana Silva and Tom May" after the
headline, when neither the markup nor trafilatura's heuristics name anyone."""

from __future__ import annotations

import re

from workers.cleaning.metadata.dates import MONTHS
from workers.cleaning.metadata.names import (
    NAME_JOINS,
    NAME_LIKE_MONTHS,
    plausible_name,
    split_names,
)

# A byline label in the shown text, and the words that make "by" a credit instead.
_BYLINE_LABEL = re.compile(r"\b(?:(?:[Ww]ritten\s+)?[Bb]y|BY|[Aa]uthor)\s*:?(?=\s+\S)")
_BYLINE_AFTER = 400  # characters after the headline
_CREDIT_WORDS = {
    "photo",
    "photos",
    "image",
    "images",
    "illustration",
    "video",
    "powered",
    "sponsored",
    "presented",
    "supported",
    "funded",
    "hosted",
    "made",
    "designed",
    "developed",
    "built",
    "followed",
    "edited",
    "reviewed",
    "produced",
    "courtesy",
    "inspired",
    "caused",
    "led",
    "owned",
    "run",
    "published",
    "shared",
    "provided",
    "used",
    "trusted",
    "loved",
}
# Words that end a byline's name: the page's next element, or the author's role.
_AFTER_NAME = {
    "table",
    "view",
    "share",
    "read",
    "follow",
    "contents",
    "co-founder",
    "cofounder",
    "founder",
    "ceo",
    "editor",
    "reporter",
    "writer",
    "correspondent",
    "columnist",
    "contributor",
    "staff",
    "senior",
    "chief",
    "head",
}
_NOT_NAME_WORDS = {
    "the",
    "a",
    "an",
    "this",
    "our",
    "my",
    "your",
    "on",
    "in",
    "at",
    "updated",
    "published",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "yesterday",
    *(set(MONTHS) - NAME_LIKE_MONTHS),
}


def shown_byline(shown: str, headline: str | None) -> list[str]:
    """The names of a "By Ana Silva" byline written after the headline in the page's
    ``shown`` text (as written, not case-folded); [] when there is none."""
    if not headline or not (at := re.search(re.escape(headline), shown, re.I)):
        return []
    window = shown[at.end() : at.end() + _BYLINE_AFTER]
    for match in _BYLINE_LABEL.finditer(window):
        before = window[: match.start()].split()
        label = match.group()
        if before and (
            before[-1].casefold().strip(".,:;") in _CREDIT_WORDS or before[-1].endswith("(")
        ):
            continue  # "Photo by …", "Powered by …", "(By type)": a credit, not the byline
        if before and label.islower() and not label.endswith(":") and not before[-1][-1:].isdigit():
            continue  # "reached by phone": a sentence, unless after the headline or a date
        names = [
            n
            for part in split_names(_leading_name(window[match.end() :]))
            if (n := plausible_name(part))
        ]
        if names:
            return names
    return []


def _leading_name(text: str) -> str:
    """The capitalised words at the start of ``text`` (particles and "and" between them),
    up to five per name: "Ana Silva and Tom May on Monday" → "Ana Silva and Tom May"."""
    words: list[str] = []
    tokens = text.split()[:12]
    for at, word in enumerate(tokens):
        bare = word.rstrip(",;")
        lower = bare.casefold()
        if lower.rstrip(".") in MONTHS and tokens[at + 1 : at + 2] and tokens[at + 1][0].isdigit():
            break  # "May 3": the date after the name
        joins = words and lower in NAME_JOINS
        initial = len(bare) == 2 and bare[1] == "." and bare[0].isupper()  # "A." of "A. J. Neal"
        capitalised = bare[:1].isupper() and lower.rstrip(".") not in _NOT_NAME_WORDS
        if words and (lower in _AFTER_NAME or (bare.isupper() and len(bare) > 2)):
            break  # "Edzel Tabing Table of contents", "Md Aynal Haque RAJSHAHI" (a dateline)
        if not (joins or initial or capitalised):
            break
        words.append(bare)
        if bare != word:  # a comma or semicolon ends the name
            break
    while words and words[-1].casefold() in NAME_JOINS:
        words.pop()
    return " ".join(words) if 0 < len(words) <= 8 else ""
