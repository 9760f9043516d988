"""Size and reading time of the article text."""

from __future__ import annotations

import re
from typing import Any

from workers.enrichment.enrichers.base import ANY_LANGUAGE, Enricher
from workers.settings import Settings

WORD = re.compile(r"\w+")


class StatsEnricher(Enricher, name="stats", version="1.0", languages=ANY_LANGUAGE):
    def __init__(self, settings: Settings):
        self.words_per_minute = settings.reading_words_per_minute

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        text = article["text"]
        words = len(WORD.findall(text))
        return {
            "word_count": words,
            "char_count": len(text),
            "paragraph_count": sum(1 for block in text.split("\n\n") if block.strip()),
            "reading_time_s": round(words * 60 / self.words_per_minute),
        }
