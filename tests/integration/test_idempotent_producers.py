"""On Apache Kafka, every record the pipeline writes comes from an idempotent producer:
Kafka's own log dump shows a producer id and sequence numbers on each batch (a producer
without idempotence writes -1), so a retried send cannot be appended twice."""

from __future__ import annotations

import re

import pytest

from tests.support.brokers import TEST_BROKER, Broker
from tests.support.delivery import pages
from tests.support.kafka import KafkaCluster
from tests.support.waiting import eventually
from workers.kafka.produce import produce
from workers.settings import Settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="reads Kafka's log segments"),
]
BATCH = re.compile(r"baseSequence: (-?\d+) .*producerId: (-?\d+)")


def batches(kafka: KafkaCluster, topic: str) -> list[tuple[int, int]]:
    """(base sequence, producer id) of each record batch of ``topic``, from Kafka's
    DumpLogSegments over the node's log files."""
    data = kafka.nodes[0].folder / "data"
    segments = sorted(str(p) for p in data.glob(f"{topic}-*/*.log"))
    dump = kafka.tool("kafka.tools.DumpLogSegments", "--files", ",".join(segments))
    return [(int(m[1]), int(m[2])) for m in BATCH.finditer(dump)]


async def test_produce_and_workers_write_idempotent_batches(
    broker: Broker, pipeline: Settings, start_worker
) -> None:
    assert isinstance(broker, KafkaCluster) and pipeline.idempotent_producer
    clean = start_worker("clean", pipeline)
    assert (await produce(pipeline, pages(6, "idempotent"))).sent == 6
    await eventually(lambda: len(clean.events("processed")) == 6, 240, "the clean outputs")
    assert clean.stop() == 0
    for topic in (pipeline.topic_raw, pipeline.topic_clean):
        found = batches(broker, topic)
        assert found, f"no batch of {topic} in the dump"
        assert all(sequence >= 0 and producer >= 0 for sequence, producer in found), found
