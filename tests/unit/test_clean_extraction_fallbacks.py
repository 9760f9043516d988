"""The extraction chain's fallbacks: an HTML5 re-parse when lxml loses the body, readability-lxml
bounding trafilatura's text where it looks wrong or replacing it when clearly longer (or when
the two picked different parts of the page), and the path each record names.

No broker here: the path's count in ``newsflow_extraction_outcomes_total`` is checked over a
real broker in tests/integration/test_observability.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from trafilatura.utils import load_html

from workers.cleaning.extraction import extract_text, looks_wrong, prose_words
from workers.cleaning.fallback import parse_page, second_opinion
from workers.cleaning.options import CleanOptions
from workers.cleaning.stage import clean_message, extract_article
from workers.errors import StageError
from workers.kafka.produce import raw_record
from workers.pipeline import EXTRACTION_PATHS
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
OPTIONS = CleanOptions(timeout_s=10.0, min_words=1)


def test_a_body_after_an_early_closing_html_tag_is_recovered_by_the_html5_parser() -> None:
    # libxml2 stops at the stray </html>: its tree has no body, and trafilatura no text.
    page = f"<html><head><title>Bridge</title></head></html><body>{PARAGRAPHS}</body>"
    tree, _, parser = parse_page(page)
    assert parser == "html5" and "harbour bridge" in " ".join(tree.itertext())

    assert "harbour" not in " ".join(load_html(page).itertext())  # lxml's own tree

    found = extract_text(page, URL, OPTIONS)
    assert found.path == "html5+trafilatura"
    assert found.lines == STORY


def test_a_well_formed_page_is_read_by_lxml_alone() -> None:
    page = f"<html><head><title>Bridge</title></head><body>{PARAGRAPHS}</body></html>"
    assert parse_page(page)[2] == "lxml"
    assert extract_text(page, URL, OPTIONS).path.startswith("lxml+")


def test_readability_finds_an_article_trafilatura_prunes_away() -> None:
    # Two paragraphs in a <nav>: trafilatura prunes it as a menu and finds no text at all.
    long_paragraphs = [" ".join(STORY[:2]), " ".join(STORY[2:])]
    page = "<html><body><nav>" + "".join(f"<p>{p}</p>" for p in long_paragraphs) + "</nav>"
    found = extract_text(page, URL, OPTIONS)
    assert found.first_lines == []  # trafilatura's text, before readability's say
    assert found.path == "lxml+readability"
    assert found.lines == long_paragraphs


SHOP = "".join(
    f"<li>Blue ceramic mug number {i} is in stock now and ships today</li>" for i in range(9)
)


ABOUT = (
    "If you're new here, this blog will give you the tools to become financially independent "
    "in five years by saving most of what you earn."
)
RELATED = [
    "- Nintendo to Celebrate the Launch with a Midnight Gathering at Nintendo World Read more",
    "- Nintendo Download Highlights New Digital Content for Nintendo Systems - November 8",
]


def test_a_product_list_after_the_article_is_left_out() -> None:
    # trafilatura runs on into the shop below the story; its text ends in list items, so it
    # looks wrong and readability reads the page: its text is the story, and what it left
    # out holds no paragraph, so its text is kept.
    page = f"<html><body><div><div>{PARAGRAPHS}</div><ul>{SHOP}</ul></div></body></html>"
    found = extract_text(page, URL, OPTIONS)
    assert found.path == "lxml+readability"
    assert found.lines == STORY
    assert sum("ceramic mug" in line for line in found.first_lines) == 9  # what was cut
    assert looks_wrong(found.first_lines)


def test_bounding_every_page_is_a_setting_of_the_cleaning_stage() -> None:
    # An about box before the story: trafilatura's text ends on the story's last sentence, so
    # it looks right and readability does not run; with the setting, readability reads every
    # page and its boundary drops the box.
    page = f"<html><body><div><div><p>{ABOUT}</p></div><div>{PARAGRAPHS}</div></div></body></html>"
    message = InputMessage(contracts.encode(raw_record(page.encode(), URL)))
    bounded = clean_message(message, Settings(extraction_boundary=True))
    assert bounded["extractor"]["path"] == "lxml+trafilatura-bounded"
    assert bounded["text"] == "\n\n".join(STORY)
    default = clean_message(message, Settings())
    assert default["extractor"]["path"] == "lxml+trafilatura"
    assert default["text"] == "\n\n".join([ABOUT, *STORY])


@pytest.mark.parametrize(
    ("tail", "wrong"),
    [
        ([], False),  # the story ends on a sentence
        (["Website"], True),  # a comment form's field
        (["Related posts:"], True),  # a lead-in to a list extraction dropped
        (["(c) 2012 The Daily Tide"], True),  # no sentence
        (RELATED, True),  # two list items: related posts
        (["The bridge will reopen in 2030, the council said."], False),  # a short sentence
    ],
)
def test_trafilaturas_text_looks_wrong_when_it_ends_in_page_furniture(
    tail: list[str], wrong: bool
) -> None:
    assert looks_wrong([*STORY, *tail]) is wrong


def test_trafilaturas_text_looks_wrong_when_a_fifth_of_it_is_not_prose() -> None:
    menu = ["Home", "World news", "Politics", "Sport and games", "Weather today"] * 5
    assert looks_wrong([*STORY[:2], *menu, *STORY[2:]])  # 45 of 162 words: menus kept
    assert not looks_wrong([*STORY[:2], *menu[:3], *STORY[2:]])
    assert not looks_wrong([])


TEASERS = [
    "- Molly Sims introduces her son — People",
    "- Trailers released for both new projects — Lainey Gossip",
    "- Will Jason Sudeikis stay at SNL? — The Hollywood Reporter",
    "- Tabloids are trying to start something between them — Wonderwall",
]


def test_when_the_two_extractors_pick_different_parts_the_one_with_sentences_wins() -> None:
    # trafilatura took a column of link teasers, readability the story: nothing in common.
    assert second_opinion(TEASERS * 3, STORY) == (STORY, "replaced")
    # Only where readability judges the text (it looked wrong): else trafilatura's stands.
    assert second_opinion(TEASERS * 3, STORY, boundary=False) == (TEASERS * 3, "kept")
    # readability took a newsletter box, trafilatura the story: the story stays.
    box = ["Sign up for our newsletter", "Get the day's links in your inbox every morning"]
    assert second_opinion(STORY, box) == (STORY, "kept")


VIDEO_POST = (
    "<html><head><title>Making of the Loveseat</title></head><body><div id='post'>"
    "<h1>Making of the Loveseat (VIDEO)</h1><p>Posted by Dave on August 13th, 2012</p>"
    "<p>A British designer has filmed the making of his new loveseat from a single sheet of "
    "steel.</p><p>Watch the video on Vimeo here.</p></div></body></html>"
)


def test_a_short_post_both_extractors_read_as_the_article_passes_the_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 23 words of prose, under the 25 an undeclared page needs; readability (its text is
    # short, so it runs) reads the same two sentences as the article: it is a post.
    message = InputMessage(contracts.encode(raw_record(VIDEO_POST.encode(), URL)))
    record = clean_message(message, Settings())
    assert "filmed the making of his new loveseat" in record["text"]
    found = extract_text(VIDEO_POST, URL, OPTIONS)
    assert prose_words(found.lines) < Settings().min_article_words
    assert found.second_lines is not None
    # Without readability's agreement (it finds nothing) the same text is a stub.
    monkeypatch.setattr("workers.cleaning.extraction.readability_lines", lambda html: [])
    with pytest.raises(StageError) as error:
        extract_article(VIDEO_POST, URL, replace(OPTIONS, min_words=25))
    assert error.value.reason == "not_an_article"


def test_a_list_inside_the_article_is_kept() -> None:
    # The same list between the story's paragraphs belongs to the article: it stays.
    head, tail = ("".join(f"<p>{p}</p>" for p in part) for part in (STORY[:2], STORY[2:]))
    page = f"<html><body><div><div>{head}<ul>{SHOP}</ul>{tail}</div></div></body></html>"
    found = extract_text(page, URL, OPTIONS)
    assert found.path == "lxml+trafilatura-recall"
    assert found.lines[:2] == STORY[:2] and found.lines[-2:] == STORY[2:]
    assert not looks_wrong(found.lines)  # it ends on the story's last sentence
    assert sum("ceramic mug" in line for line in found.lines) == 9


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


CAPTIONS = [
    "A view of the bridge from the north bank, taken in the spring of 1911.",
    "Photo: City Archive / The Daily Tide",
]


def test_captions_between_the_paragraphs_go_when_readability_has_only_the_paragraphs() -> None:
    # The boundary cannot cut lines between the article's paragraphs; when all readability
    # left out is captions (no paragraph), its text is the article.
    first = [STORY[0], *CAPTIONS, STORY[1], *CAPTIONS, *STORY[2:], *CAPTIONS]
    assert second_opinion(first, STORY) == (STORY, "replaced")
    # A paragraph readability left out (a second section) keeps trafilatura's text.
    section = ["Council members also approved a new footbridge downstream, " * 3]
    first = [STORY[0], *CAPTIONS, STORY[1], *section, *STORY[2:], *CAPTIONS]
    assert second_opinion(first, STORY)[1] == "bounded"
    # Not where trafilatura's text looked right.
    assert second_opinion(first, STORY, boundary=False) == (first, "kept")
    # Nor when readability found nothing: trafilatura's text of short lines stands.
    labels = ["Blue ceramic mugs in stock", "Green ceramic mugs ship today"] * 10
    assert second_opinion(labels, []) == (labels, "kept")


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
    assert set(EXTRACTION_PATHS) == set(enum["enum"])


def test_the_clean_record_names_the_path_that_produced_its_text() -> None:
    page = f"<html><head><title>Bridge</title></head></html><body>{PARAGRAPHS}</body>"
    message = InputMessage(contracts.encode(raw_record(page.encode(), URL)))
    record = clean_message(message, Settings())
    assert record["extractor"]["path"] == "html5+trafilatura"
    assert record["extractor"]["path"] in EXTRACTION_PATHS
    assert contracts.is_valid(record, "articles-clean.v1")
    assert "extraction_path" not in record
