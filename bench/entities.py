"""Benchmark of entity extraction: newsflow's ``entities`` enricher beside the same spaCy model
reading the whole text, on the CoNLL-2003 development stories (``../shared/data/conll2003-dev``).

Usage: ``python bench/entities.py [--limit N]``. Scoring, as the set's README says: per story
the distinct (type, name) entities; a system's name counts as found when it equals (case
aside) any gold mention of the entity; gold mentions of one type join the longer mention they
start or end ("Putin" → "Vladimir Putin"). spaCy PERSON→PER, ORG→ORG, GPE/LOC/FAC→LOC; MISC
left out. Stories 1, 4, 7, ... (one in three) were kept out of development ("held-out").
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bench.ner_scoring import TYPES, detokenise, f1, gold_entities, tally
from workers.enrichment.enrichers.entities import EntitiesEnricher
from workers.nlp import ner
from workers.nlp.clusters import find_clusters
from workers.settings import Settings

# ../shared/data beside the repository; NEWSFLOW_SHARED_DATA points elsewhere (a worktree).
SHARED_DATA = Path(
    os.environ.get("NEWSFLOW_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
DATA = SHARED_DATA / "conll2003-dev" / "eng.testa"
SPACY_TYPES = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
WHOLE_TEXT = 100_000  # a budget no story reaches
GROUPS = {"persons": "PER", "organisations": "ORG", "places": "LOC"}


def stories() -> list[tuple[str, dict[str, list[set[str]]]]]:
    """(text, gold entities by type as sets of their mention spellings) of each story."""
    result, sentences, mentions = [], [], []
    sentence, chunk, chunk_type = [], [], None

    def close_chunk() -> None:
        nonlocal chunk, chunk_type
        if chunk and chunk_type in TYPES:
            mentions.append((chunk_type, detokenise(chunk)))
        chunk, chunk_type = [], None

    def close_story() -> None:
        close_chunk()
        if sentence:
            sentences.append(detokenise(sentence))
            sentence.clear()
        if sentences:
            result.append(("\n".join(sentences), gold_entities(mentions)))
        sentences.clear()
        mentions.clear()

    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            close_story()
            continue
        if not line.strip():
            close_chunk()
            if sentence:
                sentences.append(detokenise(sentence))
                sentence = []
            continue
        token, _, _, tag = line.split()
        sentence.append(token)
        kind = tag[2:] if tag != "O" else None
        if kind != chunk_type or tag.startswith("B-"):
            close_chunk()
        if kind:
            chunk.append(token)
            chunk_type = kind
    close_story()
    return result


def ours(enricher: EntitiesEnricher, text: str) -> dict[str, set[str]]:
    title = text.split("\n", 1)[0]
    result = enricher({"text": text, "title": title, "language": "en"})
    return {GROUPS[g]: {e["name"] for e in items} for g, items in result.items()}


def whole_text_spacy(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for ent in ner.model()(text).ents:
        if ent.label_ in SPACY_TYPES:
            found[SPACY_TYPES[ent.label_]].add(ent.text)
    return found


def batching(texts: list[str], batch_size: int = 16) -> tuple[float, float]:
    """ms CPU per story of spaCy's NER over the whole texts one at a time, and as a worker
    would batch the messages it fetched (``nlp.pipe``, outputs in input order)."""
    nlp = ner.model()
    started = time.process_time()
    for text in texts:
        nlp(text)
    alone = (time.process_time() - started) * 1000 / len(texts)
    started = time.process_time()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return alone, (time.process_time() - started) * 1000 / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="stories (0: all)")
    args = parser.parse_args()
    data = stories()[: args.limit or None]
    default = Settings().ner_max_chars
    systems = {
        f"newsflow, NER budget {chars}" + (" (default)" if chars == default else ""): (
            EntitiesEnricher(Settings(ner_max_chars=chars))
        )
        for chars in (default, 2 * default, WHOLE_TEXT)
    }
    counts: dict = {
        (name, part): defaultdict(lambda: defaultdict(int))
        for name in [*systems, "spaCy on the whole text"]
        for part in ("dev", "held-out")
    }
    cpu: dict = defaultdict(list)
    for index, (text, gold) in enumerate(data):
        part = "held-out" if index % 3 == 1 else "dev"
        for name, enricher in systems.items():
            ner.entities.cache_clear()
            find_clusters.cache_clear()
            started = time.process_time()
            found = ours(enricher, text)
            cpu[name].append((time.process_time() - started) * 1000)
            tally(found, gold, counts[(name, part)])
        started = time.process_time()
        found = whole_text_spacy(text)
        cpu["spaCy on the whole text"].append((time.process_time() - started) * 1000)
        tally(found, gold, counts[("spaCy on the whole text", part)])

    print(f"entities benchmark · {time.strftime('%Y-%m-%d')} · {platform.python_version()}")
    print(f"{len(data)} CoNLL-2003 dev stories; document-level entity sets; F1 per type\n")
    print(
        "| system | part | PER F1 | ORG F1 | LOC F1 | micro P | micro R | **micro F1** "
        "| ms CPU/doc |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (name, part), by_type in counts.items():
        cells, total = [], defaultdict(int)
        for kind in TYPES:
            c = by_type[kind]
            for field in c:
                total[field] += c[field]
            cells.append(f"{f1(c)[2]:.3f}")
        p, r, f = f1(total)
        print(
            f"| {name} | {part} | {' | '.join(cells)} | {p:.3f} | {r:.3f} | **{f:.3f}** "
            f"| {statistics.mean(cpu[name]):.1f} |"
        )
    alone, batched = batching([text for text, _ in data])
    print(
        f"\nlever, spaCy NER on the whole texts: one story at a time {alone:.1f} ms CPU/story, "
        f"nlp.pipe in batches of 16 {batched:.1f} ms ({batched / alone:.2f}x)"
    )


if __name__ == "__main__":
    main()
