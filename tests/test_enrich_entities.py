"""Entities and places on the two seed articles: clusters, offsets, geocodes, no clutter."""

from __future__ import annotations

import pytest
from articles import KIM_IN_VLADIVOSTOK, PUTIN_IN_PYONGYANG, sample_article, seed_article

from workers.enrichment import gazetteer
from workers.enrichment.enrichers.entities import EntitiesEnricher
from workers.enrichment.enrichers.places import PlacesEnricher
from workers.nlp.clusters import find_clusters
from workers.settings import Settings

SETTINGS = Settings()
CLUTTER_BYLINES = ["Gila Isaacson", "Avi Woolf", "Dana Hollister"]


def forms(entity: dict) -> set[str]:
    return {mention["text"] for mention in entity["mentions"]}


def by_name(entities: list[dict]) -> dict[str, dict]:
    return {entity["name"]: entity for entity in entities}


@pytest.fixture(scope="module")
def entities() -> EntitiesEnricher:
    return EntitiesEnricher(SETTINGS)


@pytest.mark.parametrize("make", [seed_article, sample_article], ids=["seed-text", "sample-html"])
def test_putin_and_kim_are_two_clusters_of_all_their_spellings(entities, make) -> None:
    result = entities(make(PUTIN_IN_PYONGYANG))
    persons = by_name(result["persons"])
    assert forms(persons["Vladimir Putin"]) == {"Vladimir Putin", "Putin", "Mr Putin"}
    assert forms(persons["Kim Jong Un"]) == {"Kim Jong Un", "Kim Jong-un", "Kim"}
    assert persons["Vladimir Putin"]["count"] == 11
    assert persons["Kim Jong Un"]["count"] == (7 if make is seed_article else 6)
    assert persons["Kim Jong Un"]["in_title"] is True


@pytest.mark.parametrize("make", [seed_article, sample_article], ids=["seed-text", "sample-html"])
def test_kim_in_vladivostok_clusters(entities, make) -> None:
    persons = by_name(entities(make(KIM_IN_VLADIVOSTOK))["persons"])
    assert forms(persons["Kim Jong Un"]) == {"Kim Jong Un", "Kim"}
    assert forms(persons["Vladimir Putin"]) == {"Vladimir Putin", "Putin"}


@pytest.mark.parametrize("sample", [PUTIN_IN_PYONGYANG, KIM_IN_VLADIVOSTOK])
def test_mention_offsets_index_the_record_text(entities, sample) -> None:
    article = sample_article(sample)
    result = entities(article)
    mentions = [m for group in result.values() for e in group for m in e["mentions"]]
    assert mentions
    for mention in mentions:
        assert article["text"][mention["start"] : mention["end"]] == mention["text"]


def test_kim_yo_jong_stays_apart_from_kim_jong_un(entities) -> None:
    article = seed_article(PUTIN_IN_PYONGYANG)
    text = article["text"].replace(
        "Putin\u2019s visit to North Korea",
        "Kim Yo Jong, the sister of Kim Jong Un, stood beside him. Kim Yo Jong smiled. "
        "Putin\u2019s visit to North Korea",
    )
    persons = by_name(entities({**article, "text": text})["persons"])
    assert forms(persons["Kim Yo Jong"]) == {"Kim Yo Jong"}
    assert persons["Kim Yo Jong"]["count"] == 2
    assert forms(persons["Kim Jong Un"]) == {"Kim Jong Un", "Kim Jong-un", "Kim"}


def test_the_persons_of_the_cleaned_pages_exactly(entities) -> None:
    putin = entities(sample_article(PUTIN_IN_PYONGYANG))
    kim = entities(sample_article(KIM_IN_VLADIVOSTOK))
    assert [p["name"] for p in putin["persons"]] == ["Vladimir Putin", "Kim Jong Un"]
    assert [p["name"] for p in kim["persons"]] == ["Kim Jong Un", "Vladimir Putin", "Donald Trump"]


def test_no_entity_from_the_related_articles_list_once_cleaned(entities) -> None:
    cleaned = entities(sample_article(KIM_IN_VLADIVOSTOK))
    names = {e["name"] for group in cleaned.values() for e in group}
    assert names.isdisjoint(CLUTTER_BYLINES)
    assert names.isdisjoint({"Hamas", "Hezbollah", "Netanyahu", "Shejaiya"})
    # NER reading the whole uncleaned seed text does see them: the cleaning removes them.
    whole = EntitiesEnricher(Settings(ner_max_chars=5000))
    raw = whole(seed_article(KIM_IN_VLADIVOSTOK))
    assert {"Gila Isaacson", "Avi Woolf"} <= {p["name"] for p in raw["persons"]}


def test_text_is_normalised_before_ner_with_offsets_into_the_original() -> None:
    text = "Mr\u00a0Putin met Kim\u00a0Jong\u00a0Un in the \ufb01ne city of Pyongyang. Putin left."
    clusters = {c.name: c for c in find_clusters(text, 3000)}
    assert {m.text for m in clusters["Putin"].mentions} == {"Mr\u00a0Putin", "Putin"}
    assert "Kim Jong Un" in clusters  # canonical names use ordinary spaces
    pyongyang = clusters["Pyongyang"].mentions[0]
    assert text[pyongyang.start : pyongyang.end] == "Pyongyang"


def test_places_are_geocoded_to_country_and_coordinates() -> None:
    places = PlacesEnricher(SETTINGS)
    putin = {p["name"]: p for p in places(sample_article(PUTIN_IN_PYONGYANG))["places"]}
    kim = {p["name"]: p for p in places(sample_article(KIM_IN_VLADIVOSTOK))["places"]}
    assert (putin["Pyongyang"]["country_code"], putin["Pyongyang"]["kind"]) == ("KP", "city")
    assert (putin["Pyongyang"]["latitude"], putin["Pyongyang"]["longitude"]) == (
        39.03385,
        125.75432,
    )
    assert (kim["Vladivostok"]["country_code"], kim["Vladivostok"]["kind"]) == ("RU", "city")
    assert (kim["Vladivostok"]["latitude"], kim["Vladivostok"]["longitude"]) == (
        43.10562,
        131.87353,
    )
    assert {name: p["country_code"] for name, p in putin.items()} == {
        "North Korea": "KP",
        "Pyongyang": "KP",
        "US": "US",
        "Ukraine": "UA",
        "Russia": "RU",
        "Vladivostok": "RU",
    }
    assert kim["U.S."]["country_code"] == "US"
    assert putin["North Korea"]["kind"] == "country"


@pytest.mark.parametrize(
    ("name", "code", "kind"),
    [
        ("Georgia", "GE", "country"),  # a country before a US state or a city
        ("the Netherlands", "NL", "country"),
        ("U.K.", "GB", "country"),
        ("Vladivostok", "RU", "city"),
        ("Kyiv", "UA", "city"),
    ],
)
def test_geocode(name: str, code: str, kind: str) -> None:
    place = gazetteer.geocode(name)
    assert (place.country_code, place.kind) == (code, kind)


def test_unknown_places_stay_unresolved() -> None:
    assert gazetteer.geocode("Shejaiya") is None


def test_same_named_cities_are_told_apart_by_the_article_s_countries() -> None:
    assert gazetteer.geocode("Lima").country_code == "PE"  # alone: the most populous Lima
    lima_ohio = gazetteer.geocode("Lima", near={"US"})
    assert (lima_ohio.country_code, round(lima_ohio.latitude, 2)) == ("US", 40.74)
    assert gazetteer.geocode("Ohio") == gazetteer.Place("US", None, None, "region", 5165418)


def test_places_of_an_ohio_article_resolve_to_the_united_states() -> None:
    from workers.enrichment.enrichers.places import PlacesEnricher

    article = {
        "text": "Veridian picked a site near Lima, Ohio, for the plant. The company, based in "
        "Santa Clara, California, will hire 1,800 people in the United States.",
        "language": "en",
        "title": "Veridian picks Ohio",
    }
    places = PlacesEnricher(Settings())(article)["places"]
    assert {p["name"]: (p["kind"], p["country_code"]) for p in places} == {
        "Lima": ("city", "US"),
        "Ohio": ("region", "US"),
        "Santa Clara": ("city", "US"),
        "California": ("region", "US"),
        "the United States": ("country", "US"),
    }
