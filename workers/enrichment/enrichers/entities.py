"""Persons, organisations and places named in the text, each a cluster of its mentions.

NER (spaCy, small English model) reads ``NEWSFLOW_NER_MAX_CHARS`` characters of the
NFKC-normalised text (the opening, then a few words around each name first met later:
:mod:`workers.nlp.ner`), names past it are labelled without the model
(:mod:`workers.nlp.names`); mentions are clustered ("Kim Jong Un", "Kim Jong-un" and "Kim" are
one person; "Russian" names Russia) and every further occurrence of a cluster's spellings is
added from the whole text. Offsets index ``text`` of the record as published.
"""

from __future__ import annotations

import re
from typing import Any

from workers.enrichment.enrichers.base import ENGLISH, Enricher
from workers.nlp import gazetteer, names, ner
from workers.nlp.clusters import Cluster, find_clusters
from workers.settings import Settings

VERSION = f"1.3+{ner.model_version()}"  # 1.3: the names pass
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


class EntitiesEnricher(Enricher, name="entities", version=VERSION, languages=ENGLISH):
    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        ner.model()  # load at start-up, not on the first message
        gazetteer.candidates("")  # the place names NER leaves out are looked up in it
        names.given_names()  # the names pass's census lists

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUPS.values()}
        for item in find_clusters(article["text"], self.max_chars):
            result[GROUPS[item.type]].append(describe(item, article.get("title")))
        return result
