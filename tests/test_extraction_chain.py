"""The extraction chain's fallbacks: an HTML5 re-parse when lxml loses the body, readability-lxml
bounding trafilatura's text or replacing it when clearly longer, and the path each record names.

No broker here: the path's count in ``newsflow_extraction_outcomes_total`` is checked over a
real broker in tests/test_observability.py.
"""

from __future__ import annotations

import pytest

from workers.cleaning.extraction import PATHS, extract_text
from workers.cleaning.fallback import parse_page, second_opinion
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


SHOP = "".join(
    f"<li>Blue ceramic mug number {i} is in stock now and ships today</li>" for i in range(9)
)


def test_a_product_list_after_the_article_is_cut_at_readabilitys_boundary() -> None:
    # trafilatura runs on into the shop below the story; readability's text ends with it.
    page = f"<html><body><div><div>{PARAGRAPHS}</div><ul>{SHOP}</ul></div></body></html>"
    found = extract_text(page, URL, 10.0, boundary=True)
    assert found.path == "lxml+trafilatura-recall-bounded"
    assert found.lines == STORY
    assert sum("ceramic mug" in line for line in found.first_lines) == 9  # what was cut
    # Off by default (NEWSFLOW_EXTRACTION_BOUNDARY): the list stays.
    unbounded = extract_text(page, URL, 10.0)
    assert unbounded.lines == found.first_lines
    assert unbounded.path == "lxml+trafilatura-recall"


def test_the_boundary_is_a_setting_of_the_cleaning_stage() -> None:
    page = f"<html><body><div><div>{PARAGRAPHS}</div><ul>{SHOP}</ul></div></body></html>"
    message = InputMessage(contracts.encode(raw_record(page.encode(), URL)))
    bounded = clean_message(message, Settings(extraction_boundary=True))
    assert bounded["extractor"]["path"] == "lxml+trafilatura-recall-bounded"
    assert "ceramic mug" not in bounded["text"]
    default = clean_message(message, Settings())
    assert default["extractor"]["path"] == "lxml+trafilatura-recall"
    assert default["text"].count("ceramic mug") == 9


def test_a_list_inside_the_article_is_kept() -> None:
    # The same list between the story's paragraphs belongs to the article: it stays.
    head, tail = ("".join(f"<p>{p}</p>" for p in part) for part in (STORY[:2], STORY[2:]))
    page = f"<html><body><div><div>{head}<ul>{SHOP}</ul>{tail}</div></div></body></html>"
    found = extract_text(page, URL, 10.0)
    assert found.path == "lxml+trafilatura-recall"
    assert found.lines[:2] == STORY[:2] and found.lines[-2:] == STORY[2:]
    assert sum("ceramic mug" in line for line in found.lines) == 9


ABOUT = (
    "If you're new here, this blog will give you the tools to become financially independent "
    "in five years by saving most of what you earn."
)
RELATED = [
    "- Nintendo to Celebrate the Launch with a Midnight Gathering at Nintendo World Read more",
    "- Nintendo Download Highlights New Digital Content for Nintendo Systems - November 8",
]


def test_lines_before_and_after_readabilitys_span_are_the_page_around_the_article() -> None:
    # trafilatura ran on: an about box before the story, related posts after it.
    first = [ABOUT, *STORY, *RELATED]
    assert second_opinion(first, STORY) == (STORY, "bounded")
    # readability splits and punctuates blocks its own way: a line counts as shared when
    # most of its words are in readability's text.
    assert second_opinion(first, [" ".join(STORY).upper()]) == (STORY, "bounded")


def test_lines_inside_readabilitys_span_stay() -> None:
    # readability stopped at a list inside the article (where it truncates modern pages);
    # the list sits between lines readability has, so it is the article's.
    shop = ["- Blue ceramic mugs, in stock now", "- Green ceramic mugs, ships today"]
    first = [*STORY[:2], *shop, *STORY[2:]]
    assert second_opinion(first, STORY) == (first, "kept")


def test_a_fragment_does_not_bound_trafilaturas_text() -> None:
    # readability's text under a fifth of trafilatura's is a caption or a teaser it mistook
    # for the article, not a boundary (nor a replacement: trafilatura's text is not short).
    first = [*STORY, *RELATED] * 3
    assert second_opinion(first, STORY[:1]) == (first, "kept")


@pytest.mark.parametrize(
    ("first", "second", "how"),
    [
        ([], STORY, "replaced"),  # trafilatura found nothing
        ([], ["Bridge"], "replaced"),  # any text beats none
        (STORY[:1], STORY, "replaced"),  # clearly longer
        (STORY[:1], [], "kept"),  # readability found nothing
        (STORY[:3], STORY, "kept"),  # longer, not clearly
        (STORY, [*STORY, *STORY, *RELATED], "kept"),  # trafilatura's text is not short
    ],
)
def test_readability_replaces_a_short_text_only_when_clearly_longer(
    first: list[str], second: list[str], how: str
) -> None:
    assert second_opinion(first, second)[1] == how


def test_every_path_is_in_the_records_schema() -> None:
    schema = contracts.load_schema("articles-clean.v1")
    enum = schema["properties"]["extractor"]["properties"]["path"]
    assert set(PATHS) == set(enum["enum"])


def test_the_clean_record_names_the_path_that_produced_its_text() -> None:
    page = f"<html><head><title>Bridge</title></head></html><body>{PARAGRAPHS}</body>"
    message = InputMessage(contracts.encode(raw_record(page.encode(), URL)))
    record = clean_message(message, Settings())
    assert record["extractor"]["path"] == "html5+trafilatura"
    assert record["extractor"]["path"] in PATHS
    assert contracts.is_valid(record, "articles-clean.v1")
    assert "extraction_path" not in record
