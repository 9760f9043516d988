"""Language, keyphrases, tone and readability on the seed articles."""

from __future__ import annotations

import re

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from tests.support.articles import (
    KIM_IN_VLADIVOSTOK,
    PUTIN_IN_PYONGYANG,
    sample_article,
    seed_article,
)
from workers.enrichment.enrichers.keyphrases import KeyphrasesEnricher, protect_names
from workers.enrichment.enrichers.language import LanguageEnricher
from workers.enrichment.enrichers.readability import ReadabilityEnricher, syllables
from workers.enrichment.enrichers.tone import ToneEnricher
from workers.nlp.sentences import sentences
from workers.settings import Settings

SETTINGS = Settings()
BOTH = [PUTIN_IN_PYONGYANG, KIM_IN_VLADIVOSTOK]


@pytest.mark.parametrize("make", [seed_article, sample_article], ids=["seed-text", "sample-html"])
@pytest.mark.parametrize("sample", BOTH)
def test_language_of_text_and_title(make, sample) -> None:
    result = LanguageEnricher(SETTINGS)(make(sample))
    assert (result["code"], result["title_code"]) == ("en", "en")
    assert result["confidence"] > 0.9


@pytest.mark.parametrize("make", [seed_article, sample_article], ids=["seed-text", "sample-html"])
def test_keyphrases_keep_entity_names_whole(make) -> None:
    enricher = KeyphrasesEnricher(SETTINGS)
    kim = [p["phrase"] for p in enricher(make(KIM_IN_VLADIVOSTOK))["phrases"]]
    putin = [p["phrase"] for p in enricher(make(PUTIN_IN_PYONGYANG))["phrases"]]
    assert "Kim Jong Un" in kim
    assert "Vladimir Putin" in putin
    for phrase in kim + putin:
        assert not re.search(r"\bKim Jong\b(?! Un)", phrase), phrase
        assert not re.search(r"\bJong Un\b", phrase.replace("Kim Jong Un", "")), phrase
    assert len(kim) == len(putin) == SETTINGS.keyphrases_count


def test_keyphrases_with_equal_scores_come_in_one_order() -> None:
    """yake-rust returns tied scores in hash order, which differs between processes; a
    redelivered page must get the same record, so ties are ordered by phrase."""
    enricher = KeyphrasesEnricher(SETTINGS)
    ties = 0
    for prefix in ("09", "03", "06", "10"):
        phrases = enricher(sample_article(prefix))["phrases"]
        order = [(p["score"], p["phrase"]) for p in phrases]
        assert order == sorted(order), prefix
        ties += len(order) - len({score for score, _ in order})
    assert ties > 0  # the pages do have ties (sample 09: two pairs)


@pytest.mark.parametrize("prefix", ["01", "03", "06", "09", "10"])
def test_keyphrases_asked_a_few_at_a_time_equal_those_from_every_candidate(prefix: str) -> None:
    """Asking yake-rust for a few more than needed (and more while a tie straddles the cut)
    gives the phrases that ranking every candidate gives; first asks of 1 and 2 force the
    asking-again path."""
    enricher = KeyphrasesEnricher(SETTINGS)
    text, joined = protect_names(sample_article(prefix)["text"], SETTINGS.ner_max_chars)
    every = enricher.best(text, joined, first_ask=1_000_000)
    assert len(every) == SETTINGS.keyphrases_count
    for first_ask in (None, 1, 2, SETTINGS.keyphrases_count):
        assert enricher.best(text, joined, first_ask=first_ask) == every, first_ask


def test_names_are_joined_for_yake_and_restored() -> None:
    text = "Kim Jong Un met Putin. Kim left."
    protected, joined = protect_names(text, 3000)
    assert protected == "Kim-Jong-Un met Putin. Kim-Jong-Un left."
    assert joined == {"kim-jong-un": "Kim Jong Un", "putin": "Putin"}


def test_tone_is_the_mean_of_vader_per_sentence() -> None:
    text = "The summit was a great success. The war is a terrible tragedy. Trains run daily."
    result = ToneEnricher(SETTINGS)({"text": text, "language": "en"})
    vader = SentimentIntensityAnalyzer()
    per_sentence = [vader.polarity_scores(s)["compound"] for s in sentences(text)]
    assert len(per_sentence) == 3
    assert result["sentences"] == 3
    assert result["compound"] == round(sum(per_sentence) / 3, 4)
    # the whole text at once would give another (longer-text) verdict
    assert result["compound"] != round(vader.polarity_scores(text)["compound"], 4)


@pytest.mark.parametrize(("sample", "count"), [(PUTIN_IN_PYONGYANG, 16), (KIM_IN_VLADIVOSTOK, 11)])
def test_tone_of_the_cleaned_pages(sample, count) -> None:
    result = ToneEnricher(SETTINGS)(sample_article(sample))
    assert result["sentences"] == count
    assert -1 <= result["compound"] <= 1
    total = result["positive"] + result["negative"] + result["neutral"]
    assert total == pytest.approx(1, abs=0.01)


def test_readability_by_the_flesch_formulas() -> None:
    text = "The cat sat on the mat. The dog ran to the big old gate."
    result = ReadabilityEnricher(SETTINGS)({"text": text, "language": "en"})
    # 14 words, 2 sentences, 14 syllables ("gate": silent e)
    assert result == {
        "flesch_reading_ease": round(206.835 - 1.015 * 7 - 84.6 * 1, 1),
        "flesch_kincaid_grade": round(0.39 * 7 + 11.8 * 1 - 15.59, 1),
        "sentences": 2,
        "words_per_sentence": 7.0,
        "syllables_per_word": 1.0,
    }


@pytest.mark.parametrize(
    ("word", "count"), [("cat", 1), ("state", 1), ("table", 2), ("animatedly", 5), ("agreement", 3)]
)
def test_syllables(word: str, count: int) -> None:
    assert syllables(word) == count


def test_sentences_do_not_end_at_abbreviations() -> None:
    assert sentences("Mr. Putin arrived. He met Dr. Kim in the U.S. on Tuesday.\n\nNext") == [
        "Mr. Putin arrived.",
        "He met Dr. Kim in the U.S. on Tuesday.",
        "Next",
    ]


def test_keyphrases_read_a_long_text_up_to_max_chars() -> None:
    """A page near the size limit gives millions of characters; YAKE reads the opening
    MAX_CHARS of them (its memory grows with the text), so a phrase only the tail repeats is
    not a keyphrase."""
    from workers.enrichment.enrichers.keyphrases import MAX_CHARS, opening

    story = sample_article("03")
    body = "\n".join([story["text"]] * (MAX_CHARS // len(story["text"]) + 1))
    long = {**story, "text": body + " Quantum zebra crossings." * 5000}
    enricher = KeyphrasesEnricher(SETTINGS)
    phrases = enricher(long)["phrases"]
    assert not any("zebra" in p["phrase"].lower() for p in phrases)
    assert phrases == enricher({**story, "text": opening(body, MAX_CHARS)})["phrases"]
    assert opening("one two three", 7) == "one two"
    assert opening("one two three", 100) == "one two three"
