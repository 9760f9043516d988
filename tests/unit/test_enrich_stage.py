"""workers.enrichment.stage and the enrichers (stats, language, fingerprint)."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.support.samples import clean_sample, message
from workers.enrichment.enrichers import REGISTRY, build_enrichers
from workers.enrichment.enrichers.fingerprint import MINHASH_SEED, FingerprintEnricher, content_hash
from workers.enrichment.enrichers.language import LanguageEnricher
from workers.enrichment.enrichers.stats import StatsEnricher
from workers.enrichment.stage import enrich_article, enrich_message
from workers.errors import StageError
from workers.records import contracts
from workers.settings import Settings

SETTINGS = Settings()
# The enrichers this file covers; the others have test files of their own.
BASIC = Settings(enrichers=["stats", "language", "fingerprint"])
CLEAN_TOPIC = "newsflow.articles-clean.v1"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

# --- stats -------------------------------------------------------------------------------------

# 3 paragraphs, 108 characters, 21 words as \w+ runs: "don't" and "5-2" are two each,
# "2024" and "Grüße" one each.
SMALL_TEXT = (
    "Grüße from the newsroom, don't panic.\n\n"
    "The council met on 3 June 2024 and voted 5-2.\n\n"
    "Nothing else happened."
)


def test_stats_on_a_small_text() -> None:
    stats = StatsEnricher(SETTINGS)({"text": SMALL_TEXT})
    assert stats == {
        "word_count": 21,
        "char_count": 108,
        "paragraph_count": 3,
        "reading_time_s": 5,  # 21 words * 60 s / 230 wpm = 5.48 s
    }


@pytest.mark.parametrize(
    ("words", "wpm", "seconds"),
    [
        (230, 230, 60),
        (460, 230, 120),
        (115, 230, 30),
        (1000, 230, 261),
        (100, 200, 30),
        (0, 230, 0),
    ],
)
def test_stats_reading_time(words: int, wpm: int, seconds: int) -> None:
    # paragraphs of (at most) ten words
    text = "\n\n".join(" ".join(["word"] * min(10, words - i)) for i in range(0, words, 10))
    stats = StatsEnricher(Settings(reading_words_per_minute=wpm))({"text": text})
    assert stats["word_count"] == words
    assert stats["paragraph_count"] == -(-words // 10)
    assert stats["reading_time_s"] == seconds


def test_stats_ignores_blank_blocks() -> None:
    stats = StatsEnricher(SETTINGS)({"text": "One.\n\n\n\n  \n\nTwo three."})
    assert stats["paragraph_count"] == 2
    assert stats["word_count"] == 3


# --- language ----------------------------------------------------------------------------------

ENGLISH = (
    "The city council approved a new budget on Tuesday evening after a long debate about "
    "road repairs, school funding and the future of the public library."
)
GERMAN = (
    "Der Stadtrat hat am Dienstagabend nach einer langen Debatte über Straßenreparaturen, "
    "die Finanzierung der Schulen und die Zukunft der Stadtbibliothek einen neuen Haushalt "
    "beschlossen."
)


@pytest.mark.parametrize(
    ("text", "title", "code", "title_code"),
    [
        (ENGLISH, "Council approves budget after long debate", "en", "en"),
        (GERMAN, "Stadtrat beschließt Haushalt nach langer Debatte", "de", "de"),
        (ENGLISH, "Stadtrat beschließt Haushalt nach langer Debatte", "en", "de"),
    ],
)
def test_language(text: str, title: str, code: str, title_code: str) -> None:
    result = LanguageEnricher(SETTINGS)({"text": text, "title": title})
    assert result["code"] == code
    assert result["title_code"] == title_code
    assert 0.5 < result["confidence"] <= 1.0
    assert 0.5 < result["title_confidence"] <= 1.0


def test_language_without_title_or_letters() -> None:
    result = LanguageEnricher(SETTINGS)({"text": "2024 — 5:2 (3:1)", "title": None})
    assert result == {"code": None, "confidence": 0.0, "title_code": None, "title_confidence": 0.0}


# --- fingerprint ---------------------------------------------------------------------------------

BASE = "Ein schöner Tag in Köln.\n\nDie Finanzierung ist gesichert: 5 € pro Person."


@pytest.mark.parametrize(
    "variant",
    [
        BASE,
        "  Ein  schöner Tag in Köln.\n\n\n\tDie Finanzierung ist gesichert: 5 € pro Person.\n",
        "Ein schöner Tag in Köln. Die Finanzierung ist gesichert: 5 € pro Person.",
        "Ein\u00a0schöner Tag in Köln.\r\nDie Finanzierung ist gesichert: 5\u2009€ pro Person.",
        # NFKC: decomposed umlauts, full-width digit
        "Ein scho\u0308ner Tag in Ko\u0308ln.\n\n"
        "Die Finanzierung ist gesichert: \uff15 € pro Person.",
    ],
)
def test_content_hash_ignores_whitespace_and_unicode_form(variant: str) -> None:
    assert content_hash(variant) == content_hash(BASE)


def test_content_hash_nfkc_ligature() -> None:
    assert content_hash("o\ufb03ce \u2460") == content_hash("office 1")


@pytest.mark.parametrize(
    "other",
    [
        BASE.replace("5 €", "6 €"),
        BASE.replace("Köln", "Bonn"),
        BASE.lower(),
        BASE + " Ende.",
    ],
)
def test_content_hash_differs_for_different_text(other: str) -> None:
    assert content_hash(other) != content_hash(BASE)


def test_content_hash_format() -> None:
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", content_hash(BASE))


def _similarity(a: list[int], b: list[int]) -> float:
    assert len(a) == len(b)
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


DROPPED = (
    "Putin is scheduled to meet Kim later on Wednesday, when they will sign agreements designed "
    "to deepen a relationship that has strengthened significantly since Russia\u2019s February "
    "2022 invasion of Ukraine."
)


def test_minhash_near_duplicates_and_distinct_articles() -> None:
    first = clean_sample("01")["text"]
    second = clean_sample("02")["text"]
    assert DROPPED in first
    edited = (
        first.replace(DROPPED, "")
        .replace("a warm welcome", "a hearty welcome")
        .replace("huge welcome banners", "enormous welcome banners")
        .replace("talked animatedly", "chatted cheerfully")
    )
    assert edited.count("hearty") == 1 and "enormous" in edited and "cheerfully" in edited

    enricher = FingerprintEnricher(SETTINGS)
    original, copy, other = (
        enricher({"text": text})["minhash"] for text in (first, edited, second)
    )
    for signature in (original, copy, other):
        assert signature["num_perm"] == SETTINGS.minhash_permutations == 128
        assert signature["seed"] == MINHASH_SEED
        assert signature["shingle_words"] == SETTINGS.shingle_words
        assert len(signature["hashvalues"]) == 128
        assert all(0 <= v <= 0xFFFFFFFF for v in signature["hashvalues"])

    assert _similarity(original["hashvalues"], copy["hashvalues"]) >= 0.5
    assert _similarity(original["hashvalues"], other["hashvalues"]) <= 0.1
    # Deterministic: the same text always gives the same signature (comparable across workers).
    assert enricher({"text": first})["minhash"] == original
    assert FingerprintEnricher(SETTINGS)({"text": first})["minhash"] == original


def test_minhash_follows_settings() -> None:
    settings = Settings(minhash_permutations=128, shingle_words=5)
    signature = FingerprintEnricher(settings)({"text": ENGLISH})["minhash"]
    assert signature["num_perm"] == 128
    assert signature["shingle_words"] == 5
    assert len(signature["hashvalues"]) == 128


# --- enrich_message ------------------------------------------------------------------------------


def _enrich(article: dict[str, Any], settings: Settings = SETTINGS) -> dict[str, Any]:
    msg = message(article, topic=CLEAN_TOPIC, partition=4, offset=17)
    return enrich_message(msg, settings, build_enrichers(settings))


@pytest.mark.parametrize("prefix", ["01", "07"])
def test_enrich_message(prefix: str) -> None:
    article = clean_sample(prefix)
    record = _enrich(article, BASIC)

    assert contracts.schema_errors(record, "articles-enriched.v1") == []
    for field, value in article.items():
        if field not in ("timestamps", "lineage"):
            assert record[field] == value, field
    assert record["timestamps"] == {
        **article["timestamps"],
        "enriched": record["timestamps"]["enriched"],
    }
    assert RFC3339_UTC.match(record["timestamps"]["enriched"])
    assert record["lineage"] == [
        *article["lineage"],
        {"stage": "enrich", "topic": CLEAN_TOPIC, "partition": 4, "offset": 17},
    ]
    assert record["enrichers"] == {
        "stats": StatsEnricher.version,
        "language": LanguageEnricher.version,
        "fingerprint": FingerprintEnricher.version,
    }
    enrichment = record["enrichment"]
    assert list(enrichment) == ["stats", "language", "fingerprint"]
    assert enrichment["stats"] == StatsEnricher(SETTINGS)(article)
    assert enrichment["language"]["code"] == article["language"]
    assert enrichment["fingerprint"]["content_hash"] == content_hash(article["text"])


def test_enrich_only_stats() -> None:
    settings = Settings(enrichers=["stats"])
    record = _enrich(clean_sample("02"), settings)
    assert contracts.schema_errors(record, "articles-enriched.v1") == []
    assert list(record["enrichment"]) == ["stats"]
    assert record["enrichers"] == {"stats": "1.0"}


def test_enrich_with_no_enrichers_is_still_valid() -> None:
    record = _enrich(clean_sample("02"), Settings(enrichers=[]))
    assert contracts.schema_errors(record, "articles-enriched.v1") == []
    assert record["enrichment"] == {} and record["enrichers"] == {}


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("stats,language", ["stats", "language"]),
        (" stats , language ,", ["stats", "language"]),
        ("fingerprint", ["fingerprint"]),
        ('["language", "stats"]', ["language", "stats"]),
    ],
)
def test_enrichers_from_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, names: list[str]
) -> None:
    monkeypatch.setenv("NEWSFLOW_ENRICHERS", value)
    settings = Settings()
    assert settings.enrichers == names
    assert [enricher.name for enricher in build_enrichers(settings)] == names


def test_default_enrichers_are_all_registered() -> None:
    assert [e.name for e in build_enrichers(SETTINGS)] == list(REGISTRY)
    assert {"stats", "language", "fingerprint"} <= set(REGISTRY)


def test_unknown_enricher_fails_at_build_time() -> None:
    with pytest.raises(ValueError, match="sentiment"):
        build_enrichers(Settings(enrichers=["stats", "sentiment"]))


class _Exploding:
    name = "exploding"
    version = "0.1"
    languages = None
    shared_state = False

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero in the model")


def test_enricher_that_raises_is_enrichment_failed() -> None:
    article = clean_sample("02")
    enrichers = [StatsEnricher(SETTINGS), _Exploding()]
    with pytest.raises(StageError) as caught:
        enrich_article(article, enrichers, message(None))
    assert caught.value.reason == "enrichment_failed"
    assert caught.value.error_class == "ZeroDivisionError"
    assert "exploding" in caught.value.message
    assert "division by zero in the model" in caught.value.message


def test_enrich_message_rejects_invalid_input() -> None:
    article = clean_sample("02")
    del article["text"]
    with pytest.raises(StageError) as caught:
        enrich_message(message(orjson.dumps(article)), SETTINGS, build_enrichers(SETTINGS))
    assert caught.value.reason == "schema_violation"
    assert "text" in caught.value.message


def test_enrich_message_oversize() -> None:
    settings = Settings(max_message_bytes=1024)
    with pytest.raises(StageError) as caught:
        enrich_message(message(clean_sample("02")), settings, build_enrichers(settings))
    assert caught.value.reason == "oversize"
