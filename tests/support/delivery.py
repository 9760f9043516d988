"""What reached a topic, read from the broker: the test documents, every record of a topic,
the exact documents at the sink, dead letters from log ends, and which inputs a worker
processed and its group committed."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from conftest import WorkerProcess, eventually_async
from helpers import caught_up, record_count

from workers.kafka.lag import consumer_lag
from workers.kafka.produce import raw_record
from workers.kafka.tail import tail
from workers.pipeline import consumer_groups
from workers.records.cloudevents import header
from workers.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "workers" / "samples"
MANIFEST = orjson.loads((SAMPLES / "manifest.json").read_bytes())
BODIES = [((SAMPLES / e["file"]).read_bytes(), e["content_type"]) for e in MANIFEST]


def pages(count: int, prefix: str) -> list[dict]:
    """``count`` distinct documents: the sample pages under distinct URLs."""
    return [
        raw_record(
            BODIES[n % len(BODIES)][0],
            f"https://news.example/{prefix}/{n}",
            content_type=BODIES[n % len(BODIES)][1],
        )
        for n in range(count)
    ]


async def read_all(settings: Settings, topic: str, idle_s: float = 3.0) -> list:
    return [m async for m in tail(settings, topic, idle_timeout_s=idle_s)]


async def wait_for_keys(settings: Settings, topic: str, keys: set[bytes], timeout_s: float) -> list:
    """All records of ``topic`` once every key in ``keys`` has arrived."""
    seen: list = []

    async def arrived() -> bool:
        seen[:] = await read_all(settings, topic, idle_s=1.0)
        return keys <= {m.key for m in seen}

    deadline = time.monotonic() + timeout_s
    while not await arrived():
        if time.monotonic() > deadline:
            missing = len(keys - {m.key for m in seen})
            raise AssertionError(f"{missing} of {len(keys)} keys never reached {topic}")
        await asyncio.sleep(2)
    return seen


async def all_committed(settings: Settings) -> bool:
    return await caught_up(settings, consumer_groups(settings))


def assert_documents(sink: list, keys: set[bytes]) -> None:
    """The sink holds exactly these documents: as many distinct document ids as were sent,
    and the same ones (redeliveries may repeat a document, never add or lose one)."""
    ids = {orjson.loads(m.value)["document_id"].encode() for m in sink}
    assert len(ids) == len(keys), f"{len(ids)} distinct documents at the sink, sent {len(keys)}"
    assert ids == keys == {m.key for m in sink}


async def no_dead_letters(settings: Settings) -> None:
    """Once every input is committed, the dead-letter topic's log ends are all 0."""
    await eventually_async(lambda: all_committed(settings), 120, "every input committed")
    dead = await record_count(settings, settings.topic_dead_letter)
    assert dead == 0, [
        orjson.loads(m.value)["reason"]
        for m in await read_all(settings, settings.topic_dead_letter)
    ]


async def committed_offsets(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """{partition: committed offset} of ``group`` on ``topic`` (0 where it never committed)."""
    rows = await consumer_lag(settings, {group: topic})
    return {row.partition: row.committed or 0 for row in rows}


def processed_offsets(worker: WorkerProcess) -> set[tuple[int, int]]:
    """(partition, offset) of each input whose output the worker saw acknowledged."""
    found = set()
    for event in worker.events("processed"):
        _, partition, offset = event["tpo"].rsplit("/", 2)
        found.add((int(partition), int(offset)))
    return found


@dataclass
class SinkCopies:
    """Per document key, what its copies at the sink carried."""

    event_ids: dict[bytes, set[str]] = field(default_factory=lambda: defaultdict(set))
    hashes: dict[bytes, set[str]] = field(default_factory=lambda: defaultdict(set))
    texts: dict[bytes, set[str]] = field(default_factory=lambda: defaultdict(set))


def sink_copies(sink: list) -> SinkCopies:
    copies = SinkCopies()
    for message in sink:
        record = orjson.loads(message.value)
        copies.event_ids[message.key].add(header(message.headers, "ce_id"))
        copies.hashes[message.key].add(record["enrichment"]["fingerprint"]["content_hash"])
        copies.texts[message.key].add(record["text"])
    return copies
