"""Benchmark of the enrichment stage: CPU milliseconds per document for each enricher, and
the worker's memory, measured side by side in one run on one core.

Usage: ``python bench/enrichment.py [--rounds N]``. Documents: the English sample pages after
the cleaning stage, and one 600-word article made of their opening paragraphs (the budget's
unit). Each round clears the NER cache first, so the first NER-based enricher (entities)
carries the cost of the NER pass that places, keyphrases and dates reuse. The near-duplicate
index is the real Redis of NEWSFLOW_REDIS_URL under a throw-away key prefix (memory if
Redis is down; the table says which).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
import uuid
from pathlib import Path

import redis

from workers.cleaning.stage import clean_message
from workers.enrichment.enrichers import build_enrichers
from workers.enrichment.enrichers.fingerprint import signature
from workers.kafka.produce import encode_raw, iter_records
from workers.nlp import ner
from workers.nlp.clusters import find_clusters
from workers.records.message import InputMessage
from workers.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "workers" / "samples"
BUDGET_WORDS = 600
WIDE_NER_WINDOW = 3000  # what twice the default window costs, for comparison


def english_samples(settings: Settings) -> list[dict]:
    articles = []
    for record in iter_records([SAMPLES]):
        key, value, _ = encode_raw(record)
        article = clean_message(InputMessage(value, key=key), settings)
        if article["language"] == "en":
            articles.append(article)
    return articles


def six_hundred_words(articles: list[dict]) -> dict:
    """One article of exactly 600 words made of whole paragraphs of the samples, in turn."""
    paragraphs, words = [], 0
    queues = [a["text"].split("\n") for a in articles]
    while words < BUDGET_WORDS:
        for queue in queues:
            if queue and words < BUDGET_WORDS:
                paragraph = queue.pop(0)
                take = paragraph.split()[: BUDGET_WORDS - words]
                paragraphs.append(" ".join(take))
                words += len(take)
    return {**articles[0], "document_id": "b" * 32, "text": "\n".join(paragraphs)}


def measure(enrichers, article: dict, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {e.name: [] for e in enrichers}
    for _ in range(rounds):
        ner.entities.cache_clear()
        find_clusters.cache_clear()
        signature.cache_clear()
        for enricher in enrichers:
            started = time.process_time()
            enricher(article)
            times[enricher.name].append((time.process_time() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs per document")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    prefix = f"newsflow-bench:{uuid.uuid4().hex[:8]}:"
    settings = Settings(dedup_key_prefix=prefix)
    try:
        redis.Redis.from_url(settings.redis_url).ping()
    except redis.RedisError:
        settings = Settings(dedup_backend="memory")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    enrichers = build_enrichers(settings)
    load_s = time.perf_counter() - started
    samples = english_samples(settings)
    budget_doc = six_hundred_words(samples)
    for article in samples:  # warm-up: caches, lazy imports, first-call costs
        for enricher in enrichers:
            enricher(article)

    per_sample = {e.name: [] for e in enrichers}
    for article in samples:
        for name, values in measure(enrichers, article, args.rounds).items():
            per_sample[name].append(statistics.median(values))
    on_budget_doc = {
        name: statistics.median(values)
        for name, values in measure(enrichers, budget_doc, args.rounds).items()
    }
    wide = build_enrichers(settings.model_copy(update={"ner_max_chars": WIDE_NER_WINDOW}))
    for enricher in wide:
        enricher(budget_doc)
    on_budget_doc_wide = {
        name: statistics.median(values)
        for name, values in measure(
            wide, {**budget_doc, "document_id": "c" * 32}, args.rounds
        ).items()
    }
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    words = [len(a["text"].split()) for a in samples]
    print(
        f"settings: NEWSFLOW_NER_MAX_CHARS={settings.ner_max_chars}, "
        f"MinHash {settings.minhash_permutations} permutations"
    )
    print(
        f"enrichment benchmark · {time.strftime('%Y-%m-%d')} · {platform.python_version()} · "
        f"{os.cpu_count()} cores (pinned to one) · dedup backend {settings.dedup_backend} · "
        f"{args.rounds} rounds"
    )
    print(
        f"documents: {len(samples)} English samples ({min(words)}-{max(words)} words, median "
        f"{statistics.median(words):.0f}) and one {BUDGET_WORDS}-word article\n"
    )
    print(
        f"| enricher | ms CPU/doc, samples (median of medians) | ms CPU, {BUDGET_WORDS}-word "
        f"| ms CPU, {BUDGET_WORDS}-word, NEWSFLOW_NER_MAX_CHARS={WIDE_NER_WINDOW} |"
    )
    print("|---|---:|---:|---:|")
    for enricher in enrichers:
        name = enricher.name
        print(
            f"| {name} | {statistics.median(per_sample[name]):.2f} | "
            f"{on_budget_doc[name]:.2f} | {on_budget_doc_wide[name]:.2f} |"
        )
    total_samples = sum(statistics.median(v) for v in per_sample.values())
    print(
        f"| **total** | **{total_samples:.2f}** | **{sum(on_budget_doc.values()):.2f}** "
        f"| **{sum(on_budget_doc_wide.values()):.2f}** |"
    )
    print(
        f"\nmodels loaded in {load_s:.2f} s · max RSS {rss:.0f} MB "
        f"(before loading: {rss_before:.0f} MB)"
    )
    if settings.dedup_backend == "redis":
        client = redis.Redis.from_url(settings.redis_url)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)


if __name__ == "__main__":
    main()
