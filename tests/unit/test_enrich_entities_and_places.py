"""Entities and places on the two seed articles: clusters, offsets, geocodes, no clutter."""

from __future__ import annotations

import pytest

from tests.support.articles import (
    KIM_IN_VLADIVOSTOK,
    PUTIN_IN_PYONGYANG,
    sample_article,
    seed_article,
)
from workers.enrichment.enrichers.entities import EntitiesEnricher
from workers.enrichment.enrichers.places import PlacesEnricher
from workers.nlp import gazetteer
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
        ("Georgia", "GE", "country"),  # alone, the larger reading
        ("the Netherlands", "NL", "country"),
        ("U.K.", "GB", "country"),
        ("Vladivostok", "RU", "city"),
        ("Kyiv", "UA", "city"),
        ("Texas", "US", "region"),
        ("Ontario", "CA", "region"),
        ("NSW", "AU", "region"),
        ("Africa", "", "continent"),
    ],
)
def test_most_populous(name: str, code: str, kind: str) -> None:
    place = gazetteer.most_populous(name)
    assert (place.country_code, place.kind) == (code, kind)


def test_countries_and_regions_sit_at_their_own_point_not_their_capital() -> None:
    turkey, texas = gazetteer.most_populous("Turkey"), gazetteer.most_populous("Texas")
    assert (round(turkey.latitude), round(turkey.longitude)) == (39, 35)  # Ankara: 40 N 33 E
    assert (round(texas.latitude), round(texas.longitude)) == (32, -100)  # Austin: 30 N 98 W


def test_demonyms_name_their_country() -> None:
    assert gazetteer.demonym_country("Russian") == "RU"
    assert gazetteer.demonym_country("Palestinian") == "PS"
    assert gazetteer.demonym_country("Chinese") == "CN"  # not Macau, which shares it


def test_unknown_places_stay_unknown() -> None:
    assert gazetteer.candidates("Shejaiya") == []


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
    assert all(p["latitude"] is not None and p["longitude"] is not None for p in places)


def places_of(text: str, url: str = "https://news.example.com/a") -> dict[str, dict]:
    article = {"text": text, "language": "en", "title": "", "url": url}
    return {p["name"]: p for p in PlacesEnricher(SETTINGS)(article)["places"]}


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        (
            "ATLANTA (AP) - Storms hit Atlanta on Monday. Georgia officials said roads in "
            "Savannah were closed.",
            "Georgia",
            ("region", "US"),
        ),
        (
            "Russian troops left Georgia. Talks between Tbilisi and Moscow resume in Turkey.",
            "Georgia",
            ("country", "GE"),
        ),
        (
            "The fair opens in Paris, Tennessee, on Friday. Nashville sent a band.",
            "Paris",
            ("city", "US"),
        ),
        ("Police in Dublin, Ohio, said the road near Columbus reopened.", "Dublin", ("city", "US")),
        (
            "Lawmakers in Washington passed the bill. New York and Chicago reacted.",
            "Washington",
            ("city", "US"),
        ),
    ],
)
def test_same_named_places_are_told_apart_by_the_article(text, name, expected) -> None:
    place = places_of(text)[name]
    assert (place["kind"], place["country_code"]) == expected


def test_london_ontario_on_a_canadian_site() -> None:
    places = places_of(
        "LONDON, Ont. - City council in London voted on transit. Toronto and Ontario "
        "officials watched.",
        url="https://www.cbc.ca/news/canada/london/transit",
    )
    london = next(p for name, p in places.items() if name.lower() == "london")
    assert (london["country_code"], round(london["latitude"])) == ("CA", 43)


def test_persons_and_other_worlds_are_not_places(entities) -> None:
    text = (
        "Jane Shelton led the team. Shelton said coach Ripley was pleased. NASA said the "
        "probe reached Jupiter after passing Mars. Officials in Ohio agreed."
    )
    result = entities({"text": text, "language": "en", "title": ""})
    places = {p["name"] for p in result["places"]}
    assert places.isdisjoint({"Shelton", "Ripley", "Jupiter", "Mars"})
    assert "Ohio" in places


def test_a_demonym_names_its_country(entities) -> None:
    text = "Russian officials met Palestinian negotiators in Cairo on Monday."
    places = by_name(entities({"text": text, "language": "en", "title": ""})["places"])
    assert forms(places["Russia"]) == {"Russian"}
    assert forms(places["Palestinian Territory"]) == {"Palestinian"}


def test_scores_after_a_name_are_not_part_of_it(entities) -> None:
    text = "Leading scores: Andrew Park 72, Vaughan 9-1-55-1, and Tom Lehman 70 on Thursday."
    persons = {
        p["name"] for p in entities({"text": text, "language": "en", "title": ""})["persons"]
    }
    assert not any(any(ch.isdigit() for ch in name) for name in persons)


def test_names_first_met_after_the_window_are_found() -> None:
    opening = "The council met on Monday to discuss the budget for next year. " * 30
    text = opening + "Later, Mayor Karen Whitfield flew to Denver to meet Boeing executives."
    clusters = {c.name: c.type for c in find_clusters(text, 1500)}
    assert len(opening) > 1500
    assert clusters.get("Karen Whitfield") == "person"
    assert clusters.get("Denver") == "place"
