"""The per-site memory keeps each article's own lines (workers.cleaning.site_memory): on
sites assembled from one publisher's template, with promos the template repeats on every
page and per-article datelines, "Updated" lines and headings that also repeat (the same day,
the same section names), the promos go and every article line stays.

Each site is several articles run through the memory in turn, with the worker's default
settings, under both backends (the Redis one on the test's own key prefix).
"""

from __future__ import annotations

import pytest

from workers.cleaning.site_memory import (
    InProcessSiteMemory,
    RedisSiteMemory,
    SiteMemory,
    create_memory,
)
from workers.settings import Settings

SETTINGS = Settings()
STORY = (
    "{topic} was the subject of a long meeting on {day}, where officials from three "
    "departments argued over the budget, the timetable and who would pay for the delays."
)
SITES = {
    "wire.example": {
        "promos": [
            "Sign up for the Morning Wire newsletter",
            "Follow the Wire on social media",
            "Our Standards: The Wire Trust Principles",
        ],
        # Every story filed from London that day carries the same dateline.
        "own": ["LONDON 1996-12-06", "Background"],
        "topics": [
            "The harbour bridge",
            "The rail strike",
            "The steel tariff",
            "The wheat price",
            "The port dispute",
            "The bank merger",
        ],
    },
    "techblog.example": {
        "promos": ["Subscribe to our newsletter", "Share this article", "Related posts"],
        "own": ["Key takeaways", "Conclusion", "Updated 3 March 2024"],
        "topics": [
            "Postgres tuning",
            "Rust async",
            "Kubernetes quotas",
            "Go generics",
            "Python typing",
            "CSS layers",
        ],
    },
    "sport.example": {
        "promos": ["Download the Sport app", "Most read", "Get match alerts"],
        "own": ["Match report", "Team news", "Full-time: 2-1"],
        "topics": [
            "The derby",
            "The cup final",
            "The relegation fight",
            "The title race",
            "The transfer window",
            "The new stadium",
        ],
    },
}


def article(site: dict, topic: str) -> list[str]:
    """One page's lines: promos at the top, the article's own lines each before a paragraph,
    a promo at the bottom."""
    lines = list(site["promos"][:2])
    for own in site["own"]:
        lines += [own, STORY.format(topic=topic, day="Friday")]
    return [*lines, site["promos"][2]]


def memory_for(backend: str, prefix: str) -> SiteMemory:
    if backend == "memory":
        return InProcessSiteMemory(
            SETTINGS.boilerplate_min_pages,
            SETTINGS.boilerplate_max_words,
            SETTINGS.boilerplate_max_lines,
            max_documents=1000,
        )
    memory = create_memory(Settings(boilerplate_backend="redis", boilerplate_key_prefix=prefix))
    assert isinstance(memory, RedisSiteMemory)
    return memory


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_promos_go_and_every_article_line_stays(backend: str, redis_prefix: str) -> None:
    memory = memory_for(backend, redis_prefix)
    warm_up = SETTINGS.boilerplate_min_pages  # pages before a repeated line is known
    for name, site in SITES.items():
        for n, topic in enumerate(site["topics"]):
            lines = article(site, topic)
            kept = memory.filter(name, f"{name}-{n}", lines)
            # No line of the article itself is ever dropped, however often it repeats.
            assert [line for line in lines if line not in site["promos"]] == [
                line for line in kept if line not in site["promos"]
            ]
            if n >= warm_up:
                assert not set(site["promos"]) & set(kept), (name, n, kept)
