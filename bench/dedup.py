"""Benchmark of near-duplicate detection: recall per kind of copy and precision, for the
enricher's index beside plain MinHash LSH (datasketch) and exact hashing, in one run.

Usage: ``python -m bench.dedup [--data DIR] [--redis URL] [--pairs N]``.

Stories: the WCXB development articles' texts of at least 100 words (``bench/wcxb.py``);
copies: ``bench/dedup_variants.py`` (other boilerplate, 5% of words edited, last 20% of
paragraphs cut, two paragraphs swapped and a new lead). Each system is fed every story,
then every copy, in that order; a copy is found when the system names an earlier document
of its story, and precision is the share of named documents that are of the same story
(every other story is a distinct one). The layouts are compared on the even-numbered
stories (development half); the systems table reports the odd-numbered (held-out) half and
all stories. The threshold curve is measured on random shingle sets of exact similarity.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import random
import time
from collections import Counter
from pathlib import Path

import datasketch
from datasketch import MinHash

from bench.dedup_systems import BEFORE, CHOSEN, ExactHash, Finder, Layout, Newsflow, PlainLSH
from bench.dedup_variants import VARIANTS, Story, copies, read_stories
from bench.wcxb import DEFAULT_DATA
from workers.enrichment.dedup_index import InProcessIndex
from workers.enrichment.enrichers.fingerprint import MINHASH_SEED
from workers.settings import Settings

DATA = DEFAULT_DATA
KINDS = list(VARIANTS)
LAYOUTS = [
    BEFORE,
    Layout(3, 64, 8),
    Layout(3, 128, 32),
    Layout(1, 128, 32),
    Layout(4, 128, 32),
    Layout(2, 64, 16),
    Layout(2, 64, 21),
    Layout(2, 128, 16),
    CHOSEN,
    Layout(2, 128, 42),
    Layout(2, 128, 32, containment=float("inf")),
    Layout(2, 256, 64),
]
SIMILARITIES = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
CONTAINED = [0.6, 0.4]  # a copy that is the first 60% (40%) of the other's shingles


def documents(stories: list[Story]) -> list[tuple[str, str, str, str]]:
    """(document id, story id, kind, text): every story, then every copy, kind by kind."""
    rows = [("original", s.story_id, s.text) for s in stories]
    for kind in KINDS:
        rows += [
            (kind, s.story_id, text) for s, text in zip(stories, copies(stories, kind), strict=True)
        ]
    return [
        (hashlib.md5(f"{story}:{kind}".encode()).hexdigest(), story, kind, text)
        for kind, story, text in rows
    ]


def evaluate(finder: Finder, docs: list[tuple[str, str, str, str]]) -> dict:
    story_of: dict[str, str] = {}
    found, total, named, right, answers, wrong = Counter(), Counter(), 0, 0, {}, set()
    cpu = time.process_time()
    for document_id, story, kind, text in docs:
        reported = finder.report(document_id, text)
        story_of[document_id] = story
        answers[document_id] = reported
        named += len(reported)
        right += sum(story_of[other] == story for other in reported)
        wrong |= {f"{story} -> {story_of[o]}" for o in reported if story_of[o] != story}
        if kind != "original":
            total[kind] += 1
            found[kind] += any(story_of[other] == story for other in reported)
    cpu = time.process_time() - cpu
    return {
        "recall": {kind: found[kind] / total[kind] for kind in KINDS},
        "precision": right / named if named else 1.0,
        "false": named - right,
        "cpu_ms": 1000 * cpu / len(docs),
        "answers": answers,
        "wrong": wrong,
    }


def row(name: str, score: dict, *extra: str) -> str:
    recall = " | ".join(f"{score['recall'][kind]:.3f}" for kind in KINDS)
    return f"| {name} | {recall} | {score['precision']:.4f} | {score['false']} | " + " | ".join(
        extra
    )


def layout_table(stories: list[Story]) -> None:
    docs = documents(stories)
    print(f"\n### Layouts: development half ({len(stories)} stories, {len(docs)} documents)\n")
    print(f"| layout | {' | '.join(KINDS)} | precision | false matches |")
    print("|---" * (len(KINDS) + 3) + "|")
    wrong = set()
    for layout in LAYOUTS:
        score = evaluate(Newsflow(layout), docs)
        wrong |= score["wrong"]
        print(row(str(layout), score).rstrip(" |") + " |")
    print(f"\nFalse matches (story -> earlier story): {', '.join(sorted(wrong)) or 'none'}")


def random_pair(similarity: float, contained: bool, rng: random.Random) -> tuple[list, list]:
    """Two sets of random shingles with the given exact Jaccard similarity: of equal size,
    or the second the first's opening share (then similarity = that share)."""
    if contained:
        first = [rng.randbytes(8) for _ in range(500)]
        return first, first[: round(similarity * 500)]
    union = 600
    common = round(similarity * union)
    shared = [rng.randbytes(8) for _ in range(common)]
    alone = [rng.randbytes(8) for _ in range(union - common)]
    half = len(alone) // 2
    return shared + alone[:half], shared + alone[half:]


def minhash_of(shingles: list[bytes], permutations: int) -> tuple[list[int], int]:
    minhash = MinHash(permutations, seed=MINHASH_SEED)
    minhash.update_batch(shingles)
    return [int(v) for v in minhash.hashvalues], len(shingles)


def curve_table(pairs: int) -> None:
    """Share of pairs reported, by exact similarity, for each layout's banding and rule."""
    columns = [(s, False) for s in SIMILARITIES] + [(s, True) for s in CONTAINED]
    signed: dict[tuple[int, float, bool], list] = {}
    for permutations in sorted({layout.permutations for layout in LAYOUTS}):
        rng = random.Random(permutations)
        for similarity, contained in columns:
            signed[permutations, similarity, contained] = [
                [minhash_of(shingles, permutations) for shingles in pair]
                for pair in (random_pair(similarity, contained, rng) for _ in range(pairs))
            ]
    heads = [f"J {s}" for s in SIMILARITIES] + [f"contained {s}" for s in CONTAINED]
    print(f"\n### Threshold curve: share of {pairs} pairs reported, by exact similarity\n")
    print(f"| banding and rule | {' | '.join(heads)} |")
    print("|---" * (len(heads) + 1) + "|")
    seen = set()
    for layout in LAYOUTS:
        key = (layout.permutations, layout.bands, layout.containment)
        if key in seen:
            continue
        seen.add(key)
        shares = []
        for similarity, contained in columns:
            reported = 0
            for (first, n_first), (second, n_second) in signed[
                layout.permutations, similarity, contained
            ]:
                index = InProcessIndex(layout.rule, layout.bands, layout.rows)
                index.add_and_match("a", first, n_first)
                reported += index.add_and_match("b", second, n_second) is not None
            shares.append(f"{reported / pairs:.3f}")
        rule = (
            "J only" if layout.containment == float("inf") else f"containment {layout.containment}"
        )
        name = f"{layout.permutations} perms, {layout.bands}x{layout.rows} bands, {rule}"
        print(f"| {name} | {' | '.join(shares)} |")


def systems_table(title: str, stories: list[Story], redis_url: str) -> None:
    docs = documents(stories)
    print(f"\n### Systems: {title} ({len(stories)} stories, {len(docs)} documents)\n")
    print(
        f"| system | {' | '.join(KINDS)} | precision | false matches | CPU ms/doc | "
        "Redis round trips/doc | Redis GB per million docs |"
    )
    print("|---" * (len(KINDS) + 6) + "|")
    print(row(ExactHash().name, s := evaluate(ExactHash(), docs), f"{s['cpu_ms']:.2f}", "-", "- |"))
    for layout in (BEFORE, CHOSEN):
        plain = PlainLSH(layout)
        print(row(plain.name, s := evaluate(plain, docs), f"{s['cpu_ms']:.2f}", "-", "- |"))
    agreement = []
    for layout, label in ((BEFORE, "newsflow before (122ce17)"), (CHOSEN, "newsflow")):
        memory = evaluate(Newsflow(layout, label=label), docs)
        shared = Newsflow(layout, redis_url, label=label)
        score = evaluate(shared, docs)
        per_million = shared.redis_bytes() / len(docs) * 1e6 / 1e9
        trips = f"{shared.round_trips / len(docs):.2f}"
        print(row(shared.name, score, f"{score['cpu_ms']:.2f}", trips, f"{per_million:.2f} |"))
        print(row(f"{label} (memory)", memory, f"{memory['cpu_ms']:.2f}", "-", "- |"))
        same = sum(memory["answers"][d] == score["answers"][d] for d in memory["answers"])
        agreement.append(f"{label}: {same}/{len(docs)}")
    print(f"\nSame answer in Redis and in memory: {', '.join(agreement)} documents.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--redis", default=Settings().redis_url)
    parser.add_argument("--pairs", type=int, default=500, help="pairs per curve column")
    args = parser.parse_args()
    stories = read_stories(args.data)
    print(
        f"Python {platform.python_version()}, datasketch {datasketch.__version__}; "
        f"{len(stories)} stories of {args.data}"
    )
    layout_table(stories[0::2])
    curve_table(args.pairs)
    systems_table("held-out half", stories[1::2], args.redis)
    systems_table("all stories", stories, args.redis)


if __name__ == "__main__":
    main()
