"""Dates mentioned in the text, resolved against the publication date.

Date and time expressions come from the NER pass of :mod:`workers.nlp.ner` (same window,
cached); :mod:`workers.nlp.dates` resolves each one against the publication date, or the
fetch date when the page gave none. Durations ("24 years") are left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workers.enrichers.support import skip_reason
from workers.nlp import ner
from workers.nlp.dates import resolve
from workers.settings import Settings


def anchor_date(article: dict[str, Any]) -> tuple[dt.date, str]:
    """(date the text was written, "published" or "fetched")."""
    published = article.get("published_at")
    if published:
        try:
            return dt.date.fromisoformat(published[:10]), "published"
        except ValueError:
            pass
    fetched = article["timestamps"]["fetched"]
    return dt.date.fromisoformat(fetched[:10]), "fetched"


class DatesEnricher:
    name = "dates"
    version = "1.0"

    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        ner.model()

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        if reason := skip_reason(article):
            return {"skipped": reason}
        anchor, source = anchor_date(article)
        mentions, _ = ner.entities(article["text"], self.max_chars)
        found = []
        for mention in mentions:
            if mention.label not in ("DATE", "TIME"):
                continue
            resolved = resolve(mention.text, anchor)
            if resolved is not None:
                found.append(
                    {
                        "text": mention.text,
                        "start": mention.start,
                        "end": mention.end,
                        "value": resolved.value,
                        "granularity": resolved.granularity,
                    }
                )
        return {"anchor": anchor.isoformat(), "anchor_source": source, "dates": found}
