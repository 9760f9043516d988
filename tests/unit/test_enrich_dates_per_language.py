"""Dates beyond English: expressions of German, Spanish, French, Italian, Dutch, Portuguese and
Russian found from dateparser's locale data and resolved with the English conventions."""

from __future__ import annotations

import pytest

from tests.support.samples import clean_sample
from workers.enrichment.enrichers.dates import DatesEnricher
from workers.settings import Settings

ANCHOR = "2024-06-19"  # a Wednesday

# (language, text, [(expression as written, resolved value)])
CASES = [
    (
        "de",
        "Die Regierung hat gestern beschlossen, am Dienstag und am 19. Juni 2024 zu tagen. "
        "Im März 2023, im Jahr 2019 und letzten Montag, vor drei Jahren. Am Morgen kam er, "
        "heute Morgen auch, morgen wieder.",
        [
            ("gestern", "2024-06-18"),
            ("Dienstag", "2024-06-18"),
            ("19. Juni 2024", "2024-06-19"),
            ("März 2023", "2023-03"),
            ("2019", "2019"),
            ("letzten Montag", "2024-06-17"),
            ("vor drei Jahren", "2021"),
            ("heute", "2024-06-19"),  # "Morgen", the noun, is no date
            ("morgen", "2024-06-20"),
        ],
    ),
    (
        "es",
        "Ayer, el pasado lunes y el lunes próximo; el 3 de marzo y el 3 de marzo de 2023; "
        "en enero; esta mañana y mañana; en 2019; el año pasado.",
        [
            ("Ayer", "2024-06-18"),
            ("pasado lunes", "2024-06-17"),
            ("lunes próximo", "2024-06-24"),
            ("3 de marzo", "2024-03-03"),
            ("3 de marzo de 2023", "2023-03-03"),
            ("enero", "2024-01"),
            ("mañana", "2024-06-20"),  # "esta mañana" is this morning
            ("2019", "2019"),
            ("el año pasado", "2023"),
        ],
    ),
    (
        "fr",
        "Hier, lundi dernier et mardi prochain; le 1er mai et le 3 mars 2023; en janvier; "
        "demain; il y a trois ans; l'année dernière.",
        [
            ("Hier", "2024-06-18"),
            ("lundi dernier", "2024-06-17"),
            ("mardi prochain", "2024-06-25"),
            ("1er mai", "2024-05-01"),
            ("3 mars 2023", "2023-03-03"),
            ("janvier", "2024-01"),
            ("demain", "2024-06-20"),
            ("il y a trois ans", "2021"),
            ("l'année dernière", "2023"),
        ],
    ),
    (
        "it",
        "Ieri, lunedì scorso e domenica scorsa; il 3 marzo 2023; a gennaio; nel 2019.",
        [
            ("Ieri", "2024-06-18"),
            ("lunedì scorso", "2024-06-17"),
            ("domenica scorsa", "2024-06-16"),
            ("3 marzo 2023", "2023-03-03"),
            ("gennaio", "2024-01"),
            ("2019", "2019"),
        ],
    ),
    (
        "nl",
        "Gisteren, afgelopen maandag en volgende dinsdag; 14.03.2024; in januari; 3 jaar "
        "geleden; vorig jaar.",
        [
            ("Gisteren", "2024-06-18"),
            ("afgelopen maandag", "2024-06-17"),
            ("volgende dinsdag", "2024-06-25"),
            ("14.03.2024", "2024-03-14"),
            ("januari", "2024-01"),
            ("3 jaar geleden", "2021"),
            ("vorig jaar", "2023"),
        ],
    ),
    (
        "pt",
        "Ontem, na segunda-feira passada e na próxima terça-feira; 3 de março de 2023; "
        "em 2019; pela segunda vez.",
        [
            ("Ontem", "2024-06-18"),
            ("segunda-feira passada", "2024-06-17"),
            ("próxima terça-feira", "2024-06-25"),
            ("3 de março de 2023", "2023-03-03"),
            ("2019", "2019"),  # "segunda vez" is the second time, not Monday
        ],
    ),
    (
        "ru",
        "Вчера, в прошлый понедельник и в следующую среду; 3 марта 2023 года; три года назад; "
        "в 2019 году; в прошлом году.",
        [
            ("Вчера", "2024-06-18"),
            ("прошлый понедельник", "2024-06-17"),
            ("следующую среду", "2024-06-26"),
            ("3 марта 2023", "2023-03-03"),
            ("три года назад", "2021"),
            ("2019", "2019"),
            ("в прошлом году", "2023"),
        ],
    ),
]


@pytest.fixture(scope="module")
def enricher() -> DatesEnricher:
    return DatesEnricher(Settings())


@pytest.mark.parametrize(("language", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_expressions_resolve_in_each_language(enricher, language, text, expected) -> None:
    article = {"text": text, "language": language, "published_at": ANCHOR}
    result = enricher(article)
    assert result["anchor"] == ANCHOR
    assert [(d["text"], d["value"]) for d in result["dates"]] == expected
    for found in result["dates"]:
        assert text[found["start"] : found["end"]] == found["text"]


def test_the_german_sample_page(enricher) -> None:
    article = clean_sample("07")
    assert article["language"] == "de"
    dates = [(d["text"], d["value"]) for d in enricher(article)["dates"]]
    # "bis 2030", "im Februar" (before the 2024-03-14 publication), „Heute wird …"
    assert dates == [("2030", "2030"), ("Februar", "2024-02"), ("Heute", "2024-03-14")]
