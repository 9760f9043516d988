"""The near-duplicate index: MinHash signatures in LSH bands, shared by every replica.

A document is banded (the signature cut into ``b`` bands of ``r`` values, datasketch's
optimal split for the threshold); documents sharing a band are candidates, and a candidate
whose signature agrees on at least ``threshold`` of its values is a near-duplicate.

Each document gets a sequence number when first added (a redelivery keeps its number), and
only documents with a smaller number count as "earlier": two replicas adding near-copies at
the same moment still agree which one came first, because numbering and adding are one
atomic step (a Lua script in Redis) and looking comes after it.

:class:`RedisIndex` keeps everything in Redis under one key prefix, every key expiring after
``ttl_s``; :class:`MemoryIndex` does the same in one process (the embedded demo only).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import redis
from datasketch import MinHashLSH

from workers.errors import TransientError
from workers.redis_state import connect
from workers.settings import Settings


class IndexUnavailable(TransientError):
    """The shared index cannot be reached; the document cannot be checked now (the worker
    retries it with backoff until Redis is back)."""


@dataclass(frozen=True, slots=True)
class Match:
    document_id: str
    similarity: float


def bands_for(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimising false positives and negatives around threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def band_hashes(hashvalues: Sequence[int], bands: int, rows: int) -> list[str]:
    packed = array("I", hashvalues).tobytes()
    width = rows * 4
    return [
        f"{i}:{hashlib.blake2b(packed[i * width : (i + 1) * width], digest_size=8).hexdigest()}"
        for i in range(bands)
    ]


def best_earlier(
    own_seq: int,
    hashvalues: Sequence[int],
    candidates: dict[str, tuple[int, Sequence[int]]],
    threshold: float,
) -> Match | None:
    """The most similar candidate added before ``own_seq`` at or above ``threshold``."""
    best: Match | None = None
    for doc_id, (seq, other) in sorted(candidates.items(), key=lambda item: item[1][0]):
        if seq >= own_seq or len(other) != len(hashvalues):
            continue
        score = similarity(hashvalues, other)
        if score >= threshold and (best is None or score > best.similarity):
            best = Match(doc_id, round(score, 4))
    return best


class NearDuplicateIndex(Protocol):
    backend: str

    def add_and_match(self, document_id: str, hashvalues: Sequence[int]) -> Match | None:
        """Add the document (idempotent) and return its best earlier near-duplicate."""
        ...


class MemoryIndex:
    """The index in this process only: replicas do not see each other (demo only)."""

    backend = "memory"

    def __init__(self, threshold: float, num_perm: int):
        self.threshold = threshold
        self.bands, self.rows = bands_for(threshold, num_perm)
        self.buckets: dict[str, set[str]] = {}
        self.documents: dict[str, tuple[int, Sequence[int]]] = {}

    def add_and_match(self, document_id: str, hashvalues: Sequence[int]) -> Match | None:
        if document_id not in self.documents:
            self.documents[document_id] = (len(self.documents) + 1, list(hashvalues))
        own_seq = self.documents[document_id][0]
        candidates: set[str] = set()
        for band in band_hashes(hashvalues, self.bands, self.rows):
            bucket = self.buckets.setdefault(band, set())
            candidates |= bucket
            bucket.add(document_id)
        candidates.discard(document_id)
        found = {doc: self.documents[doc] for doc in candidates}
        return best_earlier(own_seq, hashvalues, found, self.threshold)


class RedisIndex:
    """The index in Redis, shared by every replica of the enrich worker."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str,
        threshold: float,
        num_perm: int,
        ttl_s: int,
        timeout_s: float,
    ):
        self.client, self.where = connect(url, timeout_s)
        self.prefix = prefix
        self.threshold = threshold
        self.bands, self.rows = bands_for(threshold, num_perm)
        self.ttl_s = ttl_s
        self._add = self.client.register_script(_ADD)

    def add_and_match(self, document_id: str, hashvalues: Sequence[int]) -> Match | None:
        try:
            return self._add_and_match(document_id, hashvalues)
        except redis.RedisError as exc:
            raise IndexUnavailable(
                f"near-duplicate index in Redis ({self.where}) unavailable: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _add_and_match(self, document_id: str, hashvalues: Sequence[int]) -> Match | None:
        p = self.prefix
        keys = [
            f"{p}counter",
            f"{p}seq:{document_id}",
            f"{p}sig:{document_id}",
            *(f"{p}band:{band}" for band in band_hashes(hashvalues, self.bands, self.rows)),
        ]
        replies = self._add(
            keys=keys,
            args=[self.ttl_s, document_id, array("I", hashvalues).tobytes()],
            client=self.client,
        )
        own_seq = int(replies[0])
        candidates = sorted({m.decode() for m in replies[1:]} - {document_id})
        if not candidates:
            return None
        with self.client.pipeline(transaction=False) as pipe:
            for doc in candidates:
                pipe.get(f"{p}seq:{doc}")
                pipe.get(f"{p}sig:{doc}")
            replies = pipe.execute()
        found: dict[str, tuple[int, Sequence[int]]] = {}
        for doc, seq, sig in zip(candidates, replies[::2], replies[1::2], strict=True):
            if seq is not None and sig is not None:  # expired between the two round trips
                found[doc] = (int(seq), array("I", sig).tolist())
        return best_earlier(own_seq, hashvalues, found, self.threshold)


# Numbering, storing and banding a document is one atomic step, so the order of sequence
# numbers is the order in which documents entered their bands: of two near-copies added at
# the same moment, the later always finds the earlier. (As separate calls, a document could
# take its number first and enter its bands last, and neither copy found the other.)
# KEYS: counter, the document's seq and sig, its bands. ARGV: ttl_s, document id, signature.
# Returns the document's number, then every document in its bands (itself included).
_ADD = """
local ttl, doc = tonumber(ARGV[1]), ARGV[2]
local seq = redis.call('GET', KEYS[2])
if not seq then  -- a redelivery keeps the number of its first delivery
  seq = redis.call('INCR', KEYS[1])
end
redis.call('SET', KEYS[2], seq, 'EX', ttl)
redis.call('SET', KEYS[3], ARGV[3], 'EX', ttl)
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], doc)
  redis.call('EXPIRE', KEYS[i], ttl)
end
local found = redis.call('SUNION', unpack(KEYS, 4))
table.insert(found, 1, seq)
return found
"""


def create_index(settings: Settings) -> NearDuplicateIndex:
    """The index the settings ask for; the key prefix carries the signature parameters, so
    signatures made with other parameters never meet."""
    if settings.dedup_backend == "memory":
        return MemoryIndex(settings.dedup_threshold, settings.minhash_permutations)
    prefix = (
        f"{settings.dedup_key_prefix}p{settings.minhash_permutations}"
        f"w{settings.shingle_words}t{settings.dedup_threshold}:"
    )
    return RedisIndex(
        settings.redis_url,
        prefix,
        settings.dedup_threshold,
        settings.minhash_permutations,
        settings.dedup_ttl_s,
        settings.redis_timeout_s,
    )
