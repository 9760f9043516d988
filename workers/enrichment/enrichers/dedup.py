"""Near-duplicate detection: is this text a (lightly edited) copy of an earlier document?

The text's MinHash (the same signature as :mod:`workers.enrichment.enrichers.fingerprint`) is
added to the LSH index of :mod:`workers.enrichment.dedup_index`, in Redis and shared by every
replica; the record names the earlier document it copies and the estimated similarity. An
unreachable Redis raises :class:`~workers.state.connection.StateUnavailable`, a transient
error: the worker retries the message with backoff until Redis is back, and never dead-letters
it for that.
"""

from __future__ import annotations

from typing import Any

from workers.enrichment.dedup_index import create_index
from workers.enrichment.enrichers.base import ANY_LANGUAGE, Enricher
from workers.enrichment.enrichers.fingerprint import signature
from workers.settings import Settings


# It writes to the shared index: a worker's warm-up must not add its page there, nor fail to
# start while Redis is away (messages wait for Redis instead).
class DedupEnricher(
    Enricher, name="dedup", version="1.1", languages=ANY_LANGUAGE, shared_state=True
):
    def __init__(self, settings: Settings):
        self.index = create_index(settings)
        self.num_perm = settings.minhash_permutations
        self.shingle_words = settings.shingle_words
        self.threshold = settings.dedup_threshold

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        signed = signature(article["text"], self.num_perm, self.shingle_words)
        match = self.index.add_and_match(article["document_id"], signed.hashvalues, signed.shingles)
        return {
            "duplicate_of": match.document_id if match else None,
            "similarity": match.similarity if match else None,
            "threshold": self.threshold,
            "backend": self.index.backend,
        }
