"""Keyphrases beyond English: YAKE reads each article with its own language's stop words, so
no phrase starts or ends with an article, a preposition or a conjunction of that language."""

from __future__ import annotations

import pytest
import yake_rust

from tests.support.samples import clean_sample
from workers.enrichment.enrichers.keyphrases import MAX_WORDS, KeyphrasesEnricher
from workers.settings import Settings

# Words that begin or end no keyphrase of their language.
FUNCTION_WORDS = {
    "de": {
        "der",
        "die",
        "das",
        "des",
        "dem",
        "den",
        "und",
        "ein",
        "eine",
        "vor",
        "allem",
        "im",
        "in",
        "mit",
        "von",
        "zu",
        "ist",
    },
    "es": {
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "y",
        "en",
        "por",
        "que",
        "un",
        "una",
        "con",
        "se",
    },
    "fr": {
        "le",
        "la",
        "les",
        "des",
        "de",
        "du",
        "et",
        "en",
        "un",
        "une",
        "que",
        "qui",
        "au",
        "entre",
    },
    "it": {
        "il",
        "lo",
        "la",
        "gli",
        "le",
        "di",
        "del",
        "e",
        "in",
        "un",
        "una",
        "che",
        "per",
        "con",
        "ieri",
    },
    "nl": {"de", "het", "een", "en", "van", "in", "op", "met", "dat", "die", "is", "heeft"},
    "pt": {
        "o",
        "a",
        "os",
        "as",
        "de",
        "do",
        "da",
        "e",
        "em",
        "um",
        "uma",
        "que",
        "por",
        "com",
        "ontem",
        "para",
    },
    "ru": {"и", "в", "на", "не", "что", "с", "по", "к", "как", "из", "для", "во"},  # noqa: RUF001
}
# Hand-written news paragraphs for the languages without a sample page.
TEXTS = {
    "it": (
        "Il consiglio comunale di Bologna ha approvato ieri il nuovo piano per le piste "
        "ciclabili. Il piano prevede trenta chilometri di nuove piste ciclabili entro il 2026 "
        "e una riduzione del traffico nel centro storico. Secondo il sindaco, le piste "
        "ciclabili renderanno la città più sicura per i ciclisti e per i pedoni. I "
        "commercianti del centro storico temono però una perdita di clienti durante i lavori."
    ),
    "nl": (
        "De gemeenteraad van Utrecht heeft gisteren het nieuwe plan voor de fietspaden "
        "goedgekeurd. Het plan voorziet in dertig kilometer nieuwe fietspaden tot 2026 en een "
        "vermindering van het verkeer in de binnenstad. Volgens de burgemeester maken de nieuwe "
        "fietspaden de stad veiliger voor fietsers en voetgangers. De winkeliers in de "
        "binnenstad vrezen echter een verlies van klanten tijdens de werkzaamheden."
    ),
    "pt": (
        "A câmara municipal de Lisboa aprovou ontem o novo plano para as ciclovias. O plano "
        "prevê trinta quilómetros de novas ciclovias até 2026 e uma redução do trânsito no "
        "centro histórico. Segundo o presidente da câmara, as novas ciclovias vão tornar a "
        "cidade mais segura para os ciclistas e para os peões. Os comerciantes do centro "
        "histórico temem, no entanto, uma perda de clientes durante as obras."
    ),
    "ru": (
        "Городской совет Казани вчера одобрил новый план строительства велосипедных дорожек. "
        "План предусматривает тридцать километров новых велосипедных дорожек к 2026 году и "
        "сокращение движения в историческом центре. По словам мэра, новые велосипедные "
        "дорожки сделают город безопаснее для велосипедистов и пешеходов. Владельцы магазинов "
        "в историческом центре, однако, опасаются потери клиентов во время работ."
    ),
}
SAMPLES = {"de": "07", "es": "05", "fr": "08"}


def text_of(language: str) -> str:
    if language in SAMPLES:
        article = clean_sample(SAMPLES[language])
        assert article["language"] == language
        return article["text"]
    return TEXTS[language]


def junk(phrases: list[str], language: str) -> list[str]:
    edges = FUNCTION_WORDS[language]
    return [p for p in phrases if p.split()[0].lower() in edges or p.split()[-1].lower() in edges]


@pytest.fixture(scope="module")
def enricher() -> KeyphrasesEnricher:
    return KeyphrasesEnricher(Settings())


@pytest.mark.parametrize("language", sorted(FUNCTION_WORDS))
def test_no_phrase_starts_or_ends_with_a_function_word(enricher, language) -> None:
    result = enricher({"text": text_of(language), "language": language})
    phrases = [p["phrase"] for p in result["phrases"]]
    assert len(phrases) == Settings().keyphrases_count
    assert junk(phrases, language) == []
    # the article's own stop words, not English ones
    assert FUNCTION_WORDS[language] & enricher.yakes[language].stopwords


@pytest.mark.parametrize("language", ["de", "es", "fr", "it", "nl", "pt"])
def test_english_stop_words_would_leave_junk(language) -> None:
    """The check above can fail: with English stop words the same texts give phrases such as
    "vor allem eines", "por primera vez", "des fagots oubliés". (Russian: YAKE drops the
    Cyrillic function words of this text with English stop words too.)"""
    english = yake_rust.Yake(language="en", ngrams=MAX_WORDS)
    phrases = [p for p, _ in english.get_n_best(text_of(language), n=10)]
    assert junk(phrases, language)
