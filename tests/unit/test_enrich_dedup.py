"""Near-duplicates through the shared index in the real Redis (127.0.0.1:6379 by default)."""

from __future__ import annotations

import orjson
import pytest

from tests.support.articles import KIM_IN_VLADIVOSTOK, PUTIN_IN_PYONGYANG, seed_article
from tests.support.samples import clean_sample, message
from workers.enrichment.dedup_index import (
    InProcessIndex,
    RedisIndex,
    create_index,
    similarity,
)
from workers.enrichment.enrichers import build_enrichers
from workers.enrichment.enrichers.dedup import DedupEnricher
from workers.enrichment.enrichers.fingerprint import signature
from workers.enrichment.stage import enrich_article
from workers.errors import TransientError
from workers.records.cloudevents import header
from workers.records.ids import document_id
from workers.records.message import InputMessage
from workers.runtime.processor import StageProcessor
from workers.settings import Settings
from workers.state.connection import StateUnavailable

COPY_ID = "c0" * 16


def signed(settings: Settings, text: str):
    return signature(text, settings.minhash_permutations, settings.shingle_words)


def opening(text: str, share: float) -> str:
    """The first ``share`` of the words: a syndicated copy cut short, or a teaser."""
    words = text.split(" ")
    return " ".join(words[: round(share * len(words))])


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
    expected = similarity(*(signed(settings, a["text"]).hashvalues for a in (putin, copy)))
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
    assert isinstance(one.index, InProcessIndex)


def test_redis_down_is_a_transient_failure_with_a_clear_message() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", enrichers=["dedup"])
    enrichers = build_enrichers(settings)
    with pytest.raises(TransientError) as caught:
        enrich_article(seed_article(PUTIN_IN_PYONGYANG), enrichers, InputMessage(b""))
    assert isinstance(caught.value, StateUnavailable)
    assert "near-duplicate index in Redis (127.0.0.1) unavailable" in str(caught.value)


def test_a_copy_cut_short_is_found_by_containment(settings) -> None:
    """The first 60% of a story lies within it, though their similarity is below the
    threshold."""
    dedup = DedupEnricher(settings)
    putin = seed_article(PUTIN_IN_PYONGYANG)
    dedup(putin)
    result = dedup({**putin, "document_id": COPY_ID, "text": opening(putin["text"], 0.6)})
    assert result["duplicate_of"] == putin["document_id"]
    assert result["similarity"] < settings.dedup_threshold


def test_a_teaser_is_not_a_copy(settings) -> None:
    """The first 40% of a story lies within it too, but is less than half of it."""
    dedup = DedupEnricher(settings)
    putin = seed_article(PUTIN_IN_PYONGYANG)
    dedup(putin)
    teaser = {**putin, "document_id": COPY_ID, "text": opening(putin["text"], 0.4)}
    assert dedup(teaser)["duplicate_of"] is None


def test_a_story_wrapped_in_more_boilerplate_is_found(settings) -> None:
    """Another site's page: two fifths of the story's length again around it (here, the
    opening and the end of another story)."""
    dedup = DedupEnricher(settings)
    putin, kim = seed_article(PUTIN_IN_PYONGYANG), seed_article(KIM_IN_VLADIVOSTOK)
    other = kim["text"].split(" ")
    head, tail = " ".join(other[: len(other) // 4]), " ".join(other[-len(other) // 6 :])
    dedup(putin)
    result = dedup(
        {**putin, "document_id": COPY_ID, "text": f"{head}\n\n{putin['text']}\n\n{tail}"}
    )
    assert result["duplicate_of"] == putin["document_id"]
    assert result["similarity"] < settings.dedup_threshold


def test_the_redis_and_the_memory_index_give_the_same_answers(settings) -> None:
    """Fed the same documents in the same order, both backends name the same earlier
    document with the same similarity, every time."""
    putin, kim = seed_article(PUTIN_IN_PYONGYANG), seed_article(KIM_IN_VLADIVOSTOK)
    texts = [
        putin["text"],
        kim["text"],
        lightly_edited(putin["text"]),
        opening(putin["text"], 0.6),
        opening(putin["text"], 0.4),
        opening(kim["text"], 0.75),
        f"{kim['text']}\n\n{opening(putin['text'], 0.5)}",
    ]
    in_redis = create_index(settings)
    in_memory = create_index(settings.model_copy(update={"dedup_backend": "memory"}))
    assert isinstance(in_redis, RedisIndex) and isinstance(in_memory, InProcessIndex)
    answers = {"redis": [], "memory": []}
    for n, text in enumerate(texts * 2):  # the second round: redeliveries
        sig = signed(settings, text)
        for name, index in (("redis", in_redis), ("memory", in_memory)):
            answers[name].append(
                index.add_and_match(f"{n % len(texts):032x}", sig.hashvalues, sig.shingles)
            )
    assert answers["redis"] == answers["memory"]
    assert sum(match is not None for match in answers["redis"]) >= 6


def test_bands_must_fit_the_signature() -> None:
    with pytest.raises(ValueError, match="dedup_bands"):
        Settings(minhash_permutations=64, dedup_bands=65)


def test_a_document_whose_number_redis_lost_is_not_its_own_duplicate(settings) -> None:
    """Redis short of memory evicts keys one by one (every key of the index has a TTL, so a
    volatile-* policy may take any of them). When a document's number went and its entry
    stayed, processing it again (an aborted transaction's document) gave it a new number and
    found its own old entry, still in its bands, as an earlier copy of itself."""
    dedup = DedupEnricher(settings)
    putin, kim = seed_article(PUTIN_IN_PYONGYANG), seed_article(KIM_IN_VLADIVOSTOK)
    assert dedup(putin)["duplicate_of"] is None
    assert dedup(kim)["duplicate_of"] is None
    index = dedup.index
    assert isinstance(index, RedisIndex)
    assert index.client.delete(f"{index.prefix}doc:{putin['document_id']}") == 1  # evicted
    again = dedup(putin)
    assert again["duplicate_of"] is None, "the document was found as its own near-duplicate"
    # Its old entry still serves the others: a copy of it finds it.
    copy = {**putin, "document_id": COPY_ID, "text": lightly_edited(putin["text"])}
    assert dedup(copy)["duplicate_of"] == putin["document_id"]


def test_a_document_processed_again_after_an_aborted_transaction_gets_the_same_record(
    settings,
) -> None:
    """An aborted transaction's document is enriched again, maybe by another replica, after
    other documents (here a copy of it) went through: the index must answer as it did the
    first time, so the record and its ce_id are the same."""
    article = clean_sample("03")
    url = "https://mirror.example/syndicated/story"
    copy = {**article, "document_id": document_id(url), "url": url, "normalized_url": url}
    # The enrichers that touch the index or its input (the language models are not needed).
    light = settings.model_copy(update={"enrichers": ["stats", "fingerprint", "dedup"]})
    first_replica, second_replica = (StageProcessor("enrich", light) for _ in range(2))

    def enriched(processor: StageProcessor, record: dict, offset: int) -> tuple[dict, str]:
        out = processor.process(message(record, topic=settings.topic_clean, offset=offset))
        assert out.outcome == "ok"
        sent = orjson.loads(out.value)
        sent.pop("timestamps")
        return sent, header(out.headers, "ce_id")

    aborted = enriched(first_replica, article, 5)  # sent, then its transaction aborted
    copied = enriched(first_replica, copy, 6)  # committed
    assert copied[0]["enrichment"]["dedup"]["duplicate_of"] == article["document_id"]
    again = enriched(second_replica, article, 5)  # the input read again after the abort
    assert again == aborted
    assert again[0]["enrichment"]["dedup"]["duplicate_of"] is None
    assert enriched(second_replica, copy, 6) == copied
