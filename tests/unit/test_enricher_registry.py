"""The enricher plug-ins as a whole: registry, versions, switching off, other languages, and
the sink contract for every field they write."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.support.articles import PUTIN_IN_PYONGYANG, sample_article
from workers.enrichment.enrichers import REGISTRY, build_enrichers
from workers.enrichment.enrichers.base import Enricher
from workers.records import contracts
from workers.records.message import InputMessage
from workers.runtime.processor import StageProcessor
from workers.settings import Settings

# Enrichers with a declared list of languages: none of them reads Japanese.
DECLARED_LANGUAGES = ["entities", "places", "keyphrases", "dates", "tone", "readability"]


def enrich(settings: Settings, clean_value: bytes) -> dict[str, Any]:
    outgoing = StageProcessor("enrich", settings).process(InputMessage(clean_value))
    record = orjson.loads(outgoing.value)
    assert outgoing.outcome == "ok", record
    return record


def test_the_default_stack_is_every_registered_enricher() -> None:
    assert sorted(Settings().enrichers) == sorted(REGISTRY)


def test_every_enricher_has_its_own_version_in_the_record(redis_prefix: str) -> None:
    settings = Settings(dedup_key_prefix=redis_prefix)
    record = enrich(settings, orjson.dumps(sample_article(PUTIN_IN_PYONGYANG)))
    assert list(record["enrichment"]) == settings.enrichers
    assert list(record["enrichers"]) == settings.enrichers
    assert all(record["enrichers"].values())
    assert record["enrichers"]["entities"].startswith("1.4+spacy-3.8")
    assert contracts.schema_errors(record, "articles-enriched.v1") == []


def test_an_enricher_must_declare_the_languages_it_reads() -> None:
    with pytest.raises(TypeError, match="languages"):

        class Undeclared(Enricher, name="undeclared", version="0.1"):  # type: ignore[call-arg]
            def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
                return {}


def test_enrichers_can_be_switched_off() -> None:
    settings = Settings(enrichers=["stats", "language"])
    assert [e.name for e in build_enrichers(settings)] == ["stats", "language"]
    record = enrich(settings, orjson.dumps(sample_article(PUTIN_IN_PYONGYANG)))
    assert set(record["enrichment"]) == set(record["enrichers"]) == {"stats", "language"}


def test_enrichers_skip_languages_they_do_not_read_and_say_why() -> None:
    japanese = {**sample_article(PUTIN_IN_PYONGYANG), "language": "ja"}
    settings = Settings(enrichers=[*DECLARED_LANGUAGES, "stats"])
    record = enrich(settings, orjson.dumps(japanese))
    for name in DECLARED_LANGUAGES:
        assert record["enrichment"][name] == {"skipped": "language ja not supported"}
    assert record["enrichment"]["stats"]["word_count"] > 0
    assert contracts.schema_errors(record, "articles-enriched.v1") == []


def test_places_read_the_gazetteers_languages_and_skip_others() -> None:
    settings = Settings(enrichers=["places"])
    for language in ("de", "ru"):
        article = {**sample_article(PUTIN_IN_PYONGYANG), "language": language}
        assert "places" in enrich(settings, orjson.dumps(article))["enrichment"]["places"]
    japanese = {**sample_article(PUTIN_IN_PYONGYANG), "language": "ja"}
    places = enrich(settings, orjson.dumps(japanese))["enrichment"]["places"]
    assert places == {"skipped": "language ja not supported"}


def _undocumented(node: Any, path: str) -> list[str]:
    missing = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub and "$ref" not in sub:
                missing.append(f"{path}/{name}")
        for key, sub in node.items():
            missing += _undocumented(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            missing += _undocumented(sub, f"{path}/{index}")
    return missing


def test_every_property_of_the_sink_schema_is_documented() -> None:
    schema = contracts.load_schema("articles-enriched.v1")
    assert _undocumented(schema, "articles-enriched.v1") == []
