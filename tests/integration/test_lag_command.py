"""``newsflow lag`` against Apache Kafka's own consumer-group command, on the same group
after real traffic through a worker."""

from __future__ import annotations

import pytest

from tests.support.brokers import TEST_BROKER, Broker
from tests.support.delivery import pages
from tests.support.kafka import KafkaCluster
from tests.support.waiting import eventually
from workers.kafka.lag import consumer_lag, log_ends
from workers.kafka.produce import produce
from workers.pipeline import consumer_groups
from workers.settings import Settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="compares with Kafka's own tool"),
]
GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


def kafka_describe(kafka: KafkaCluster, group: str) -> dict[tuple[str, int], tuple]:
    """{(topic, partition): (current offset or None, log end, lag or None)} as Kafka's
    consumer-group command prints them."""
    rows: dict[tuple[str, int], tuple] = {}
    described = kafka.tool(
        GROUP_COMMAND, "--bootstrap-server", kafka.bootstrap, "--describe", "--group", group
    )
    for line in described.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[0] != group:
            continue  # the header, blank lines, "has no active members"
        topic, partition, current, end, lag = fields[1:6]
        rows[(topic, int(partition))] = (
            None if current == "-" else int(current),
            int(end),
            None if lag == "-" else int(lag),
        )
    return rows


async def test_lag_equals_kafkas_consumer_group_command(
    broker: Broker, pipeline: Settings, start_worker
) -> None:
    assert isinstance(broker, KafkaCluster)
    # Real traffic through both stages; then a second batch waits for the stopped workers.
    clean, enrich = start_worker("clean", pipeline), start_worker("enrich", pipeline)
    first, second = pages(40, "lag-first"), pages(25, "lag-second")
    assert (await produce(pipeline, first)).sent == 40
    await eventually(lambda: len(enrich.events("processed")) >= 40, 240, "the first batch")
    assert clean.stop() == 0 and enrich.stop() == 0
    assert (await produce(pipeline, second)).sent == 25
    assert sum((await log_ends(pipeline, pipeline.topic_raw)).values()) == 65

    ours = await consumer_lag(pipeline, consumer_groups(pipeline))
    for group in (pipeline.clean_group, pipeline.enrich_group):
        mine = {
            (r.topic, r.partition): (r.committed, r.end, r.lag) for r in ours if r.group == group
        }
        assert all(committed is not None for committed, _, _ in mine.values()), mine
        assert mine == kafka_describe(broker, group), group
    clean_rows = [r for r in ours if r.group == pipeline.clean_group]
    assert sum(r.lag or 0 for r in clean_rows) == 25
    assert all(r.lag_seconds is not None and r.lag_seconds > 0 for r in clean_rows if r.lag)
