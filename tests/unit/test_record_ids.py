"""workers.records.ids: URL normalisation and the document id every stage keys by."""

from __future__ import annotations

import hashlib
import re

import pytest

from workers.records.ids import document_id, normalise_url

ARTICLE = "https://www.example.com/News/2024/06/Story?a=1&b=2"


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        # tracking parameters dropped, the rest sorted
        (
            "https://www.example.com/News/2024/06/Story?utm_source=x&b=2&utm_medium=email"
            "&a=1&fbclid=IwAR0abc",
            ARTICLE,
        ),
        (
            "https://example.com/x?utm_campaign=summer&utm_term=t&utm_content=c",
            "https://example.com/x",
        ),
        ("https://example.com/x?gclid=123", "https://example.com/x"),
        # fragment dropped
        ("https://example.com/x#comments", "https://example.com/x"),
        ("https://example.com/x?b=2&a=1#top", "https://example.com/x?a=1&b=2"),
        # scheme and host lower-cased, path kept as written
        ("HTTPS://WWW.Example.COM/News/2024/06/Story?a=1&b=2", ARTICLE),
        # default ports dropped, others kept
        ("https://example.com:443/x", "https://example.com/x"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        # surrounding white space
        ("  https://example.com/x\n", "https://example.com/x"),
    ],
)
def test_normalise_url(url: str, normal: str) -> None:
    assert normalise_url(url) == normal


def test_normalised_url_is_idempotent() -> None:
    assert normalise_url(normalise_url(ARTICLE + "&utm_source=x#f")) == ARTICLE


def test_document_id_is_32_lowercase_hex_of_sha256_of_normalised_url() -> None:
    doc_id = document_id(ARTICLE)
    assert re.fullmatch(r"[0-9a-f]{32}", doc_id)
    assert doc_id == hashlib.sha256(ARTICLE.encode("utf-8")).hexdigest()[:32]


def test_tracking_variants_of_one_article_share_an_id() -> None:
    variants = [
        ARTICLE,
        "HTTPS://WWW.EXAMPLE.COM:443/News/2024/06/Story?b=2&a=1",
        "https://www.example.com/News/2024/06/Story?a=1&b=2#comments",
        "https://www.example.com/News/2024/06/Story?utm_source=newsletter&a=1&b=2&fbclid=xyz",
    ]
    assert {document_id(url) for url in variants} == {document_id(ARTICLE)}


@pytest.mark.parametrize(
    "other",
    [
        "https://www.example.com/News/2024/06/Other-story?a=1&b=2",  # other path
        "https://www.example.com/news/2024/06/story?a=1&b=2",  # path case is significant
        "https://www.example.com/News/2024/06/Story?a=1&b=3",  # other non-tracking query
        "https://www.example.com/News/2024/06/Story",  # no query
        "https://news.example.com/News/2024/06/Story?a=1&b=2",  # other host
        "https://www.example.com:8443/News/2024/06/Story?a=1&b=2",  # other port
    ],
)
def test_different_articles_get_different_ids(other: str) -> None:
    assert document_id(other) != document_id(ARTICLE)
