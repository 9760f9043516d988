"""Readability of the text: for English, Flesch reading ease and Flesch-Kincaid grade; for
German, Spanish, French, Italian, Dutch, Portuguese and Russian, the reading-ease formula
defined for that language (never an English formula on another language: its constants
were fitted to English word and sentence lengths).

English syllables are counted by vowel groups (with the silent final "e" and "-le" rules),
which is within one syllable of a dictionary for most words and costs microseconds; the
other languages' by their own spelling rules (:mod:`workers.nlp.syllables`). Reading time is
in ``stats``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from workers.enrichment.enrichers.base import ENGLISH, Enricher
from workers.nlp import syllables as other_syllables
from workers.nlp.sentences import sentences

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?")
_WORD_ANY = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")

# Each language's formula: (name, reading ease from words/sentence, syllables/word and
# letters/word). All run from about 0 (hard) to 100 (easy).
FORMULAS: dict[str, tuple[str, Callable[[float, float, float], float]]] = {
    # Amstad (1978), Flesch for German
    "de": ("amstad", lambda wps, spw, lpw: 180 - wps - 58.5 * spw),
    # Szigriszt-Pazos (1993), the perspicuity index read on the INFLESZ scale
    "es": ("szigriszt-pazos", lambda wps, spw, lpw: 206.835 - 62.3 * spw - wps),
    # Kandel and Moles (1958), Flesch for French
    "fr": ("kandel-moles", lambda wps, spw, lpw: 207 - 1.015 * wps - 73.6 * spw),
    # Gulpease (Lucisano and Piemontese, 1988): letters, not syllables
    "it": ("gulpease", lambda wps, spw, lpw: 89 + 300 / wps - 10 * lpw),
    # Douma (1960), Flesch for Dutch
    "nl": ("flesch-douma", lambda wps, spw, lpw: 206.835 - 0.93 * wps - 77 * spw),
    # Martins et al. (1996): Flesch plus 42 for Brazilian Portuguese
    "pt": ("flesch-martins", lambda wps, spw, lpw: 248.835 - 1.015 * wps - 84.6 * spw),
    # Oborneva (2006), Flesch for Russian
    "ru": ("oborneva", lambda wps, spw, lpw: 206.835 - 1.3 * wps - 60.1 * spw),
}


def syllables(word: str) -> int:
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # silent final e: "make", "state"
    return max(count, 1)


class ReadabilityEnricher(
    Enricher, name="readability", version="1.0", languages=ENGLISH | frozenset(FORMULAS)
):
    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        language = article.get("language")
        if language in FORMULAS:
            return other_language(article["text"], language)
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


def other_language(text: str, language: str) -> dict[str, Any]:
    """The reading ease of ``text`` by the formula of ``language``, with what it counted."""
    name, formula = FORMULAS[language]
    words = _WORD_ANY.findall(text)
    sentence_count = max(len(sentences(text, language)), 1)
    word_count = max(len(words), 1)
    words_per_sentence = word_count / sentence_count
    syllables_per_word = sum(other_syllables.syllables(w, language) for w in words) / word_count
    letters_per_word = sum(len(w) - w.count("'") - w.count("\u2019") for w in words) / word_count
    return {
        "formula": name,
        "reading_ease": round(formula(words_per_sentence, syllables_per_word, letters_per_word), 1),
        "sentences": sentence_count,
        "words_per_sentence": round(words_per_sentence, 1),
        "syllables_per_word": round(syllables_per_word, 2),
    }
