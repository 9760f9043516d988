"""Reading a topic from outside any consumer group (``newsflow tail``, the demo, the tests)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from aiokafka.structs import ConsumerRecord

from workers.kafka import clients
from workers.settings import Settings

ALIASES = ("raw", "clean", "enriched", "dead-letter")


def resolve_topic(settings: Settings, name: str) -> str:
    """'raw', 'clean', 'enriched' and 'dead-letter' name the configured topics."""
    return {
        "raw": settings.topic_raw,
        "clean": settings.topic_clean,
        "enriched": settings.topic_enriched,
        "dead-letter": settings.topic_dead_letter,
    }.get(name, name)


def as_json(record: ConsumerRecord, envelope: bool) -> dict[str, Any]:
    """The record's value as JSON (or as base64 when it is not JSON); with its Kafka
    coordinates, key and headers when ``envelope``."""
    try:
        value: Any = orjson.loads(record.value) if record.value is not None else None
    except orjson.JSONDecodeError:
        value = {"value_base64": base64.b64encode(record.value).decode("ascii")}
    if not envelope:
        return value
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "key": record.key.decode("utf-8", "replace") if record.key is not None else None,
        "headers": {k: v.decode("utf-8", "replace") for k, v in record.headers or ()},
        "value": value,
    }


async def tail(
    settings: Settings,
    topic: str,
    *,
    from_beginning: bool = True,
    idle_timeout_s: float | None = None,
    max_messages: int | None = None,
) -> AsyncIterator[ConsumerRecord]:
    """Records of every partition of ``topic``, as they arrive.

    Stops after ``max_messages`` records, or once no record arrived for ``idle_timeout_s``
    seconds (None: follow forever).
    """
    async with clients.admin(settings) as admin:
        partitions = await topic_partitions(admin, topic)
    async with clients.consumer(
        settings,
        # If the broker ever answers "offset out of range" (an empty partition being
        # written), start over from the beginning rather than skip to the end.
        auto_offset_reset="earliest" if from_beginning else "latest",
        fetch_max_bytes=max(52428800, settings.max_message_bytes * 2),
    ) as consumer:
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        seen = 0
        while max_messages is None or seen < max_messages:
            timeout_ms = int(idle_timeout_s * 1000) if idle_timeout_s is not None else 1000
            batches = await consumer.getmany(timeout_ms=timeout_ms)
            if not batches and idle_timeout_s is not None:
                return
            for batch in batches.values():
                for record in batch:
                    yield record
                    seen += 1
                    if max_messages is not None and seen >= max_messages:
                        return


async def topic_partitions(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    """The partitions of ``topic``, from the metadata of all topics (asking for every topic
    never makes a broker with auto-creation on create the one asked for)."""
    described = {t["topic"]: t for t in await _describe(admin)}
    if topic not in described:
        # Kafka leaves the topics a principal may not Describe out of an all-topics answer;
        # asked by name, it says so.
        (named,) = await _describe(admin, [topic])
        if named["error_code"] == TopicAuthorizationFailedError.errno:
            raise TopicAuthorizationFailedError(topic)
        raise LookupError(f"topic {topic!r} does not exist")
    numbers = sorted(p["partition"] for p in described[topic]["partitions"])
    return [TopicPartition(topic, number) for number in numbers]


# The admin client asks a random broker of its metadata, which may be one that is down (a
# node restarting, one of three lost): another is asked on the next try, for this long.
_DESCRIBE_RETRY_S = 30.0


async def _describe(admin: AIOKafkaAdminClient, topics: list[str] | None = None) -> list:
    deadline = time.monotonic() + _DESCRIBE_RETRY_S
    while True:
        try:
            return await admin.describe_topics(topics)
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
