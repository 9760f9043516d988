"""The near-duplicate index: MinHash signatures in LSH bands, shared by every replica.

A document's signature is cut into ``bands`` bands of ``rows`` values; documents sharing a
band are candidates. A candidate is a near-duplicate when the two signatures agree on at
least ``threshold`` of their values (estimated Jaccard similarity), or when one text lies
within the other (a syndicated copy cut short, or wrapped in more boilerplate): at least
``containment`` of the shorter text's shingles are in the longer one and the shorter has at
least :data:`MIN_COVERED` of the longer's shingles. The containment is estimated from the
Jaccard estimate and the two shingle counts, which the index stores with each signature.
The band layout is chosen from a measured table (README, "Near-duplicates"): it finds
nearly every pair at the threshold, and the similarity check then drops the pairs below it.

Each document gets a sequence number when first added (a redelivery keeps its number), and
only documents with a smaller number count as "earlier": two replicas adding near-copies at
the same moment still agree which one came first, because numbering and adding are one
atomic step (a Lua script in Redis) and looking comes after it. A document is never its own
near-duplicate, whatever entries of it the index still holds.

:class:`RedisIndex` keeps everything in Redis under one key prefix, every key expiring after
``ttl_s``; :class:`InProcessIndex` does the same in one process (the embedded demo only). An
unreachable Redis raises :class:`~workers.state.connection.StateUnavailable`, a transient error:
the worker retries the message.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from workers.settings import Settings
from workers.state.backend import open_store
from workers.state.connection import RedisConnection, unavailable_as

MIN_COVERED = 0.5  # a text cut to less than half is a teaser, not a copy


@dataclass(frozen=True, slots=True)
class Match:
    document_id: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Entry:
    """A document as the index keeps it: its number, shingle count and signature."""

    document_id: str
    seq: int
    shingles: int
    hashvalues: Sequence[int]

    def pack(self) -> bytes:
        return array("I", [self.shingles, *self.hashvalues]).tobytes() + self.document_id.encode()

    @classmethod
    def unpack(cls, seq: int, packed: bytes, num_perm: int) -> Entry:
        values = array("I", packed[: (num_perm + 1) * 4]).tolist()
        return cls(packed[(num_perm + 1) * 4 :].decode(), seq, values[0], values[1:])


@dataclass(frozen=True, slots=True)
class Rule:
    """When a candidate is a near-duplicate (see the module's docstring)."""

    threshold: float
    containment: float

    def score(self, a: Entry, b: Entry) -> float | None:
        """The estimated Jaccard similarity of a near-duplicate pair, None for other pairs."""
        jaccard = similarity(a.hashvalues, b.hashvalues)
        if jaccard >= self.threshold:
            return jaccard
        shorter, longer = sorted((max(a.shingles, 1), max(b.shingles, 1)))
        common = jaccard * (shorter + longer) / (1 + jaccard)  # |A ∩ B| from J, |A| and |B|
        if shorter >= MIN_COVERED * longer and common >= self.containment * shorter:
            return jaccard
        return None


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


def best_earlier(own: Entry, candidates: Sequence[Entry], rule: Rule) -> Match | None:
    """The most similar near-duplicate among the candidates added before ``own``, never
    ``own``'s document itself: a document processed again whose number Redis lost (its
    ``doc:`` key evicted under memory pressure) gets a new number while its old entry is
    still in its bands, and would otherwise be found as its own earlier copy."""
    best: Match | None = None
    for other in sorted(candidates, key=lambda entry: entry.seq):
        if other.seq >= own.seq or len(other.hashvalues) != len(own.hashvalues):
            continue
        if other.document_id == own.document_id:
            continue
        score = rule.score(own, other)
        if score is not None and (best is None or score > best.similarity):
            best = Match(other.document_id, round(score, 4))
    return best


class NearDuplicateIndex(Protocol):
    backend: str

    def add_and_match(
        self, document_id: str, hashvalues: Sequence[int], shingles: int
    ) -> Match | None:
        """Add the document (idempotent) and return its best earlier near-duplicate."""
        ...


class InProcessIndex:
    """The index in this process only: replicas do not see each other (demo only)."""

    backend = "memory"

    def __init__(self, rule: Rule, bands: int, rows: int):
        self.rule, self.bands, self.rows = rule, bands, rows
        self.buckets: dict[str, set[int]] = {}
        self.documents: dict[str, Entry] = {}
        self.by_seq: dict[int, Entry] = {}

    def add_and_match(
        self, document_id: str, hashvalues: Sequence[int], shingles: int
    ) -> Match | None:
        if document_id not in self.documents:
            entry = Entry(document_id, len(self.documents) + 1, shingles, list(hashvalues))
            self.documents[document_id] = self.by_seq[entry.seq] = entry
        own = self.documents[document_id]
        candidates: set[int] = set()
        for band in band_hashes(hashvalues, self.bands, self.rows):
            bucket = self.buckets.setdefault(band, set())
            candidates |= bucket
            bucket.add(own.seq)
        candidates.discard(own.seq)
        return best_earlier(own, [self.by_seq[seq] for seq in candidates], self.rule)


class RedisIndex:
    """The index in Redis, shared by every replica of the enrich worker. Per document: its
    number (``doc:<id>``), its entry (``entry:<number>``: shingle count, signature and id)
    and its number in each of its band buckets (``band:<i>:<hash>``, sets of numbers, which
    Redis stores compactly as integer sets)."""

    backend = "redis"

    def __init__(
        self, redis: RedisConnection, prefix: str, rule: Rule, bands: int, rows: int, ttl_s: int
    ):
        self.client, self.where = redis
        self.prefix, self.rule, self.bands, self.rows = prefix, rule, bands, rows
        self.ttl_s = ttl_s
        self._add = self.client.register_script(_ADD)

    def add_and_match(
        self, document_id: str, hashvalues: Sequence[int], shingles: int
    ) -> Match | None:
        with unavailable_as("near-duplicate index", self.where):
            return self._add_and_match(document_id, hashvalues, shingles)

    def _add_and_match(
        self, document_id: str, hashvalues: Sequence[int], shingles: int
    ) -> Match | None:
        p = self.prefix
        bands = band_hashes(hashvalues, self.bands, self.rows)
        keys = [f"{p}counter", f"{p}doc:{document_id}", *(f"{p}band:{band}" for band in bands)]
        packed = Entry(document_id, 0, shingles, hashvalues).pack()
        replies = self._add(keys=keys, args=[self.ttl_s, f"{p}entry:", packed], client=self.client)
        own = Entry(document_id, int(replies[0]), shingles, hashvalues)
        numbers = sorted({int(seq) for seq in replies[1:]} - {own.seq})
        if not numbers:
            return None
        packed_entries = self.client.mget([f"{p}entry:{seq}" for seq in numbers])
        candidates = [
            Entry.unpack(seq, packed, len(hashvalues))
            for seq, packed in zip(numbers, packed_entries, strict=True)
            if packed is not None  # expired since the script ran
        ]
        return best_earlier(own, candidates, self.rule)


# Numbering, storing and banding a document is one atomic step, so the order of sequence
# numbers is the order in which documents entered their bands: of two near-copies added at
# the same moment, the later always finds the earlier. (As separate calls, a document could
# take its number first and enter its bands last, and neither copy found the other.)
# KEYS: counter, the document's number, its bands. ARGV: ttl_s, the entry keys' prefix, the
# packed entry. The entry key is named by the number, known only inside the script.
# Returns the document's number, then the number of every document in its bands (its own too).
_ADD = """
local ttl = tonumber(ARGV[1])
local seq = redis.call('GET', KEYS[2])
if not seq then  -- a redelivery keeps the number of its first delivery
  seq = redis.call('INCR', KEYS[1])
end
redis.call('SET', KEYS[2], seq, 'EX', ttl)
redis.call('SET', ARGV[2] .. seq, ARGV[3], 'EX', ttl)
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], seq)
  redis.call('EXPIRE', KEYS[i], ttl)
end
local found = redis.call('SUNION', unpack(KEYS, 3))
table.insert(found, 1, seq)
return found
"""


def index_prefix(settings: Settings) -> str:
    """The key prefix carries the signature parameters and the layout, so entries made
    with other ones never meet."""
    return (
        f"{settings.dedup_key_prefix}v2p{settings.minhash_permutations}"
        f"w{settings.shingle_words}b{settings.dedup_bands}:"
    )


def create_index(settings: Settings) -> NearDuplicateIndex:
    """The index the settings ask for."""
    rule = Rule(settings.dedup_threshold, settings.dedup_containment)
    bands = settings.dedup_bands
    rows = settings.minhash_permutations // bands
    return open_store(
        settings.dedup_backend,
        settings,
        in_process=lambda: InProcessIndex(rule, bands, rows),
        in_redis=lambda redis: RedisIndex(
            redis, index_prefix(settings), rule, bands, rows, settings.dedup_ttl_s
        ),
    )
