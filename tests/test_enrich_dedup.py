"""Near-duplicates through the shared index in the real Redis (127.0.0.1:6379 by default)."""

from __future__ import annotations

import pytest
from articles import KIM_IN_VLADIVOSTOK, PUTIN_IN_PYONGYANG, seed_article

from workers.enrichment.dedup_index import IndexUnavailable, MemoryIndex, similarity
from workers.enrichment.enrichers import build_enrichers
from workers.enrichment.enrichers.dedup import DedupEnricher
from workers.enrichment.enrichers.fingerprint import signature
from workers.enrichment.stage import enrich_article
from workers.errors import TransientError
from workers.records.message import InputMessage
from workers.settings import Settings

COPY_ID = "c0" * 16


def lightly_edited(text: str) -> str:
    """What a syndicating site does: a few words changed, a line dropped."""
    for old, new in [
        ("received a warm welcome", "got a warm welcome"),
        ("red carpet", "crimson carpet"),
        ("Take a look:\n", ""),
        ("the isolated country in 24 years", "the isolated nation in 24 years"),
        ("talked animatedly", "chatted animatedly"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    return text


@pytest.fixture
def settings(redis_prefix: str) -> Settings:
    return Settings(dedup_key_prefix=redis_prefix, dedup_backend="redis")


def test_a_lightly_edited_copy_is_found_and_the_seeds_do_not_match(settings) -> None:
    dedup = DedupEnricher(settings)
    putin, kim = seed_article(PUTIN_IN_PYONGYANG), seed_article(KIM_IN_VLADIVOSTOK)
    assert dedup(putin)["duplicate_of"] is None
    assert dedup(kim)["duplicate_of"] is None  # the two seeds are not near-duplicates

    copy = {**putin, "document_id": COPY_ID, "text": lightly_edited(putin["text"])}
    result = dedup(copy)
    expected = similarity(
        signature(putin["text"], 64, 3).hashvalues, signature(copy["text"], 64, 3).hashvalues
    )
    assert result == {
        "duplicate_of": putin["document_id"],
        "similarity": round(expected, 4),
        "threshold": 0.7,
        "backend": "redis",
    }
    assert 0.7 <= expected < 1.0


def test_two_replicas_see_each_others_documents(settings) -> None:
    first, second = DedupEnricher(settings), DedupEnricher(settings)  # two Redis clients
    putin = seed_article(PUTIN_IN_PYONGYANG)
    first(putin)
    copy = {**putin, "document_id": COPY_ID, "text": lightly_edited(putin["text"])}
    assert second(copy)["duplicate_of"] == putin["document_id"]


def test_near_copies_added_at_the_same_moment_by_two_replicas_find_each_other(settings) -> None:
    """One replica's first request to Redis completes, then the other replica adds its copy
    whole, then the first replica goes on: whatever the interleaving, one of the two copies
    must be reported as the other's duplicate (the later one as the earlier's)."""
    first, second = DedupEnricher(settings), DedupEnricher(settings)
    putin = seed_article(PUTIN_IN_PYONGYANG)
    copy = {**putin, "document_id": COPY_ID, "text": lightly_edited(putin["text"])}
    client = second.index.client
    send, results = client.execute_command, {}

    def interleaved(*args: object, **kw: object) -> object:
        reply = send(*args, **kw)
        if "putin" not in results:
            results["putin"] = first(putin)["duplicate_of"]
        return reply

    client.execute_command = interleaved
    results["copy"] = second(copy)["duplicate_of"]
    assert results == {"putin": COPY_ID, "copy": None}


def test_a_redelivery_is_not_its_own_duplicate_and_keeps_its_place(settings) -> None:
    dedup = DedupEnricher(settings)
    putin = seed_article(PUTIN_IN_PYONGYANG)
    copy = {**putin, "document_id": COPY_ID, "text": lightly_edited(putin["text"])}
    assert dedup(putin)["duplicate_of"] is None
    assert dedup(copy)["duplicate_of"] == putin["document_id"]
    # Both redelivered: the original is still the earlier one, the copy still the copy.
    assert dedup(putin)["duplicate_of"] is None
    assert dedup(copy)["duplicate_of"] == putin["document_id"]


def test_the_memory_backend_is_one_process_only() -> None:
    settings = Settings(dedup_backend="memory")
    putin = seed_article(PUTIN_IN_PYONGYANG)
    copy = {**putin, "document_id": COPY_ID, "text": lightly_edited(putin["text"])}
    one, other = DedupEnricher(settings), DedupEnricher(settings)
    one(putin)
    assert other(copy)["duplicate_of"] is None
    assert one(copy)["duplicate_of"] == putin["document_id"]
    assert one(copy)["backend"] == "memory"
    assert isinstance(one.index, MemoryIndex)


def test_redis_down_is_a_transient_failure_with_a_clear_message() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", enrichers=["dedup"])
    enrichers = build_enrichers(settings)
    with pytest.raises(TransientError) as caught:
        enrich_article(seed_article(PUTIN_IN_PYONGYANG), enrichers, InputMessage(b""))
    assert isinstance(caught.value, IndexUnavailable)
    assert "near-duplicate index in Redis (127.0.0.1) unavailable" in str(caught.value)
