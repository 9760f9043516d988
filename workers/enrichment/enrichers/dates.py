"""Dates mentioned in the text, resolved against the publication date.

Date and time expressions come from the NER pass of :mod:`workers.nlp.ner` (same window,
cached) and, beyond that window, from their shape alone ("last September", "Tuesday night");
:mod:`workers.nlp.dates` resolves each one against the publication date, or the fetch date
when the page gave none. Durations ("24 years") are left out.

German, Spanish, French, Italian, Dutch, Portuguese and Russian expressions are found by
their shape from dateparser's locale data (:mod:`workers.nlp.dates_locale`, no NER: the
English model does not read them), written the English way and resolved by the same rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workers.enrichment.enrichers.base import ENGLISH, Enricher
from workers.nlp import dates_locale, ner
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


class DatesEnricher(
    Enricher, name="dates", version="1.0", languages=ENGLISH | dates_locale.LANGUAGES
):
    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        ner.model()
        for language in dates_locale.LANGUAGES:
            dates_locale.locale(language)  # compiled at start-up, not on the first article

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        anchor, source = anchor_date(article)
        text = article["text"]
        language = article.get("language")
        if language in dates_locale.LANGUAGES:
            expressions = dates_locale.find(text, language)
        else:
            expressions = self.english(text)
        found = []
        for start, end, expression, english in expressions:
            resolved = resolve(english, anchor)
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

    def english(self, text: str) -> list[tuple[int, int, str, str]]:
        """NER's date and time expressions in its window, shapes alone beyond it."""
        mentions, window_end = ner.entities(text, self.max_chars)
        expressions = [(m.start, m.end, m.text) for m in mentions if m.label in ("DATE", "TIME")]
        expressions += find_expressions(text, window_end)
        return [(start, end, written, written) for start, end, written in expressions]
