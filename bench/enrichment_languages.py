"""CPU per article of each enricher on the non-English sample pages, beside an English
article of the same length, measured side by side in one run on one core.

Usage: ``python -m bench.enrichment_languages [--rounds N]``. For each German, Spanish and
French sample (after the cleaning stage) the English article is made of the English samples'
paragraphs cut at the same number of words. An enricher that does not read a language costs
what the stage spends writing its skip member. The ratio is the non-English article's CPU
over the English one's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.enrichment import (
    SAMPLES,
    english_samples,
    measure,
)
from workers.cleaning.stage import clean_message
from workers.enrichment.enrichers import build_enrichers, skip_reason
from workers.kafka.produce import encode_raw, iter_records
from workers.records.message import InputMessage
from workers.settings import Settings


def other_samples(settings: Settings) -> list[dict]:
    articles = []
    for record in iter_records([SAMPLES]):
        key, value, _ = encode_raw(record)
        article = clean_message(InputMessage(value, key=key), settings)
        if article["language"] != "en":
            articles.append(article)
    return articles


def english_of_length(english: list[dict], words: int, like: dict) -> dict:
    """An English article of exactly ``words`` words made of the English samples' paragraphs
    in turn, with ``like``'s dates and ids."""
    paragraphs, count = [], 0
    queues = [a["text"].split("\n") for a in english]
    while count < words and any(queues):
        for queue in queues:
            if queue and count < words:
                take = queue.pop(0).split()[: words - count]
                paragraphs.append(" ".join(take))
                count += len(take)
    return {**like, "language": "en", "text": "\n".join(paragraphs), "document_id": "e" * 32}


def costs(enrichers, article: dict, rounds: int) -> dict[str, float]:
    """Median ms CPU per enricher; a skipped one costs its skip decision."""
    reading = [e for e in enrichers if skip_reason(e, article) is None]
    times = {name: statistics.median(v) for name, v in measure(reading, article, rounds).items()}
    for enricher in enrichers:
        if enricher.name not in times:
            started = time.process_time()
            for _ in range(rounds):
                skip_reason(enricher, article)
            times[enricher.name] = (time.process_time() - started) * 1000 / rounds
    return times


def main() -> None:
    rounds = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    rounds.add_argument("--rounds", type=int, default=9, help="runs of each article")
    args = rounds.parse_args()
    if hasattr(os, "sched_setaffinity"):  # the English bench's single core, for comparison
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = Settings(dedup_backend="memory")
    enrichers = build_enrichers(settings)
    english = english_samples(settings)
    pairs = []
    for article in other_samples(settings):
        words = len(article["text"].split())
        pairs.append((article, english_of_length(english, words, article)))
    for article, twin in pairs:  # warm-up: caches, lazy imports, first-call costs
        costs(enrichers, article, 1)
        costs(enrichers, twin, 1)
    print(f"enrichment per language · {time.strftime('%Y-%m-%d')} · {args.rounds} rounds, one core")
    header = "| enricher |"
    rule = "|---|"
    rows = {e.name: f"| {e.name} |" for e in enrichers}
    totals = "| **all** |"
    for article, twin in pairs:
        language, words = article["language"], len(article["text"].split())
        header += f" {language} ({words} words) | en ({words} words) | ratio |"
        rule += "---:|---:|---:|"
        other, same = costs(enrichers, article, args.rounds), costs(enrichers, twin, args.rounds)
        for enricher in enrichers:
            name = enricher.name
            ratio = other[name] / same[name] if same[name] > 0.01 else float("nan")
            rows[name] += f" {other[name]:.2f} | {same[name]:.2f} | {ratio:.2f} |"
        total_other, total_same = sum(other.values()), sum(same.values())
        totals += (
            f" **{total_other:.2f}** | **{total_same:.2f}** | **{total_other / total_same:.2f}** |"
        )
    print(header)
    print(rule)
    for row in rows.values():
        print(row)
    print(totals)


if __name__ == "__main__":
    main()
