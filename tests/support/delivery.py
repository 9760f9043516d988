"""What reached a topic, read from the broker: the test documents, every record of a topic,
how many it holds, the exact documents at the sink, dead letters from log ends, whether the
groups caught up, and which inputs a worker processed and its group committed."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import orjson
from aiokafka.errors import GroupCoordinatorNotAvailableError

from tests.support.paths import SAMPLES
from tests.support.waiting import eventually_async
from tests.support.worker_process import WorkerProcess
from workers.kafka.lag import consumer_lag, log_ends
from workers.kafka.produce import raw_record
from workers.kafka.tail import tail
from workers.pipeline import consumer_groups
from workers.records.cloudevents import header
from workers.settings import Settings

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


async def record_count(settings: Settings, topic: str) -> int:
    """How many records ``topic`` holds, from its log-end offsets (test topics are never
    truncated, so each partition's log starts at 0)."""
    return sum((await log_ends(settings, topic)).values())


async def caught_up(settings: Settings, groups: dict[str, str]) -> bool:
    """Whether each consumer group has committed its input topic up to the log end: the
    workers commit an input only once its output or dead letter is in the log, so from
    then on nothing more comes of those inputs."""
    try:
        rows = await consumer_lag(settings, groups)
    except GroupCoordinatorNotAvailableError:
        return False  # Kafka creates its offsets topic at the first group lookup
    return all(row.end is not None and row.lag == 0 for row in rows)


async def read_topic(settings: Settings, topic: str) -> list:
    """Every record ``topic`` holds now: as many as its log-end offsets say, not what a read
    finds before some seconds of silence."""
    count = await record_count(settings, topic)
    records = [m async for m in tail(settings, topic, idle_timeout_s=60, max_messages=count)]
    assert len(records) == count, f"{topic}: read {len(records)} of {count} records"
    return records


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
