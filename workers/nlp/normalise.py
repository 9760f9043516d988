"""Unicode normalisation that remembers where every character came from.

NER and phrase matching see NFKC text with no-break spaces as spaces and invisible
characters (soft hyphens, zero-width joiners, byte-order marks) removed; offsets reported in
the sink record must still point into the original ``text``, so every normalised character
keeps the index of the original character it came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Removed outright: they split words for NER but carry no meaning.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), "")
# NFKC leaves these; news text uses them as ordinary spaces.
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a"), " ")
# Text that NFKC leaves as it is may still hold these (curly quotes alone need no work).
_CHANGED = re.compile("[" + "".join(map(chr, [*_INVISIBLE, *_SPACES])) + "]")


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """``text`` after normalisation and, per character of it, its index in ``original``."""

    original: str
    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the normalised [start, end)."""
        if start >= end:
            position = self.origin[start] if start < len(self.origin) else len(self.original)
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


def normalise(original: str) -> NormalisedText:
    """NFKC per character, no-break spaces to spaces, invisible characters dropped."""
    if original.isascii() or (  # the common cases: nothing to do, identity offsets
        unicodedata.is_normalized("NFKC", original) and not _CHANGED.search(original)
    ):
        return NormalisedText(original, original, tuple(range(len(original))))
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(original):
        mapped = unicodedata.normalize("NFKC", char.translate(_SPACES).translate(_INVISIBLE))
        pieces.append(mapped)
        origin.extend([index] * len(mapped))
    return NormalisedText(original, "".join(pieces), tuple(origin))
