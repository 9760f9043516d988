"""Enrichers: small plug-ins of the enrichment stage, each owning one member of
``enrichment`` in the sink record, with its own version and a setting to switch it off
(``NEWSFLOW_ENRICHERS``).

An enricher is a subclass of :class:`~workers.enrichment.enrichers.base.Enricher` that
declares its name, version, languages and shared state on its class line; the article it
reads is the articles-clean.v1 record. Register new ones in :data:`REGISTRY`.

An enricher declares the languages it can read: for any other article the stage records
``{"skipped": "language de not supported"}`` instead of calling it, so the record says for
each enricher whether it ran (README, "Other languages", has the table).
"""

from __future__ import annotations

from typing import Any

from workers.enrichment.enrichers.base import Enricher
from workers.enrichment.enrichers.dates import DatesEnricher
from workers.enrichment.enrichers.dedup import DedupEnricher
from workers.enrichment.enrichers.entities import EntitiesEnricher
from workers.enrichment.enrichers.fingerprint import FingerprintEnricher
from workers.enrichment.enrichers.keyphrases import KeyphrasesEnricher
from workers.enrichment.enrichers.language import LanguageEnricher
from workers.enrichment.enrichers.places import PlacesEnricher
from workers.enrichment.enrichers.readability import ReadabilityEnricher
from workers.enrichment.enrichers.stats import StatsEnricher
from workers.enrichment.enrichers.tone import ToneEnricher
from workers.settings import Settings

REGISTRY: dict[str, type[Enricher]] = {
    StatsEnricher.name: StatsEnricher,
    LanguageEnricher.name: LanguageEnricher,
    FingerprintEnricher.name: FingerprintEnricher,
    EntitiesEnricher.name: EntitiesEnricher,
    PlacesEnricher.name: PlacesEnricher,
    KeyphrasesEnricher.name: KeyphrasesEnricher,
    DedupEnricher.name: DedupEnricher,
    DatesEnricher.name: DatesEnricher,
    ToneEnricher.name: ToneEnricher,
    ReadabilityEnricher.name: ReadabilityEnricher,
}


def skip_reason(enricher: Enricher, article: dict[str, Any]) -> str | None:
    """Why ``enricher`` must not read ``article`` (a language it does not declare), or None."""
    language = article.get("language")
    if enricher.languages is None or language in enricher.languages:
        return None
    return f"language {language or 'unknown'} not supported"


def build_enrichers(settings: Settings) -> list[Enricher]:
    """The configured enrichers, in configured order; unknown names fail at start-up."""
    unknown = [name for name in settings.enrichers if name not in REGISTRY]
    if unknown:
        raise ValueError(
            f"unknown enrichers {unknown} in NEWSFLOW_ENRICHERS; known: {sorted(REGISTRY)}"
        )
    return [REGISTRY[name](settings) for name in settings.enrichers]
