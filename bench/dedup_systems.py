"""The near-duplicate finders ``bench/dedup.py`` compares, each behind one interface: fed the
documents in order, ``report(document_id, text)`` names the earlier documents it takes the
text to copy (empty when none). Signing is part of a finder, so its CPU counts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis
from datasketch import MinHash, MinHashLSH

from workers.enrichment.dedup_index import InProcessIndex, RedisIndex, Rule
from workers.enrichment.enrichers.fingerprint import (
    MINHASH_SEED,
    content_hash,
    shingles,
    signature,
)
from workers.state.connection import StateUnavailable, connect

NO_CONTAINMENT = float("inf")  # the index before the containment rule


@dataclass(frozen=True, slots=True)
class Layout:
    shingle_words: int
    permutations: int
    bands: int
    containment: float = 0.9
    threshold: float = 0.7

    @property
    def rows(self) -> int:
        return self.permutations // self.bands

    @property
    def rule(self) -> Rule:
        return Rule(self.threshold, self.containment)

    def __str__(self) -> str:
        check = "" if self.containment == NO_CONTAINMENT else f" + containment {self.containment}"
        return (
            f"{self.shingle_words}-word shingles, {self.permutations} perms, "
            f"{self.bands}x{self.rows} bands{check}"
        )


BEFORE = Layout(3, 64, 8, NO_CONTAINMENT)  # main at 122ce17
CHOSEN = Layout(2, 128, 32)  # the defaults in workers/settings.py


def sign(text: str, layout: Layout):
    return signature.__wrapped__(text, layout.permutations, layout.shingle_words)


class Finder:
    name: str

    def report(self, document_id: str, text: str) -> set[str]:
        raise NotImplementedError


class ExactHash(Finder):
    name = "exact hash of the normalised text"

    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def report(self, document_id: str, text: str) -> set[str]:
        earlier = self.first.setdefault(content_hash(text), document_id)
        return set() if earlier == document_id else {earlier}


class PlainLSH(Finder):
    """datasketch's MinHashLSH as documented: query, then insert; every candidate is a match."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.lsh = MinHashLSH(threshold=layout.threshold, num_perm=layout.permutations)
        self.name = (
            f"datasketch MinHashLSH (threshold {layout.threshold}: "
            f"{self.lsh.b}x{self.lsh.r} bands; {layout.shingle_words}-word shingles)"
        )

    def report(self, document_id: str, text: str) -> set[str]:
        minhash = MinHash(num_perm=self.layout.permutations, seed=MINHASH_SEED)
        minhash.update_batch(list(shingles(text, self.layout.shingle_words)))
        found = set(self.lsh.query(minhash))
        self.lsh.insert(document_id, minhash)
        return found


class Newsflow(Finder):
    """The enricher's index (workers/enrichment/dedup_index.py) in a given layout."""

    def __init__(self, layout: Layout, redis_url: str | None = None, label: str = "newsflow"):
        self.layout = layout
        if redis_url is None:
            self.index: InProcessIndex | RedisIndex = InProcessIndex(
                layout.rule, layout.bands, layout.rows
            )
        else:
            prefix = f"newsflow-bench:{uuid.uuid4().hex[:8]}:"
            self.index = RedisIndex(
                connect(redis_url, 5.0), prefix, layout.rule, layout.bands, layout.rows, 3600
            )
            self.round_trips = 0
            self.index.client.connection_pool.get_connection = self._counted(
                self.index.client.connection_pool.get_connection
            )
        self.name = f"{label} ({self.index.backend}; {layout})"

    def _counted(self, get_connection: Callable):
        def counted(*args, **kwargs):
            self.round_trips += 1  # redis-py takes a connection once per command or pipeline
            return get_connection(*args, **kwargs)

        return counted

    def report(self, document_id: str, text: str) -> set[str]:
        signed = sign(text, self.layout)
        for attempt in range(3):  # the worker retries a transient failure the same way
            try:
                match = self.index.add_and_match(document_id, signed.hashvalues, signed.shingles)
                return {match.document_id} if match else set()
            except StateUnavailable:
                if attempt == 2:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def redis_bytes(self) -> int:
        """Memory of every key of this index (MEMORY USAGE, summed); deletes the keys."""
        client: redis.Redis = self.index.client
        keys = list(client.scan_iter(match=f"{self.index.prefix}*", count=1000))
        total = 0
        for start in range(0, len(keys), 1000):
            with client.pipeline(transaction=False) as pipe:
                for key in keys[start : start + 1000]:
                    pipe.memory_usage(key, samples=0)
                total += sum(size or 0 for size in pipe.execute())
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return total
