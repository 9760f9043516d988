"""Near-copies of news texts, the way syndication makes them, for ``bench/dedup.py``.

Every story is one WCXB development article's ground-truth text (paragraphs separated by a
blank line); each copy is made from it with a random generator seeded by the story's id, so
every run and every system sees the same copies. Material a copy brings in (boilerplate, new
words, a new lead sentence) comes from other articles of the set, never from the story.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.wcxb import page_ids, read_page

MIN_WORDS = 100  # shorter texts are teasers and captions, not stories to cluster
EDITED_SHARE = 0.05
CUT_SHARE = 0.2
_SENTENCE = re.compile(r"[^.!?]{40,}?[.!?](?=\s|$)")


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    title: str
    paragraphs: list[str]
    boilerplate: list[str]  # the page's `without` snippets: what its site wraps a text in

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def read_stories(data: Path) -> list[Story]:
    """Every article of at least MIN_WORDS words, in file order."""
    stories = []
    for page_id in page_ids(data):
        truth = read_page(data, page_id)[1]["ground_truth"]
        paragraphs = [p.strip() for p in truth.get("main_content", "").split("\n\n") if p.strip()]
        if sum(len(p.split()) for p in paragraphs) >= MIN_WORDS:
            stories.append(
                Story(page_id, truth.get("title") or "", paragraphs, truth.get("without") or [])
            )
    return stories


def other_boilerplate(story: Story, others: list[Story], rng: random.Random) -> str:
    """The same text inside another site's boilerplate: its navigation and footer snippets,
    and links to three of its other stories."""
    site, *related = rng.sample(others, 4)
    snippets = site.boilerplate or ["Share this article", "Sign up for our newsletter"]
    half = max(1, len(snippets) // 2)
    head = " | ".join(snippets[:half])
    tail = "\n\n".join(["Related stories", *(r.title for r in related), *snippets[half:]])
    return f"{head}\n\n{story.text}\n\n{tail}"


def edited(story: Story, others: list[Story], rng: random.Random) -> str:
    """EDITED_SHARE of the words substituted (by words of another story) or deleted."""
    vocabulary = rng.choice(others).text.split()
    paragraphs = [p.split() for p in story.paragraphs]
    places = [(i, j) for i, words in enumerate(paragraphs) for j in range(len(words))]
    for i, j in rng.sample(places, max(1, round(EDITED_SHARE * len(places)))):
        paragraphs[i][j] = rng.choice(vocabulary) if rng.random() < 0.5 else ""
    return "\n\n".join(" ".join(w for w in words if w) for words in paragraphs)


def truncated(story: Story, others: list[Story], rng: random.Random) -> str:
    """The last CUT_SHARE of the paragraphs cut (of the words, for a one-paragraph text)."""
    paragraphs = story.paragraphs
    if len(paragraphs) == 1:
        words = paragraphs[0].split()
        return " ".join(words[: round(len(words) * (1 - CUT_SHARE))])
    keep = len(paragraphs) - max(1, round(CUT_SHARE * len(paragraphs)))
    return "\n\n".join(paragraphs[:keep])


def reordered(story: Story, others: list[Story], rng: random.Random) -> str:
    """Two paragraphs swapped and a new lead sentence (another story's first sentence)."""
    paragraphs = list(story.paragraphs)
    if len(paragraphs) > 1:
        i, j = rng.sample(range(len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
    source = rng.choice(others).text
    lead = _SENTENCE.search(source)
    return "\n\n".join([lead.group(0).strip() if lead else source[:200], *paragraphs])


VARIANTS: dict[str, Callable[[Story, list[Story], random.Random], str]] = {
    "other boilerplate": other_boilerplate,
    "5% edited": edited,
    "truncated": truncated,
    "reordered": reordered,
}


def copies(stories: list[Story], kind: str) -> list[str]:
    """One copy of each story, of the given kind, in the stories' order."""
    make = VARIANTS[kind]
    result = []
    for n, story in enumerate(stories):
        others = stories[:n] + stories[n + 1 :]
        result.append(make(story, others, random.Random(f"{kind}:{story.story_id}")))
    return result
