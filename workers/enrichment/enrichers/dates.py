"""Dates mentioned in the text, resolved against the publication date.

Date and time expressions come from the NER pass of :mod:`workers.nlp.ner` (same window,
cached) and, beyond that window, from their shape alone ("last September", "Tuesday night");
:mod:`workers.nlp.dates` resolves each one against the publication date, or the fetch date
when the page gave none. Durations ("24 years") are left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workers.enrichment.enrichers.base import ENGLISH, Enricher
from workers.nlp import ner
from workers.nlp.dates import find_expressions, resolve
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


class DatesEnricher(Enricher, name="dates", version="1.0", languages=ENGLISH):
    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        ner.model()

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        anchor, source = anchor_date(article)
        text = article["text"]
        mentions, window_end = ner.entities(text, self.max_chars)
        expressions = [(m.start, m.end, m.text) for m in mentions if m.label in ("DATE", "TIME")]
        expressions += find_expressions(text, window_end)
        found = []
        for start, end, expression in expressions:
            resolved = resolve(expression, anchor)
            if resolved is not None:
                found.append(
                    {
                        "text": expression,
                        "start": start,
                        "end": end,
                        "value": resolved.value,
                        "granularity": resolved.granularity,
                    }
                )
        return {"anchor": anchor.isoformat(), "anchor_source": source, "dates": found}
