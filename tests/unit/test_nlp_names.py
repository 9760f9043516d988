"""The cheap pass over the text past the NER window (workers/nlp/names.py): candidates,
labels and the mentions it adds, without the neural model."""

from __future__ import annotations

from workers.nlp import names
from workers.nlp.clusters import find_clusters
from workers.nlp.ner import Mention

LOWER: set[str] = set()


def found(text: str, start: int = 0, mentions: list[Mention] | None = None) -> set:
    return {(m.label, m.text) for m in names.find(text, start, mentions or [])}


def test_given_names_ship_in_the_package() -> None:
    given = names.given_names()
    assert {"john", "mary", "linda", "michael"} <= given
    assert len(given) > 5000


def test_candidates_drop_sentence_initial_common_words_and_trailing_marks() -> None:
    text = "Police said so. The police chief met Tom Moody's lawyer and the U.S. team."
    lower = set(names._LOWER_WORD.findall(text))
    runs = [(text[a:b], words) for a, b, words in names.candidates(text, 0, lower)]
    assert ("Tom Moody", ["Tom", "Moody"]) in runs
    assert ("U.S.", ["U.S."]) in runs
    assert not any(name in ("Police", "The") for name, _ in runs)


def test_persons_by_their_given_name() -> None:
    assert names.label(["Paul", "Johnson"], LOWER) == ("PERSON", 0)
    assert names.label(["Australian", "Tom", "Moody"], LOWER) == ("PERSON", 1)
    # a given name the text also writes in lower case is a common word
    assert names.label(["Will", "Power"], {"will"}) is None
    # words before the given name that are neither a demonym nor a title: another name
    assert names.label(["Los", "Angeles", "Dodgers"], LOWER) is None
    # a given name that is a country is no evidence of a person
    assert names.label(["Jordan", "Valley"], LOWER) != ("PERSON", 0)


def test_initials_and_a_family_name_are_a_person() -> None:
    assert names.label(["S.", "Jayasuriya"], LOWER) == ("PERSON", 0)
    assert names.label(["J.", "R.", "Smith"], LOWER) == ("PERSON", 0)
    assert names.label(["N.", "Ireland"], LOWER) is None  # a place's name


def test_an_abbreviated_ending_keeps_its_dot_inside_a_sentence() -> None:
    text = "Banc One Corp. said it would buy Norwest Corp.\nNothing else."
    assert found(text) == {("ORG", "Banc One Corp."), ("ORG", "Norwest Corp")}


def test_organisations_by_their_last_word_and_places_by_the_gazetteer() -> None:
    assert names.label(["Lear", "Corp"], LOWER) == ("ORG", 0)
    assert names.label(["Bowling", "Green", "State", "University"], LOWER) == ("ORG", 0)
    assert names.label(["Philadelphia"], LOWER) == ("GPE", 0)
    assert names.label(["George"], LOWER) is None  # a given name alone
    assert names.label(["Acme", "Widgets"], LOWER) is None  # nothing says what it is


def test_find_cuts_scores_and_knows_nationalities_and_teams() -> None:
    text = (
        "Results on Friday.\n1. Gete Wami (Ethiopia) 14:49.32\n2. Gail Devers (U.S.) 10.89\n"
        "Luton 2 Wigan 1\nThey flew on to Philadelphia."
    )
    assert found(text) == {
        ("PERSON", "Gete Wami"),
        ("PERSON", "Gail Devers"),
        ("GPE", "Ethiopia"),  # a score after the bracket, not after the name
        ("GPE", "Philadelphia"),
    }


def test_a_town_with_its_region_after_it_is_a_place_of_any_size() -> None:
    text = "The fire began near Lewisburg, W.Va., on Sunday."
    assert found(text) == {("GPE", "Lewisburg"), ("GPE", "W.Va.")}
    # no such town: only the state is a place
    assert found("They met Acme Widgets, Texas, on Monday.") == {("GPE", "Texas")}


def test_find_leaves_what_a_mention_covers_or_spells_to_the_clusters() -> None:
    text = "Paul Johnson scored. Later Paul Johnson and Mary Pierce won."
    first = Mention("PERSON", 0, 12, "Paul Johnson")
    assert found(text, 13, [first]) == {("PERSON", "Mary Pierce")}
    assert found(text, 0, [Mention("ORG", 27, 39, "Paul Johnson")]) == {("PERSON", "Mary Pierce")}


def test_names_past_the_window_become_clusters() -> None:
    opening = "The minister spoke at length about the budget and the harbour. " * 30
    text = opening + "\nLater, Lisa Raymond of Lear Corp flew to Philadelphia."
    clusters = {(c.type, c.name) for c in find_clusters(text, 1500)}
    assert {
        ("person", "Lisa Raymond"),
        ("organisation", "Lear Corp"),
        ("place", "Philadelphia"),
    } <= clusters
