"""The pipeline end to end on a real broker, with workers as real processes."""

from __future__ import annotations

import base64
import re

import orjson
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from tests.support.delivery import caught_up, record_count
from tests.support.paths import SAMPLES
from tests.support.samples import SLOW_PAGE, raw_for_sample
from tests.support.waiting import eventually, eventually_async
from workers.kafka.produce import encode_raw, produce, raw_record
from workers.kafka.tail import tail
from workers.pipeline import consumer_groups
from workers.records import contracts
from workers.records.cloudevents import header
from workers.records.ids import document_id
from workers.settings import Settings

pytestmark = pytest.mark.broker

MANIFEST = {
    entry["file"]: entry for entry in orjson.loads((SAMPLES / "manifest.json").read_bytes())
}
JOIN_TIMEOUT_S = 60
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


async def collect(
    settings: Settings, topic: str, count: int, timeout_s: float = 90
) -> list[ConsumerRecord]:
    """Exactly ``count`` records of ``topic`` (fails if fewer arrive in time)."""
    records = [
        record
        async for record in tail(settings, topic, idle_timeout_s=timeout_s, max_messages=count)
    ]
    assert len(records) == count, f"{topic}: {len(records)} of {count} records arrived"
    return records


async def nothing_more(settings: Settings, topic: str, already: int, groups: dict) -> None:
    """``topic`` holds exactly ``already`` records once ``groups`` ({group: input topic})
    committed all their inputs, read from log-end offsets: a worker commits an input only
    after its output is in the log, so nothing more can come of those inputs."""
    await eventually_async(lambda: caught_up(settings, groups), 120, "every input committed")
    count = await record_count(settings, topic)
    assert count == already, f"{topic}: {count} records, expected {already}"


async def send_raw(settings: Settings, messages: list[tuple[bytes | None, bytes]]) -> list:
    """Send (key, value) pairs to the raw topic in order; returns their RecordMetadata."""
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), acks="all")
    await producer.start()
    try:
        return [
            await producer.send_and_wait(settings.topic_raw, value=value, key=key)
            for key, value in messages
        ]
    finally:
        await producer.stop()


async def committed_offsets(settings: Settings, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


async def test_page_flows_from_raw_to_sink(pipeline: Settings, start_worker) -> None:
    await page_flows_from_raw_to_sink(pipeline, start_worker)


async def test_page_flows_on_the_embedded_broker(tansu_pipeline: Settings, start_worker) -> None:
    """The smoke test of the demo's broker (Tansu), whichever broker the suite runs on."""
    await page_flows_from_raw_to_sink(tansu_pipeline, start_worker)


async def page_flows_from_raw_to_sink(pipeline: Settings, start_worker) -> None:  # type: ignore[no-untyped-def]
    start_worker("clean", pipeline)
    start_worker("enrich", pipeline)
    page = "07-rechenzentren-frankfurt-strom.html"  # windows-1252, German
    summary = await produce(pipeline, [raw_for_sample(page)])
    assert summary.sent == 1 and summary.failed == 0
    doc_id = document_id(MANIFEST[page]["url"])

    [raw] = await collect(pipeline, pipeline.topic_raw, 1)
    [clean] = await collect(pipeline, pipeline.topic_clean, 1)
    [sink] = await collect(pipeline, pipeline.topic_enriched, 1)

    assert raw.key == clean.key == sink.key == doc_id.encode()
    record = orjson.loads(sink.value)
    assert contracts.schema_errors(record, "articles-enriched.v1") == []
    assert contracts.schema_errors(orjson.loads(clean.value), "articles-clean.v1") == []
    assert record["document_id"] == doc_id
    assert record["title"] == MANIFEST[page]["title"]
    assert record["encoding"] == {"name": "cp1252", "source": "http-header"}
    assert record["language"] == "de"
    assert record["enrichment"]["language"]["code"] == "de"
    assert record["enrichment"]["stats"]["word_count"] > 300
    for sentence in MANIFEST[page]["must_contain"]:
        assert sentence in record["text"]
    assert [step["stage"] for step in record["lineage"]] == ["clean", "enrich"]
    assert record["lineage"][0]["topic"] == pipeline.topic_raw
    assert record["lineage"][1]["topic"] == pipeline.topic_clean

    # CloudEvents binary mode on every hop, and one trace from the crawler to the sink.
    for message, schema in ((clean, "articles-clean.v1"), (sink, "articles-enriched.v1")):
        assert header(message.headers, "ce_specversion") == "1.0"
        assert header(message.headers, "ce_type") == f"dev.newsflow.{schema}"
        assert header(message.headers, "ce_subject") == doc_id
        assert header(message.headers, "content-type") == "application/json"
    trace_ids = {
        TRACEPARENT.match(header(m.headers, "traceparent")).group(1) for m in (raw, clean, sink)
    }
    assert len(trace_ids) == 1


@pytest.mark.parametrize("pending", [0, 8], ids=["wait-each-output", "outputs-pending"])
async def test_malformed_inputs_become_dead_letters_and_good_ones_keep_order(
    pipeline: Settings, start_worker, pending: int
) -> None:
    small = pipeline.model_copy(update={"max_html_bytes": 200_000, "max_pending_outputs": pending})
    clean = start_worker("clean", small)
    enrich = start_worker("enrich", small)

    good_page = "03-ecb-first-rate-cut.html"
    versions = [
        raw_for_sample(good_page, fetched_at=f"2024-06-0{day}T10:00:00Z") for day in (6, 7, 8)
    ]
    page = raw_for_sample("06-port-harlow-bike-lanes.html")
    as_text = {k: v for k, v in page.items() if k != "html_base64"}
    bad: list[tuple[str, bytes]] = [
        ("invalid_json", b"{this is not json"),
        ("schema_violation", b"[1, 2, 3]"),
        ("schema_violation", orjson.dumps({"fetched_at": "2024-01-01T00:00:00Z", "html": "x"})),
        ("schema_violation", orjson.dumps({**page, "html": "<p>both</p>"})),
        ("http_error", orjson.dumps({**page, "url": "https://a.example/gone", "status": 404})),
        ("not_html", orjson.dumps({**page, "headers": {"content-type": "application/pdf"}})),
        ("not_html", orjson.dumps({**page, "html_base64": base64.b64encode(b"plain").decode()})),
        ("empty_content", orjson.dumps({**page, "html_base64": ""})),
        ("oversize", orjson.dumps({**as_text, "html": "<p>" + "x" * 300_000 + "</p>"})),
        (
            "not_an_article",
            orjson.dumps(
                {
                    **as_text,
                    "html": "<html><body><script>var a = 1;</script></body></html>",
                }
            ),
        ),
    ]
    # Good and bad interleaved; the three versions of one page share a key (and partition).
    good_messages = [
        encode_raw(r)[:2]
        for r in [*versions, raw_for_sample("09-hip-knee-waiting-lists-north-east.html")]
    ]
    messages = [
        good_messages[0],
        (b"bad-0", bad[0][1]),
        (b"bad-1", bad[1][1]),
        good_messages[1],
        *[(None, value) for _, value in bad[2:6]],
        good_messages[2],
        *[(None, value) for _, value in bad[6:]],
        good_messages[3],
    ]
    sent = await send_raw(pipeline, messages)

    dead = [orjson.loads(m.value) for m in await collect(pipeline, pipeline.topic_dead_letter, 10)]
    sink = await collect(pipeline, pipeline.topic_enriched, 4)
    await nothing_more(pipeline, pipeline.topic_dead_letter, 10, consumer_groups(pipeline))

    for record in dead:
        assert contracts.schema_errors(record, "dead-letter.v1") == []
        assert record["stage"] == "clean"
        assert record["source"]["topic"] == pipeline.topic_raw
    assert sorted(r["reason"] for r in dead) == sorted(reason for reason, _ in bad), [
        (r["reason"], r["error"]["message"][:80]) for r in dead
    ]
    assert len({r["id"] for r in dead}) == 10
    # Each dead letter carries the exact original bytes of the message at its offset.
    by_position = {
        (m.partition, m.offset): value for m, (_, value) in zip(sent, messages, strict=True)
    }
    for record in dead:
        original = base64.b64decode(record["original"]["value_base64"])
        assert original == by_position[(record["source"]["partition"], record["source"]["offset"])]
    http_error = next(r for r in dead if r["reason"] == "http_error")
    assert http_error["document_id"] == document_id("https://a.example/gone")

    # The good messages all arrived, and one key's versions in the order they were sent.
    records = [orjson.loads(m.value) for m in sink]
    same_key = [r["timestamps"]["fetched"] for r in records if r["url"] == versions[0]["url"]]
    assert same_key == ["2024-06-06T10:00:00Z", "2024-06-07T10:00:00Z", "2024-06-08T10:00:00Z"]
    assert {r["url"] for r in records} == {
        versions[0]["url"],
        MANIFEST["09-hip-knee-waiting-lists-north-east.html"]["url"],
    }
    assert len({r["document_id"] for r in records}) == 2

    # After a graceful stop every input offset is committed: outputs and dead letters alike.
    assert clean.stop() == 0 and enrich.stop() == 0
    committed = await committed_offsets(pipeline, pipeline.clean_group, pipeline.topic_raw)
    ends: dict[int, int] = {}
    for meta in sent:
        ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
    assert {p: committed[p] for p in ends} == ends


async def test_two_clean_workers_share_the_partitions(pipeline: Settings, start_worker) -> None:
    first = start_worker("clean", pipeline)
    second = start_worker("clean", pipeline)
    everything = {f"{pipeline.topic_raw}/{p}" for p in range(pipeline.partitions)}

    def split_between_both() -> bool:
        a, b = first.assignment(), second.assignment()
        return bool(a) and bool(b) and not (a & b) and (a | b) == everything

    await eventually(split_between_both, JOIN_TIMEOUT_S, "both workers to share the partitions")

    body = (SAMPLES / "12-rotterdam-marathon-course-record.html").read_bytes()
    records = [raw_record(body, f"https://runningpulse.example/race/{n}") for n in range(60)]
    summary = await produce(pipeline, records)
    assert summary.sent == 60

    outputs = await collect(pipeline, pipeline.topic_clean, 60)
    await nothing_more(
        pipeline, pipeline.topic_clean, 60, {pipeline.clean_group: pipeline.topic_raw}
    )
    assert len({m.key for m in outputs}) == 60

    done_by_first = {e["tpo"] for e in first.events("processed")}
    done_by_second = {e["tpo"] for e in second.events("processed")}
    assert done_by_first and done_by_second
    assert not done_by_first & done_by_second
    assert len(done_by_first | done_by_second) == 60


async def test_enrich_replicas_share_the_near_duplicate_index(
    pipeline: Settings, start_worker
) -> None:
    """Replica A enriches an article and stops; replica B, a new process, finds a lightly
    edited copy of it through Redis."""
    page = "01-putin-arrives-pyongyang.html"
    start_worker("clean", pipeline)
    first = start_worker("enrich", pipeline)
    await produce(pipeline, [raw_for_sample(page)])
    [original] = await collect(pipeline, pipeline.topic_enriched, 1)
    original = orjson.loads(original.value)
    assert original["enrichment"]["dedup"]["duplicate_of"] is None
    assert original["enrichment"]["dedup"]["backend"] == "redis"
    persons = [p["name"] for p in original["enrichment"]["entities"]["persons"]]
    assert persons == ["Vladimir Putin", "Kim Jong Un"]
    assert first.stop() == 0

    start_worker("enrich", pipeline)
    html = (SAMPLES / page).read_bytes()
    for old, new in [(b"red carpet", b"crimson carpet"), (b"warm welcome", b"kind welcome")]:
        assert old in html
        html = html.replace(old, new)
    copy_url = "https://mirror.example.org/world/putin-in-pyongyang"
    copy = raw_record(html, copy_url, content_type=MANIFEST[page]["content_type"])
    await produce(pipeline, [copy])
    records = [orjson.loads(r.value) for r in await collect(pipeline, pipeline.topic_enriched, 2)]
    [edited] = [r for r in records if r["document_id"] == document_id(copy_url)]
    assert edited["enrichment"]["dedup"]["duplicate_of"] == original["document_id"]
    assert 0.7 <= edited["enrichment"]["dedup"]["similarity"] < 1


async def test_stage_processes_keep_each_documents_updates_in_order(
    pipeline: Settings, start_worker
) -> None:
    # Two versions of one document, the first slow to extract: with two stage processes the
    # second is ready first, yet the worker must send them in the order it read them, so the
    # sink's last word on the document is its latest version.
    settings = pipeline.model_copy(update={"stage_processes": 2})
    paragraph = "<p>" + "The council met again on Tuesday to discuss the budget. " * 12 + "</p>"
    slow_html = f"<html><body><article><h1>Budget</h1>{paragraph * 3000}</article></body></html>"
    fast_html = (SAMPLES / "01-putin-arrives-pyongyang.html").read_bytes()
    url = "https://news.example/budget-story"
    versions = [raw_record(slow_html.encode(), url), raw_record(fast_html, url)]
    start_worker("clean", settings)
    start_worker("enrich", settings)
    await produce(settings, versions)

    records = await collect(settings, settings.topic_enriched, 2, timeout_s=120)
    assert {r.key for r in records} == {document_id(url).encode()}
    titles = [orjson.loads(r.value)["title"] for r in records]
    assert titles[0] == "Budget" and titles[1] != "Budget", titles


async def test_stage_process_past_the_hard_limit_is_killed_and_the_partition_flows_on(
    pipeline: Settings, start_worker
) -> None:
    # The soft limit is out of reach: only killing the stage process can stop the slow page.
    settings = pipeline.model_copy(
        update={"stage_processes": 1, "stage_timeout_s": 3.0, "extraction_timeout_s": 120.0}
    )
    slow = raw_record(SLOW_PAGE, "https://news.example/very-slow")
    good = [
        raw_record((SAMPLES / name).read_bytes(), f"https://news.example/after-slow/{n}")
        for n, name in enumerate(["01-putin-arrives-pyongyang.html", "03-ecb-first-rate-cut.html"])
    ]
    worker = start_worker("clean", settings)
    start_worker("enrich", settings)
    await produce(settings, [slow, *good])

    (dead,) = await collect(settings, settings.topic_dead_letter, 1, timeout_s=120)
    letter = orjson.loads(dead.value)
    assert letter["reason"] == "extraction_timeout"
    assert letter["error"]["class"] == "StageTimeout"
    assert dead.key == encode_raw(slow)[0]
    sink = await collect(settings, settings.topic_enriched, 2, timeout_s=120)
    assert {r.key for r in sink} == {document_id(r["url"]).encode() for r in good}
    assert worker.process.poll() is None
    assert worker.events("stage process lost")
