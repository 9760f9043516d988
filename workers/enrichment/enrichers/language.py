"""Language of the text and of the title, with the model's confidence."""

from __future__ import annotations

from typing import Any

from workers.enrichment.enrichers.base import ANY_LANGUAGE, Enricher
from workers.nlp import langid


class LanguageEnricher(
    Enricher, name="language", version="fasttext-lid.176-lite/1.0", languages=ANY_LANGUAGE
):
    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        code, confidence = langid.detect(article["text"])
        title_code, title_confidence = langid.detect(article.get("title"))
        return {
            "code": code,
            "confidence": confidence,
            "title_code": title_code,
            "title_confidence": title_confidence,
        }
