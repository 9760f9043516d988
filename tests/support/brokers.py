"""The broker the integration suite runs on, as ``NEWSFLOW_TEST_BROKER`` picks it: ``kafka``
(the default: Apache Kafka from Maven Central's jars, tests/support/kafka.py) or ``tansu``
(the embedded broker of the demo), and the settings a test's own pipeline uses on it."""

from __future__ import annotations

import os

import pytest

from tests.support.kafka import KafkaCluster
from workers.local.broker import LocalBroker, isolated_settings
from workers.settings import Settings

TEST_BROKER = os.environ.get("NEWSFLOW_TEST_BROKER", "kafka")
if TEST_BROKER not in {"kafka", "tansu"}:
    raise pytest.UsageError(f"NEWSFLOW_TEST_BROKER={TEST_BROKER!r}: use kafka or tansu")
Broker = KafkaCluster | LocalBroker


def kill_broker(broker: Broker) -> None:
    """SIGKILL the broker: no controlled shutdown; its stored data stays as it was."""
    if isinstance(broker, KafkaCluster):
        broker.kill()
    elif broker.process is not None:
        broker.process.kill()
        broker.process.wait()


def pipeline_settings(
    bootstrap: str, redis_prefix: str, *, kafka: bool = TEST_BROKER == "kafka"
) -> Settings:
    """Settings naming a test's own topics (3 partitions), consumer groups and
    near-duplicate index keys; idempotent producers on Kafka (Tansu has none)."""
    return isolated_settings(
        bootstrap,
        tag="t",
        partitions=3,
        dedup_key_prefix=redis_prefix,
        commit_interval_s=0.5,
        idempotent_producer=kafka,
    )
