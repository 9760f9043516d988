"""The extraction chain's fallbacks: an HTML5 re-parse when lxml loses the body, readability-lxml
when trafilatura's text is short, and the path each record names.

No broker here: the path's count in ``newsflow_extraction_outcomes_total`` is checked over a
real broker in tests/test_observability.py.
"""

from __future__ import annotations

import pytest

from workers.cleaning.extraction import PATHS, extract_text
from workers.cleaning.fallback import looks_short, parse_page, prefer_second
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


def test_readability_finds_an_article_trafilatura_prunes_away() -> None:
    # Two paragraphs in a <nav>: trafilatura prunes it as a menu and finds no text at all.
    long_paragraphs = [" ".join(STORY[:2]), " ".join(STORY[2:])]
    page = "<html><body><nav>" + "".join(f"<p>{p}</p>" for p in long_paragraphs) + "</nav>"
    assert extract_text(page, URL, 10.0, second_extractor=False).lines == []

    found = extract_text(page, URL, 10.0)
    assert found.path == "lxml+readability"
    assert found.lines == long_paragraphs


def test_a_long_trafilatura_text_is_kept_without_a_second_opinion() -> None:
    # A product list beside the story: readability would drop it, but on modern pages its
    # shorter text is more often a truncated article (bench/RESULTS.md); trafilatura's stands.
    shop = "".join(
        f"<li>Blue ceramic mug number {i} is in stock now and ships today</li>" for i in range(9)
    )
    page = f"<html><body><div><div>{PARAGRAPHS}</div><ul>{shop}</ul></div></body></html>"
    found = extract_text(page, URL, 10.0)
    assert found.path.startswith("lxml+trafilatura")
    assert found.lines[: len(STORY)] == STORY
    assert sum("ceramic mug" in line for line in found.lines) == 9


@pytest.mark.parametrize(
    ("first", "second", "preferred"),
    [
        ([], STORY, True),  # trafilatura found nothing
        ([], ["Bridge"], True),  # any text beats none
        (STORY[:1], STORY, True),  # clearly longer
        (STORY[:1], [], False),  # readability found nothing
        (STORY[:3], STORY, False),  # longer, not clearly
    ],
)
def test_readability_replaces_a_short_text_only_when_clearly_longer(
    first: list[str], second: list[str], preferred: bool
) -> None:
    assert prefer_second(first, second) is preferred


def test_readability_runs_only_when_trafilaturas_text_looks_short() -> None:
    assert looks_short(STORY[:1]) and not looks_short(STORY)


def test_the_clean_record_names_the_path_that_produced_its_text() -> None:
    page = f"<html><head><title>Bridge</title></head></html><body>{PARAGRAPHS}</body>"
    message = InputMessage(contracts.encode(raw_record(page.encode(), URL)))
    record = clean_message(message, Settings())
    assert record["extractor"]["path"] == "html5+trafilatura"
    assert record["extractor"]["path"] in PATHS
    assert contracts.is_valid(record, "articles-clean.v1")
    assert "extraction_path" not in record
