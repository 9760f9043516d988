"""Tone: VADER sentiment averaged over the sentences of the text.

VADER (vaderSentiment; lexicon and rules, bundled) scores each sentence from -1 (negative) to
+1 (positive) as ``compound``; the record carries the mean of each score over the sentences,
as GDELT's tone is an average over the document rather than a verdict on one long string.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from workers.enrichment.enrichers.base import ENGLISH, Enricher
from workers.nlp.sentences import sentences
from workers.settings import Settings

VERSION = f"1.0+vadersentiment-{metadata.version('vaderSentiment')}"
SCORES = ("compound", "positive", "negative", "neutral")
_VADER_KEYS = {"compound": "compound", "positive": "pos", "negative": "neg", "neutral": "neu"}


class ToneEnricher(Enricher, name="tone", version=VERSION, languages=ENGLISH):
    def __init__(self, settings: Settings):
        self.analyzer = SentimentIntensityAnalyzer()

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        parts = sentences(article["text"])
        totals = dict.fromkeys(SCORES, 0.0)
        for sentence in parts:
            scores = self.analyzer.polarity_scores(sentence)
            for name in SCORES:
                totals[name] += scores[_VADER_KEYS[name]]
        count = max(len(parts), 1)
        return {"sentences": len(parts), **{k: round(v / count, 4) for k, v in totals.items()}}
