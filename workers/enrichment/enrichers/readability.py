"""Readability of the text: Flesch reading ease and Flesch-Kincaid grade.

Both formulas are English-only; syllables are counted by vowel groups (with the silent
final "e" and "-le" rules), which is within one syllable of a dictionary for most words and
costs microseconds. Reading time is in ``stats``.
"""

from __future__ import annotations

import re
from typing import Any

from workers.enrichment.enrichers.base import ENGLISH, Enricher
from workers.nlp.sentences import sentences

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # silent final e: "make", "state"
    return max(count, 1)


class ReadabilityEnricher(Enricher, name="readability", version="1.0", languages=ENGLISH):
    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        words = _WORD.findall(article["text"])
        sentence_count = max(len(sentences(article["text"])), 1)
        word_count = max(len(words), 1)
        syllable_count = sum(syllables(w) for w in words)
        words_per_sentence = word_count / sentence_count
        syllables_per_word = syllable_count / word_count
        return {
            "flesch_reading_ease": round(
                206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word, 1
            ),
            "flesch_kincaid_grade": round(
                0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59, 1
            ),
            "sentences": sentence_count,
            "words_per_sentence": round(words_per_sentence, 1),
            "syllables_per_word": round(syllables_per_word, 2),
        }
