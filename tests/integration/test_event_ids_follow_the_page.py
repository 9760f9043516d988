"""Event ids name the document and its bytes, not where the raw record sits: on a real broker,
the same page sent again at another partition and offset (as a recreated or mirrored raw
topic would hold it) reaches the sink with the same ce_id, and other bytes under the same URL
with another."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.support.delivery import all_committed, read_topic
from tests.support.samples import entry, sample_bytes
from tests.support.waiting import eventually_async
from workers.kafka.produce import raw_record
from workers.records.cloudevents import event_id, header
from workers.records.ids import document_id
from workers.settings import Settings

pytestmark = pytest.mark.broker


async def send(settings: Settings, sends: list[tuple[int, dict]]) -> list[tuple[int, int]]:
    """Each (partition, raw record) to the raw topic, in order; their (partition, offset)."""
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), acks="all")
    await producer.start()
    try:
        positions = []
        for partition, record in sends:
            key = document_id(record["url"]).encode()
            meta = await producer.send_and_wait(
                settings.topic_raw, orjson.dumps(record), key=key, partition=partition
            )
            positions.append((meta.partition, meta.offset))
        return positions
    finally:
        await producer.stop()


async def test_a_page_sent_again_keeps_its_ce_id_and_new_bytes_get_a_new_one(
    pipeline: Settings, start_worker
) -> None:
    item = entry("02")
    url = "https://news.example/ids/story"
    page = sample_bytes(item)
    edited = page.replace(b"</body>", b"<p>Correction: the figure was revised.</p></body>", 1)
    assert edited != page
    first = raw_record(
        page, url, fetched_at="2026-01-05T08:00:00Z", content_type=item["content_type"]
    )
    # The same bytes sent again later (another fetch time, another partition and offset).
    again = {**first, "fetched_at": "2026-01-05T09:30:00Z"}
    recrawl = raw_record(edited, url, content_type=item["content_type"])
    # A failing page twice: one dead letter id, wherever the copies sit.
    gone = raw_record(page, "https://news.example/ids/gone", status=500)
    positions = await send(pipeline, [(0, first), (2, gone), (2, again), (1, recrawl), (0, gone)])
    assert len(set(positions)) == 5  # five raw records at five positions
    start_worker("clean", pipeline)
    start_worker("enrich", pipeline)

    doc = document_id(url)
    # A bound for a loaded machine: the enrich worker loads its models first (it took over
    # 120 s to start on a shared 2-core host), then five inputs take seconds.
    await eventually_async(lambda: all_committed(pipeline), 300, "every input committed")
    sink = await read_topic(pipeline, pipeline.topic_enriched)
    assert len(sink) == 3 and {m.key for m in sink} == {doc.encode()}
    by_hash: dict[str, set[str]] = {}
    for message in sink:
        record = orjson.loads(message.value)
        by_hash.setdefault(record["lineage"][0]["content_sha256"], set()).add(
            header(message.headers, "ce_id")
        )
    same, new = hashlib.sha256(page).hexdigest(), hashlib.sha256(edited).hexdigest()
    # The two copies of the page: one ce_id, from the document and its bytes alone.
    assert by_hash == {same: {event_id("enrich", doc, same)}, new: {event_id("enrich", doc, new)}}
    clean = await read_topic(pipeline, pipeline.topic_clean)
    assert len({header(m.headers, "ce_id") for m in clean}) == 2  # and one per page upstream

    dead = await read_topic(pipeline, pipeline.topic_dead_letter)
    assert len(dead) == 2
    records = [orjson.loads(m.value) for m in dead]
    assert {(r["source"]["partition"], r["source"]["offset"]) for r in records} == {
        positions[1],
        positions[4],
    }
    gone_doc = document_id(gone["url"])
    expected = event_id("dead-letter", "clean", "http_error", gone_doc, same)
    assert {r["id"] for r in records} == {header(m.headers, "ce_id") for m in dead} == {expected}
