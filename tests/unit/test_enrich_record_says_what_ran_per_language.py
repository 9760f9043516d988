"""The record says, for the article's language, which enrichers ran and which were skipped
and why: every configured enricher has its member, either its result or
{"skipped": "language <code> not supported"}, and a version in ``enrichers``."""

from __future__ import annotations

import re

import orjson
import pytest

from tests.support.samples import clean_sample
from workers.enrichment.enrichers import REGISTRY
from workers.records import contracts
from workers.records.message import InputMessage
from workers.runtime.processor import StageProcessor
from workers.settings import Settings

SKIPPED = re.compile(r"^language [a-z]{2,3} not supported$")
# What each enricher does with the German, Spanish and French sample pages.
READS = {"stats", "language", "fingerprint", "dedup", "keyphrases", "dates", "readability"}
NO_LEXICON = {"tone"}  # VADER is English; no other language's lexicon is used


@pytest.mark.parametrize(("prefix", "language"), [("07", "de"), ("05", "es"), ("08", "fr")])
def test_each_enricher_ran_or_says_why_not(prefix: str, language: str) -> None:
    settings = Settings(dedup_backend="memory")
    article = clean_sample(prefix)
    assert article["language"] == language
    outgoing = StageProcessor("enrich", settings).process(InputMessage(orjson.dumps(article)))
    record = orjson.loads(outgoing.value)
    assert outgoing.outcome == "ok", record
    assert contracts.schema_errors(record, "articles-enriched.v1") == []
    assert list(record["enrichment"]) == list(record["enrichers"]) == settings.enrichers
    for name in settings.enrichers:
        member = record["enrichment"][name]
        if "skipped" in member:
            assert SKIPPED.match(member["skipped"]), member
            assert language not in REGISTRY[name].languages
        else:
            assert REGISTRY[name].languages is None or language in REGISTRY[name].languages
    ran = {n for n in settings.enrichers if "skipped" not in record["enrichment"][n]}
    assert ran >= READS
    for name in NO_LEXICON:
        assert record["enrichment"][name] == {"skipped": f"language {language} not supported"}
    assert record["enrichment"]["keyphrases"]["phrases"]
    assert record["enrichment"]["readability"]["formula"]
