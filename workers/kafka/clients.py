"""Kafka clients built from the settings, in one place: producer, consumer outside any group,
admin client; each an async context manager that starts and stops it.

Sizes and compression are written here once: a record may be as large as the largest
accepted page plus its envelope (JSON, base64, headers), and every client and topic must
allow that much.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager as Running
from contextlib import asynccontextmanager
from typing import TypeVar

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from workers.settings import Settings

Client = TypeVar("Client", AIOKafkaProducer, AIOKafkaConsumer, AIOKafkaAdminClient)

# Headroom for the envelope around the largest accepted page (JSON, base64, headers).
ENVELOPE_SLACK_BYTES = 1024 * 1024


def max_record_bytes(settings: Settings) -> int:
    """The largest record a client must send or fetch, and a topic must accept."""
    return settings.max_message_bytes + ENVELOPE_SLACK_BYTES


def compression_type(settings: Settings) -> str | None:
    """aiokafka's ``compression_type`` for NEWSFLOW_COMPRESSION ("none" is None there)."""
    return None if settings.compression == "none" else settings.compression


def producer(settings: Settings, **overrides: object) -> Running[AIOKafkaProducer]:
    """A started producer: idempotent, and every write waits for all in-sync replicas
    (``acks=all``)."""
    defaults = {
        "acks": "all",
        # A send retried after a broker hiccup is written once (off only for the embedded
        # broker, which cannot hand out producer ids).
        "enable_idempotence": settings.idempotent_producer,
        "max_request_size": max_record_bytes(settings),
        "compression_type": compression_type(settings),
    }
    return _running(AIOKafkaProducer(**settings.kafka_client_kwargs(), **{**defaults, **overrides}))


def outputs_wait(producer: AIOKafkaProducer, delivery_timeout_s: float) -> AIOKafkaProducer:
    """``producer`` with an output's waits set to ``delivery_timeout_s``, apart from a broker's
    answer (its ``request_timeout_ms``).

    aiokafka has one request_timeout_ms for three waits: a broker's answer, a send waiting for
    room behind its partition's batch, and a batch whose partition has no leader. A hung
    leader answers nothing, so the first must be short (the client then reconnects, refreshes
    its metadata and retries at the new leader), while the other two must outlast that retry,
    or the send gives up and the worker stops for a broker that merely hung. The other two
    are private attributes read on every send and drain: recheck on an aiokafka upgrade."""
    producer._request_timeout_ms = int(delivery_timeout_s * 1000)  # send(): wait for room
    producer._message_accumulator._batch_ttl = delivery_timeout_s  # no leader that long: fail
    return producer


def isolation_level(settings: Settings) -> str:
    """What a consumer of the pipeline's topics reads: committed records only, once the
    workers write in transactions."""
    if settings.processing_guarantee == "exactly_once":
        return "read_committed"
    return "read_uncommitted"


def consumer(settings: Settings, **overrides: object) -> Running[AIOKafkaConsumer]:
    """A started consumer outside any group (tools that read, never commit). With
    exactly_once it reads committed records only: an aborted transaction's outputs are in
    the log too."""
    defaults = {
        "group_id": None,
        "isolation_level": isolation_level(settings),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_partition_fetch_bytes": max_record_bytes(settings),
    }
    return _running(AIOKafkaConsumer(**settings.kafka_client_kwargs(), **{**defaults, **overrides}))


def admin(settings: Settings) -> Running[AIOKafkaAdminClient]:
    return _running(AIOKafkaAdminClient(**settings.kafka_client_kwargs()))


@asynccontextmanager
async def _running(client: Client) -> AsyncIterator[Client]:
    """``client`` started, and stopped on the way out, even when start() failed half-way
    (connections already open)."""
    try:
        await client.start()
        yield client
    finally:
        await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())


def faust_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """The workers' credentials as faust takes them (it builds its own aiokafka clients)."""
    ssl_context = settings.kafka_client_kwargs().get("ssl_context")
    if settings.sasl_mechanism:
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    if ssl_context is not None:
        return faust.SSLCredentials(ssl_context)
    return None
