"""The extraction chain's fallbacks: an HTML5 re-parse when lxml loses the body, readability-lxml
when trafilatura's text runs over the article, and the path each record names.

No broker here: the path's count in ``newsflow_extraction_outcomes_total`` is checked over a
real broker in tests/test_observability.py.
"""

from __future__ import annotations

import pytest

from workers.cleaning.extraction import PATHS, extract_text
from workers.cleaning.fallback import parse_page, prefer_second
from workers.cleaning.stage import clean_message
from workers.kafka.produce import raw_record
from workers.records import contracts
from workers.records.message import InputMessage
from workers.settings import Settings

STORY = [
    "The harbour bridge, closed to lorries since cracks were found in two of its piers, will be "
    "rebuilt from next spring, the city council decided on Tuesday evening after a long debate.",
    "Engineers say the new span will carry trams as well as cars, and that the work, financed "
    "jointly by the city and the regional government, should take about three years.",
    "Opponents, who wanted the money spent on schools, lost the vote by twenty-one to nine, "
    "although several of them said they would keep campaigning against the plan.",
    "The bridge, opened in 1911, carried more than forty thousand vehicles a day before the "
    "restrictions, and shopkeepers on both banks say their trade has suffered since.",
]
PARAGRAPHS = "".join(f"<p>{p}</p>" for p in STORY)
URL = "https://news.example/2026/bridge"


def test_a_body_after_an_early_closing_html_tag_is_recovered_by_the_html5_parser() -> None:
    # libxml2 stops at the stray </html>: its tree has no body, and trafilatura no text.
    page = f"<html><head><title>Bridge</title></head></html><body>{PARAGRAPHS}</body>"
    tree, _, parser = parse_page(page)
    assert parser == "html5" and "harbour bridge" in " ".join(tree.itertext())

    found = extract_text(page, URL, 10.0)
    assert found.path == "html5+trafilatura"
    assert found.lines == STORY
    lxml_only = extract_text(page, URL, 10.0, html5_reparse=False)
    assert "harbour" not in lxml_only.text  # at most the title, which readability finds


def test_a_well_formed_page_is_read_by_lxml_alone() -> None:
    page = f"<html><head><title>Bridge</title></head><body>{PARAGRAPHS}</body></html>"
    assert parse_page(page)[2] == "lxml"
    assert extract_text(page, URL, 10.0).path.startswith("lxml+")


def test_readability_takes_over_where_trafilatura_runs_past_the_article() -> None:
    # A product list beside the story: trafilatura keeps it, readability's article does not.
    shop = "".join(
        f"<li>Blue ceramic mug number {i} is in stock now and ships today</li>" for i in range(9)
    )
    page = f"<html><body><div><div>{PARAGRAPHS}</div><ul>{shop}</ul></div></body></html>"
    alone = extract_text(page, URL, 10.0, second_extractor=False)
    assert sum("ceramic mug" in line for line in alone.lines) == 9

    found = extract_text(page, URL, 10.0)
    assert found.path == "lxml+readability"
    assert found.lines == STORY


def test_trafilatura_keeps_the_text_when_readability_finds_less_of_the_story() -> None:
    page = f"<html><body><article><h1>Bridge</h1>{PARAGRAPHS}</article></body></html>"
    found = extract_text(page, URL, 10.0)
    assert found.path == "lxml+trafilatura" and found.lines == ["Bridge", *STORY]


@pytest.mark.parametrize(
    ("first", "second", "preferred"),
    [
        ([], STORY, True),  # trafilatura found nothing
        (STORY, [], False),  # readability found nothing
        (STORY + ["Blue mug in stock"] * 40, STORY, True),  # the story inside a longer text
        (STORY + ["Blue mug in stock"] * 40, ["The harbour bridge"], False),  # a fragment
        (STORY, STORY, False),  # no shorter: nothing to correct
        (STORY + ["Blue mug in stock"] * 40, ["Other words entirely. " * 20], False),
    ],
)
def test_readability_is_preferred_only_for_an_article_inside_trafilaturas_text(
    first: list[str], second: list[str], preferred: bool
) -> None:
    assert prefer_second(first, second) is preferred


def test_the_clean_record_names_the_path_that_produced_its_text() -> None:
    page = f"<html><head><title>Bridge</title></head></html><body>{PARAGRAPHS}</body>"
    message = InputMessage(contracts.encode(raw_record(page.encode(), URL)))
    record = clean_message(message, Settings())
    assert record["extractor"]["path"] == "html5+trafilatura"
    assert record["extractor"]["path"] in PATHS
    assert contracts.is_valid(record, "articles-clean.v1")
    assert "extraction_path" not in record
