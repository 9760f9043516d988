"""Readability beyond English: each language gets the reading-ease formula defined for it,
named in the record, with syllables counted by its own spelling rules."""

from __future__ import annotations

import pytest

from workers.enrichment.enrichers.readability import ReadabilityEnricher
from workers.nlp.sentences import sentences
from workers.nlp.syllables import syllables
from workers.settings import Settings


@pytest.mark.parametrize(
    ("language", "text", "formula", "expected"),
    [
        # Der(1) Hund(1) läuft(1) schnell(1) / Die(1) Katze(2) schläft(1): 7 words, 8
        # syllables, 2 sentences. 180 - 3.5 - 58.5 * 8/7 = 109.64
        ("de", "Der Hund läuft schnell. Die Katze schläft.", "amstad", 109.6),
        # La(1) casa(2) es(1) grande(2) / El(1) día(2, í in hiatus) fue(1) bueno(2): 8 words,
        # 12 syllables. 206.835 - 62.3 * 1.5 - 4 = 109.385
        ("es", "La casa es grande. El día fue bueno.", "szigriszt-pazos", 109.4),
        # Le chat dort / Il aime(1, mute e) la mesure(2, mute e): 7 words, 8 syllables.
        # 207 - 1.015 * 3.5 - 73.6 * 8/7 = 119.33
        ("fr", "Le chat dort. Il aime la mesure.", "kandel-moles", 119.3),
        # 6 words, 24 letters (2+5+5+2+4+6), 2 sentences: 89 + (300 * 2 - 10 * 24) / 6 = 149
        ("it", "Il gatto dorme. Il cane mangia.", "gulpease", 149.0),
        # De kat slaapt in België(3, ë starts a syllable) / De hond eet: 8 words, 10
        # syllables. 206.835 - 0.93 * 4 - 77 * 1.25 = 106.865
        ("nl", "De kat slaapt in België. De hond eet.", "flesch-douma", 106.9),
        # O(1) gato(2) dorme(2) / O(1) cão(1, ão one) come(2): 6 words, 9 syllables.
        # 248.835 - 1.015 * 3 - 84.6 * 1.5 = 118.89
        ("pt", "O gato dorme. O cão come.", "flesch-martins", 118.9),
        # Кошка(2) спит(1) / Собака(3) ест(1): 4 words, 7 syllables.
        # 206.835 - 1.3 * 2 - 60.1 * 1.75 = 99.06
        ("ru", "Кошка спит. Собака ест.", "oborneva", 99.1),
    ],
)
def test_each_language_has_its_own_formula(language, text, formula, expected) -> None:
    result = ReadabilityEnricher(Settings())({"text": text, "language": language})
    assert result["formula"] == formula
    assert result["reading_ease"] == expected
    assert result["sentences"] == 2
    assert "flesch_reading_ease" not in result  # no English formula on another language


@pytest.mark.parametrize(
    ("word", "language", "count"),
    [
        ("Abend", "de", 2),  # a hyphenation dictionary never splits off the "A"
        ("Rechenzentrum", "de", 4),
        ("aéreo", "es", 4),  # a-é-re-o: strong vowels in hiatus
        ("ciudad", "es", 2),
        ("paese", "it", 3),
        ("não", "pt", 1),
        ("poeta", "pt", 3),
        ("tables", "fr", 1),  # mute -es
        ("année", "fr", 2),  # -ée is heard
        ("naïf", "fr", 2),
        ("België", "nl", 3),
        ("здравствуйте", "ru", 3),
    ],
)
def test_syllables_follow_each_languages_spelling(word, language, count) -> None:
    assert syllables(word, language) == count


def test_sentences_of_other_languages_start_with_any_capital_and_keep_their_titles() -> None:
    text = (
        "Das ist gut. Über alles wird geredet. „Ja“, sagte Dr. Müller. Es kostet 2,4 Mrd. Euro. "
        "¿Qué pasa? «Oui», dit M. Macron. Путин приехал. Он сказал."
    )
    assert sentences(text, "de") == [
        "Das ist gut.",
        "Über alles wird geredet.",
        "„Ja“, sagte Dr. Müller.",
        "Es kostet 2,4 Mrd. Euro.",
        "¿Qué pasa?",
        "«Oui», dit M. Macron.",
        "Путин приехал.",
        "Он сказал.",
    ]
