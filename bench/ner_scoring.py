"""Scoring of named entities per document, shared by the entity benchmarks
(``bench/entities.py``, ``bench/entities_languages.py``).

Per document, the distinct (type, name) entities: gold mentions of one type join the longer
mention they start or end ("Putin" -> "Vladimir Putin"), and a system's name counts as found
when it equals (case aside) any gold mention of the entity. Token lists are detokenised into
running text the same way for the text and for the gold mentions, so they match.
"""

from __future__ import annotations

import re

TYPES = ("PER", "ORG", "LOC")
_NO_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s\b|'\B|n't\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenise(tokens: list[str]) -> str:
    text, quote_open = [], False
    for token in tokens:
        if token == '"':
            text.append(' "' if not quote_open else '"')
            quote_open = not quote_open
            continue
        glue = text and text[-1] == ' "' and quote_open
        text.append(token if glue or not text else " " + token)
    joined = "".join(text).strip()
    joined = re.sub(r' " ', ' "', joined)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", joined))


def _words(name: str) -> tuple[str, ...]:
    return tuple(name.lower().split())


def gold_entities(mentions: list[tuple[str, str]]) -> dict[str, list[set[str]]]:
    by_type: dict[str, list[set[str]]] = {t: [] for t in TYPES}
    for kind in TYPES:
        names = sorted({n for t, n in mentions if t == kind}, key=lambda n: -len(_words(n)))
        for name in names:
            w = _words(name)
            home = next(
                (
                    e
                    for e in by_type[kind]
                    if any(
                        len(_words(o)) > len(w)
                        and (_words(o)[: len(w)] == w or _words(o)[-len(w) :] == w)
                        for o in e
                    )
                ),
                None,
            )
            if home is None:
                by_type[kind].append({name})
            else:
                home.add(name)
    return by_type


def tally(found: dict[str, set[str]], gold: dict[str, list[set[str]]], counts: dict) -> None:
    for kind in TYPES:
        names = {n.lower() for n in found.get(kind, set())}
        entities = [{m.lower() for m in e} for e in gold[kind]]
        hit = sum(1 for e in entities if e & names)
        correct = sum(1 for n in names if any(n in e for e in entities))
        counts[kind]["gold"] += len(entities)
        counts[kind]["found"] += len(names)
        counts[kind]["recall_hits"] += hit
        counts[kind]["precision_hits"] += correct


def f1(c: dict) -> tuple[float, float, float]:
    """Precision, recall and F1 of the counts :func:`tally` adds up."""
    p = c["precision_hits"] / c["found"] if c["found"] else 0.0
    r = c["recall_hits"] / c["gold"] if c["gold"] else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
