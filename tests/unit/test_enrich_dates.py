"""Dates in the seed articles, resolved against their publication dates."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.articles import (
    KIM_IN_VLADIVOSTOK,
    PUTIN_IN_PYONGYANG,
    sample_article,
    seed_article,
)
from workers.enrichment.enrichers.dates import DatesEnricher
from workers.nlp.dates import Resolved, resolve
from workers.settings import Settings

PUTIN_DATES = [
    ("2000", "2000"),
    ("Wednesday", "2024-06-19"),
    ("Wednesday", "2024-06-19"),
    ("February 2022", "2022-02"),
    ("last September", "2023-09"),
    ("Tuesday night", "2024-06-18"),
    ("September", "2023-09"),
    ("2000", "2000"),
]
KIM_DATES = [
    ("2019", "2019"),
    ("today", "2023-09-12"),
    ("Tuesday", "2023-09-12"),
    ("Later this evening", "2023-09-12"),
    ("2019", "2019"),
]


@pytest.mark.parametrize("make", [seed_article, sample_article], ids=["seed-text", "sample-html"])
@pytest.mark.parametrize(
    ("sample", "expected", "anchor"),
    [
        (PUTIN_IN_PYONGYANG, PUTIN_DATES, "2024-06-19"),
        (KIM_IN_VLADIVOSTOK, KIM_DATES, "2023-09-12"),
    ],
)
def test_dates_of_the_seed_articles(make, sample, expected, anchor) -> None:
    article = make(sample)
    result = DatesEnricher(Settings())(article)
    assert (result["anchor"], result["anchor_source"]) == (anchor, "published")
    assert [(d["text"], d["value"]) for d in result["dates"]] == expected
    for found in result["dates"]:
        assert article["text"][found["start"] : found["end"]] == found["text"]
    # NER marks "24 years" and "week-long" as dates too; they are durations.
    assert {d["text"] for d in result["dates"]}.isdisjoint({"24 years", "week-long"})


def test_without_a_publication_date_the_fetch_date_anchors() -> None:
    article = {**seed_article(KIM_IN_VLADIVOSTOK), "published_at": None}
    result = DatesEnricher(Settings())(article)
    assert (result["anchor"], result["anchor_source"]) == ("2024-07-06", "fetched")
    assert ("Tuesday", "2024-07-09") in [(d["text"], d["value"]) for d in result["dates"]]


WEDNESDAY = dt.date(2024, 6, 19)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Wednesday", Resolved("2024-06-19", "day")),
        ("on Friday", Resolved("2024-06-21", "day")),
        ("Sunday", Resolved("2024-06-16", "day")),
        ("last Friday", Resolved("2024-06-14", "day")),
        ("last Wednesday", Resolved("2024-06-12", "day")),
        ("next Monday", Resolved("2024-06-24", "day")),
        ("yesterday", Resolved("2024-06-18", "day")),
        ("tomorrow morning", Resolved("2024-06-20", "day")),
        ("last September", Resolved("2023-09", "month")),
        ("next September", Resolved("2024-09", "month")),
        ("June", Resolved("2024-06", "month")),
        ("last June", Resolved("2023-06", "month")),
        ("19 June 2024", Resolved("2024-06-19", "day")),
        ("June 19, 2024", Resolved("2024-06-19", "day")),
        ("2024-06-19", Resolved("2024-06-19", "day")),
        ("March 3", Resolved("2024-03-03", "day")),
        ("the 1st of May", None),
        ("two years ago", Resolved("2022", "year")),
        ("last year", Resolved("2023", "year")),
        ("next month", Resolved("2024-07", "month")),
        ("24 years", None),
        ("week-long", None),
        ("several minutes", None),
        ("recent years", None),
        ("about 2.45am", None),
    ],
)
def test_resolve(expression: str, expected: Resolved | None) -> None:
    assert resolve(expression, WEDNESDAY) == expected
