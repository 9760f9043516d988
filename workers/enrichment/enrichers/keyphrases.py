"""Keyphrases of the text (YAKE, via the yake-rust binding), entity names kept whole.

YAKE scores word n-grams by position, frequency and spread; it knows nothing of names and
would offer "Kim Jong" or "Putin North". So before scoring, every mention of an entity
cluster (:mod:`workers.nlp.clusters`) is replaced by its canonical name with hyphens for
spaces ("Kim" → "Kim-Jong-Un"), which YAKE treats as one word; phrases are mapped back and
merged afterwards. Lower scores are better (YAKE's convention).

yake-rust ships stop words for each language it reads; the article's language chooses them
(with English ones, German phrases start and end with "die", "vor allem", "des").
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import yake_rust

from workers.enrichment.enrichers.base import Enricher
from workers.nlp import ner
from workers.nlp.clusters import find_clusters
from workers.settings import Settings

VERSION = f"1.0+yake-rust-{metadata.version('yake-rust')}"
MAX_WORDS = 3
# YAKE's memory and time grow with the text (about 100 MiB and 5 s CPU for the 4.3 million
# characters of a page near NEWSFLOW_MAX_HTML_BYTES). A news story is far shorter than this,
# and YAKE favours early phrases anyway: longer texts are read up to here.
MAX_CHARS = 100_000
# The languages of yake-rust's stop-word lists among those newsflow serves (it has more).
LANGUAGES = frozenset({"en", "de", "es", "fr", "it", "nl", "pt", "ru"})


def protect_names(text: str, max_chars: int, language: str = "en") -> tuple[str, dict[str, str]]:
    """``text`` with every entity mention replaced by its joined canonical name, and the map
    from joined names back to names."""
    replacements: list[tuple[int, int, str]] = []
    joined: dict[str, str] = {}
    for item in find_clusters(text, max_chars, language):
        name = item.name
        token = "-".join(name.split())
        joined[token.lower()] = name
        replacements.extend((m.start, m.end, token) for m in item.mentions)
    pieces, position = [], 0
    for start, end, token in sorted(replacements):
        if start < position:
            continue  # overlapping mentions: the first one wins
        pieces += [text[position:start], token]
        position = end
    pieces.append(text[position:])
    return "".join(pieces), joined


def opening(text: str, max_chars: int) -> str:
    """``text`` up to ``max_chars``, cut at the last space before it (not inside a word)."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars + 1)
    return text[: cut if cut > 0 else max_chars]


def restore_names(phrase: str, joined: dict[str, str]) -> str:
    return " ".join(joined.get(word.lower(), word) for word in phrase.split())


class KeyphrasesEnricher(Enricher, name="keyphrases", version=VERSION, languages=LANGUAGES):
    def __init__(self, settings: Settings):
        self.count = settings.keyphrases_count
        self.max_chars = settings.ner_max_chars
        self.yakes = {code: yake_rust.Yake(language=code, ngrams=MAX_WORDS) for code in LANGUAGES}
        ner.model()

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        language = article.get("language") or "en"
        language = language if language in LANGUAGES else "en"
        text, joined = protect_names(article["text"], self.max_chars, language)
        return {"phrases": self.best(opening(text, MAX_CHARS), joined, language=language)}

    def best(
        self,
        text: str,
        joined: dict[str, str],
        first_ask: int | None = None,
        language: str = "en",
    ) -> list:
        """The ``count`` best phrases, ordered by the published (rounded) score, then the
        phrase: yake-rust sums in hash order, which differs between processes, so equal
        scores come in any order and differ in their last bits, and a redelivered page must
        get the same record. Asking yake-rust for every candidate would settle the order but
        costs 4x (its de-duplication compares each one with those kept), so it is asked for
        a few more than needed, and for more only while a tie could straddle the cut."""
        ask = first_ask or 2 * self.count + 8
        while True:
            candidates = self.yakes[language].get_n_best(text, n=ask)
            ranked = sorted(
                (round(float(score), 6), restore_names(phrase, joined))
                for phrase, score in candidates
            )
            phrases: dict[str, dict[str, Any]] = {}
            for score, phrase in ranked:
                phrases.setdefault(phrase.lower(), {"phrase": phrase, "score": score})
            kept = list(phrases.values())[: self.count]
            # Done when yake-rust had no more, or when every phrase it did not return (all
            # scoring at least its worst returned one) scores worse than the worst kept.
            if len(candidates) < ask or (
                len(kept) == self.count and kept[-1]["score"] < ranked[-1][0]
            ):
                return kept
            ask *= 4
