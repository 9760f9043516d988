"""Exact (SHA-256) and near-duplicate (MinHash) signatures of the article text."""

from __future__ import annotations

import hashlib
import re
import sys
import types
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from workers.enrichment.enrichers.base import ANY_LANGUAGE, Enricher
from workers.settings import Settings


def _import_minhash() -> Any:
    """datasketch's MinHash, without the scipy.integrate its package imports for its LSH's
    parameter tuning (53 MiB of RSS and 0.4 s of the worker's start; this project's LSH is
    its own): while datasketch imports, that module is a stand-in whose ``quad`` imports the
    real one on first call, so a caller of datasketch's LSH still gets the real integral."""
    if "scipy.integrate" in sys.modules or "datasketch" in sys.modules:
        from datasketch import MinHash

        return MinHash

    def quad(*args: Any, **kwargs: Any) -> Any:
        from scipy.integrate import quad as real

        return real(*args, **kwargs)

    stand_in = types.ModuleType("scipy.integrate")
    stand_in.quad = quad  # type: ignore[attr-defined]
    sys.modules["scipy.integrate"] = stand_in
    try:
        from datasketch import MinHash
    finally:
        del sys.modules["scipy.integrate"]
    return MinHash


MinHash = _import_minhash()

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
MINHASH_SEED = 1


def normalised_text(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def content_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(normalised_text(text).encode("utf-8")).hexdigest()


def shingles(text: str, size: int) -> set[bytes]:
    words = _WORD.findall(normalised_text(text).lower())
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


@dataclass(frozen=True, slots=True)
class Signature:
    hashvalues: tuple[int, ...]
    shingles: int  # how many distinct shingles the text has (for containment estimates)


@lru_cache(maxsize=8)  # fingerprint and dedup sign the same text: compute it once
def signature(text: str, num_perm: int, shingle_words: int) -> Signature:
    """The MinHash of ``text``'s word shingles (the same for every replica and run)."""
    words = shingles(text, shingle_words)
    minhash = MinHash(num_perm=num_perm, seed=MINHASH_SEED)
    minhash.update_batch(list(words))
    return Signature(tuple(int(v) for v in minhash.hashvalues), len(words))


class FingerprintEnricher(Enricher, name="fingerprint", version="1.0", languages=ANY_LANGUAGE):
    def __init__(self, settings: Settings):
        self.num_perm = settings.minhash_permutations
        self.shingle_words = settings.shingle_words

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        text = article["text"]
        return {
            "content_hash": content_hash(text),
            "minhash": {
                "num_perm": self.num_perm,
                "seed": MINHASH_SEED,
                "shingle_words": self.shingle_words,
                "hashvalues": list(signature(text, self.num_perm, self.shingle_words).hashvalues),
            },
        }
