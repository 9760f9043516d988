"""Places: the gazetteer's counties, small towns and agency abbreviations, and the rules that
find and resolve place names in context (issue #17)."""

from __future__ import annotations

import re

import pytest

from workers.enrichment.enrichers.places import PlacesEnricher
from workers.nlp import gazetteer, toponyms
from workers.nlp.clusters import find_clusters
from workers.nlp.ner import Mention
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
    # A name a larger town of a US state already bears gets no small namesake there.
    us = [p for p in gazetteer.candidates("Springfield") if p.country_code == "US"]
    large = {p.region for p in us if p.population >= 5000}
    small = {p.region for p in us if p.population < 5000}
    assert len(large) > 5 and small and not large & small


def test_small_towns_join_same_named_towns_of_other_countries() -> None:
    # Innisfail, Queensland (about 1,100 people) beside Innisfail, Alberta (7,700).
    assert {p.country_code for p in gazetteer.candidates("Innisfail")} == {"CA", "AU"}


def test_a_region_point_the_data_misplaced_is_among_its_own_towns() -> None:
    (hunan,) = gazetteer.candidates("Hunan")  # the data's point is in Oklahoma
    assert hunan.country_code == "CN" and 24 < hunan.latitude < 31 and 108 < hunan.longitude < 115


def test_a_town_qualified_by_an_abbreviation_is_in_that_state() -> None:
    place = places_of("The fair opens in Paris, Tenn., on Friday.")["Paris"]
    assert (place["country_code"], round(place["latitude"]), round(place["longitude"])) == (
        "US",
        36,
        -88,
    )


def spans(text: str, mentions: list[Mention]) -> dict[str, str]:
    return {m.text: m.label for m in toponyms.find(text, mentions)}


def org(text: str, name: str) -> Mention:
    start = text.index(name)
    return Mention("ORG", start, start + len(name), name)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("She studied at the University of Michigan.", "University of Michigan"),
        ("Rates rose ahead of the Bank of England.", "Bank of England"),
    ],
)
def test_a_place_after_an_organisations_of_is_no_place_mention(text, name) -> None:
    assert spans(text, [org(text, name)]) == {name: "ORG"}


@pytest.mark.parametrize(
    ("text", "name", "place"),
    [
        (
            "The U.S. Food and Drug Administration said.",
            "U.S. Food and Drug Administration",
            "U.S.",
        ),
        ("Officers of Queensland Police arrived.", "Queensland Police", "Queensland"),
    ],
)
def test_the_place_an_organisations_name_starts_with_is_a_place(text, name, place) -> None:
    assert spans(text, [org(text, name)]) == {name: "ORG", place: "GPE"}


def test_an_organisation_that_is_only_a_place_name_is_the_place() -> None:
    text = "Edmonton said the road will reopen."
    assert spans(text, [org(text, "Edmonton")]) == {"Edmonton": "GPE"}


@pytest.mark.parametrize("name", ["CNN", "UN", "Liberal", "Google"])
def test_acronyms_common_words_and_odd_alternate_names_stay_organisations(name) -> None:
    text = f"{name} said on Monday that talks went on."
    assert spans(text, [org(text, name)]) == {name: "ORG"}


def test_a_qualifier_after_a_place_is_a_place_even_where_ner_saw_a_person() -> None:
    text = "She sold her home in Gatineau, Que., and moved."
    start = text.index("Gatineau")
    mentions = [
        Mention("GPE", start, start + 8, "Gatineau"),
        Mention("PERSON", text.index("Que"), text.index("Que") + 3, "Que"),
    ]
    assert spans(text, mentions) == {"Gatineau": "GPE", "Que.": "GPE"}


@pytest.mark.parametrize(
    "text", ["DETROIT — The Transportation Department said.", "ATLANTA (AP) - Storms hit."]
)
def test_a_datelines_town_is_a_place(text) -> None:
    town = text.split()[0]
    assert spans(text, []) == {town: "GPE"}


def test_countries_and_states_are_found_where_ner_did_not_tag_them() -> None:
    text = "Cases rose while Kansas and Texas each reported two. Turkey is on the menu: turkey."
    assert spans(text, []) == {"Kansas": "GPE", "Texas": "GPE"}


def test_currencies_and_diseases_are_no_places() -> None:
    text = "He paid US$1,800. The Ebola virus spread; Ebola cases rose."
    ebola = [m.start() for m in re.finditer("Ebola", text)]
    mentions = [Mention("GPE", s, s + 5, "Ebola") for s in ebola]
    assert spans(text, mentions) == {}


def test_places_past_the_ner_budget_are_found() -> None:
    filler = "The committee met again on Monday and talked for a long time. " * 40
    text = filler + "Officials in Wisconsin said the count would start."
    clusters = find_clusters(text, 1500)
    assert "Wisconsin" in {c.name for c in clusters if c.type == "place"}


def test_regions_without_a_point_or_at_their_namesake_town_get_their_towns_middle() -> None:
    victoria = next(p for p in gazetteer.candidates("Victoria") if p.country_code == "AU")
    assert victoria.kind == "region" and -39 < victoria.latitude < -34
    (state,) = [p for p in gazetteer.candidates("New York") if p.kind == "region"]
    assert 42 < state.latitude < 44  # New York City is at 40.7 N


def test_the_name_regions_share_after_a_compass_word_is_a_region() -> None:
    (darfur,) = gazetteer.candidates("Darfur")  # North, South, West, East, Central Darfur
    assert (darfur.kind, darfur.country_code) == ("region", "SD")
    assert 11 < darfur.latitude < 15 and 22 < darfur.longitude < 27
    java = gazetteer.candidates("Java")[0]
    assert (java.kind, java.country_code) == ("region", "ID")


@pytest.mark.parametrize(
    ("text", "name", "kind", "code"),
    [
        ("Farmers in Washington state lost their crops.", "Washington", "region", "US"),
        ("Cases were confirmed in Oregon, Washington and Idaho.", "Washington", "region", "US"),
        ("The Prime Minister of Georgia quit after talks in Atlanta.", "Georgia", "country", "GE"),
        ("The mayor of Victoria spoke.", "Victoria", "city", "HK"),
    ],
)  # fmt: skip
def test_the_role_in_the_sentence_tells_state_country_and_town_apart(text, name, kind, code):
    # Without the role: the city of Washington, the US state (Atlanta), Malta's region.
    place = places_of(text)[name]
    assert (place["kind"], place["country_code"]) == (kind, code)


def test_the_sentence_overrules_ner_when_it_says_place() -> None:
    text = "A wave hit the island of Java. Planes fly into Darfur and Malakal again."
    java, malakal = text.index("Java"), text.index("Malakal")
    darfur = text.index("Darfur")
    mentions = [
        Mention("PERSON", java, java + 4, "Java"),
        Mention("GPE", darfur, darfur + 6, "Darfur"),
        Mention("ORG", malakal, malakal + 7, "Malakal"),
    ]
    assert spans(text, mentions) == {"Java": "GPE", "Darfur": "GPE", "Malakal": "GPE"}


@pytest.mark.parametrize(
    ("text", "name", "state"),
    [
        ("He is originally from Paris, Mo. He moved.", "Paris", "MO"),  # 1,200 people
        ("It was stolen in Paris, Illinois. Police in Iowa said so.", "Paris", "IL"),
    ],
)
def test_a_qualifier_picks_the_small_town_of_its_state(text, name, state) -> None:
    place = places_of(text)[name]
    expected = next(
        p for p in gazetteer.candidates(name) if p.country_code == "US" and p.region == state
    )
    assert (place["latitude"], place["longitude"]) == (expected.latitude, expected.longitude)


def test_county_names_keep_words_that_are_titles_elsewhere() -> None:
    text = "A man died on the off-ramp in Pope County. Russellville police said, Arkansas."
    clusters = {c.name for c in find_clusters(text, 1500) if c.type == "place"}
    assert "Pope County" in clusters and "County" not in clusters


def test_curly_apostrophes_name_the_same_place() -> None:
    assert gazetteer.candidates("Queen Anne\u2019s County") == gazetteer.candidates(
        "Queen Anne's County"
    )


def test_a_short_word_in_capitals_without_a_dash_is_no_dateline() -> None:
    assert spans("NATO Secretary General spoke on Monday.", []) == {}


def test_a_place_before_an_office_is_a_place_but_not_a_city_or_paper_it_starts() -> None:
    text = "U.S. Secretary of State Rex Tillerson met reporters from the New York Times."
    assert spans(text, []) == {"U.S.": "GPE"}
    assert spans("Schools in Mexico City closed.", []) == {}


def test_seas_oceans_and_lakes_resolve_to_their_point() -> None:
    found = places_of(
        "Hundreds of migrants crossed the Mediterranean on Sunday, while storms over the "
        "Pacific delayed ships bound for Los Angeles. Algae bloomed again in Lake Erie, "
        "officials in Ohio said, and tankers waited in the Black Sea."
    )
    for name, point in {
        "Mediterranean": (35, 18),
        "Pacific": (0, -160),
        "Lake Erie": (42, -81),
        "the Black Sea": (44, 35),
    }.items():
        place = found[name]
        assert (place["kind"], place["country_code"]) == ("water", None), name
        assert (round(place["latitude"]), round(place["longitude"])) == point, name


def test_water_names_are_no_evidence_for_the_place_rules() -> None:
    # The waters resolve names recognised as places; no rule finds a place in a company's name.
    assert not gazetteer.candidates("Pacific Ocean")
    assert [p.kind for p in gazetteer.waters("the Pacific")] == ["water"]
    assert not any(p.kind == "water" for p in gazetteer.candidates("Pacific"))
