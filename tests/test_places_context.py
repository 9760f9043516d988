"""Places: the gazetteer's counties, small towns and agency abbreviations, and the rules that
find and resolve place names in context (issue #17)."""

from __future__ import annotations

import pytest

from workers.enrichment import gazetteer
from workers.enrichment.enrichers.places import PlacesEnricher
from workers.settings import Settings

SETTINGS = Settings()


def places_of(text: str, url: str = "https://news.example.com/a") -> dict[str, dict]:
    article = {"text": text, "language": "en", "title": "", "url": url}
    return {p["name"]: p for p in PlacesEnricher(SETTINGS)(article)["places"]}


@pytest.mark.parametrize(
    ("written", "region"),
    [("Ky.", "Kentucky"), ("Tenn.", "Tennessee"), ("W.Va.", "West Virginia"),
     ("B.C.", "British Columbia"), ("Que.", "Quebec")],
)  # fmt: skip
def test_agency_abbreviations_name_their_region(written: str, region: str) -> None:
    assert [p.name for p in gazetteer.candidates(written)] == [region]
    assert gazetteer.is_abbreviation(written)


def test_abbreviations_count_only_with_their_dots() -> None:
    # Without the dots they are words ("Miss", "Ore").
    assert not any(
        p.kind == "region" and p.country_code == "US" for p in gazetteer.candidates("Miss")
    )
    assert not gazetteer.is_abbreviation("Miss")


def test_us_counties_are_regions_with_a_point_in_their_state() -> None:
    counties = gazetteer.candidates("Dallas County")
    assert {p.region for p in counties} >= {"TX", "AL", "IA"}
    assert all(p.kind == "region" and p.country_code == "US" for p in counties)
    texas = next(p for p in counties if p.region == "TX")
    assert (round(texas.latitude), round(texas.longitude)) == (33, -97)


def test_towns_under_5000_fill_in_names_no_larger_town_bears() -> None:
    (yarrabah,) = gazetteer.candidates("Yarrabah")  # Queensland, about 2,500 people
    assert (yarrabah.kind, yarrabah.country_code) == ("city", "AU")
    # A name the larger towns already bear gets no small namesakes.
    assert all(p.population >= 5000 for p in gazetteer.candidates("Springfield"))


def test_a_town_qualified_by_an_abbreviation_is_in_that_state() -> None:
    place = places_of("The fair opens in Paris, Tenn., on Friday.")["Paris"]
    assert (place["country_code"], round(place["latitude"]), round(place["longitude"])) == (
        "US",
        36,
        -88,
    )
