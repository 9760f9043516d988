"""``modified_at``: the last-modified day the page states, beside ``published_at`` (never a
guess, never before the publication), valid against articles-clean.v1."""

from __future__ import annotations

import json

import orjson

from workers.cleaning.stage import clean_message
from workers.kafka.produce import raw_record
from workers.records import contracts
from workers.records.message import InputMessage
from workers.settings import Settings

PARAGRAPHS = [
    "The city council voted on Tuesday to rebuild the old harbour bridge, ending a debate "
    "that had run for more than a decade.",
    "Engineers said the new span would carry trams as well as cars, and that construction "
    "could begin next spring if the regional government releases its share of the funds.",
]


def clean(head: str = "", byline: str = "", url: str = "https://news.example/bridge") -> dict:
    html = (
        f"<!doctype html><html lang='en'><head><title>Bridge</title>{head}</head><body>"
        f"<article><h1>Harbour bridge to be rebuilt</h1><p class='byline'>{byline}</p>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + "</article></body></html>"
    )
    message = InputMessage(value=orjson.dumps(raw_record(html.encode(), url)))
    record = clean_message(message, Settings())
    assert contracts.is_valid(record, "articles-clean.v1")
    return record


def json_ld(**fields: str) -> str:
    obj = {"@type": "NewsArticle", **fields}
    return f"<script type='application/ld+json'>{json.dumps(obj)}</script>"


def test_the_markup_date_modified_beside_the_publication_date() -> None:
    record = clean(json_ld(datePublished="2024-03-01T09:00:00Z", dateModified="2024-03-05"))
    assert (record["published_at"], record["modified_at"]) == ("2024-03-01", "2024-03-05")


def test_the_modified_meta_tag() -> None:
    head = (
        "<meta property='article:published_time' content='2024-03-01T09:00:00Z'>"
        "<meta property='article:modified_time' content='2024-03-07T10:00:00Z'>"
    )
    assert clean(head)["modified_at"] == "2024-03-07"


def test_an_updated_label_beside_the_headline_when_the_markup_has_none() -> None:
    head = json_ld(datePublished="2024-03-01")
    record = clean(head, byline="By Ana Silva. Published March 1, 2024. Updated March 9, 2024")
    assert (record["published_at"], record["modified_at"]) == ("2024-03-01", "2024-03-09")


def test_no_stated_modification_is_none_even_when_a_date_is_found() -> None:
    # The permalink gives the publication day; nothing says the article was modified.
    record = clean(url="https://news.example/2024/03/01/bridge/")
    assert record["published_at"] == "2024-03-01"
    assert record["modified_at"] is None


def test_a_modified_date_before_the_publication_is_dropped() -> None:
    head = json_ld(datePublished="2024-03-01", dateModified="2019-01-01")
    assert clean(head)["modified_at"] is None
