"""``newsflow lag --serve PORT`` with no worker running: what Prometheus scrapes from it equals
the offsets the broker holds (on Kafka, what Kafka's own consumer-group command prints), and
the lag in seconds is the age of the oldest unconsumed record."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_lag_command import kafka_describe
from tests.support.brokers import Broker
from tests.support.delivery import pages, read_topic
from tests.support.kafka import KafkaCluster
from tests.support.waiting import eventually
from tests.support.worker_process import LagExporterProcess, http_get
from workers.kafka.produce import produce
from workers.local.broker import free_port
from workers.settings import Settings

pytestmark = pytest.mark.broker
Series = dict[str, dict[tuple[str, str, int], float]]


def scrape_exporter(port: int) -> tuple[float, Series]:
    """newsflow_lag_exporter_up and each newsflow_group_* family by (group, topic, partition)."""
    status, body = http_get(port, "/metrics")
    assert status == 200, status
    up, series = 0.0, {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "newsflow_lag_exporter_up":
                up = sample.value
            elif sample.name.startswith("newsflow_group_"):
                key = (
                    sample.labels["group"],
                    sample.labels["topic"],
                    int(sample.labels["partition"]),
                )
                series.setdefault(sample.name, {})[key] = sample.value
    return up, series


async def test_exporter_reports_the_brokers_offsets_with_every_worker_stopped(
    broker: Broker, pipeline: Settings, start_worker, tmp_path: Path
) -> None:
    # Real commits: a clean worker takes a first batch, then stops for good. Nothing of
    # the enrich stage ever runs; a second batch waits for the clean workers.
    clean = start_worker("clean", pipeline)
    assert (await produce(pipeline, pages(20, "exporter-first"))).sent == 20
    await eventually(lambda: len(clean.events("processed")) >= 20, 120, "the first batch")
    assert clean.stop() == 0
    processed = [event["tpo"].rsplit("/", 2) for event in clean.events("processed")]
    committed_by_worker = Counter()
    for topic, partition, offset in processed:
        key = (pipeline.clean_group, topic, int(partition))
        committed_by_worker[key] = max(committed_by_worker[key], int(offset) + 1)
    before_second = time.time()
    assert (await produce(pipeline, pages(10, "exporter-second"))).sent == 10
    raw_per_partition = Counter(r.partition for r in await read_topic(pipeline, pipeline.topic_raw))
    clean_per_partition = Counter(
        r.partition for r in await read_topic(pipeline, pipeline.topic_clean)
    )

    exporter = LagExporterProcess(pipeline, tmp_path / "exporter.log")
    port = exporter.port
    try:
        scraped: list = []

        def complete() -> bool:
            scraped[:] = scrape_exporter(port) if http_get(port, "/healthz")[0] else (0.0, {})
            up, series = scraped
            lag = series.get("newsflow_group_lag_messages", {})
            return (
                up == 1
                and sum(v for (g, _, _), v in lag.items() if g == pipeline.clean_group) == 10
            )

        await eventually(complete, 60, "the exporter's first complete refresh")
        scraped_at = time.time()
        _, series = scraped
    finally:
        assert exporter.stop() == 0, exporter.log_path.read_text()

    clean_group, enrich_group = pipeline.clean_group, pipeline.enrich_group
    committed = series["newsflow_group_committed_offset"]
    ends = series["newsflow_group_log_end_offset"]
    lag = series["newsflow_group_lag_messages"]
    lag_s = series["newsflow_group_lag_seconds"]

    # The clean group: committed what its worker processed, ends what the raw topic holds.
    raw_keys = {(clean_group, pipeline.topic_raw, p) for p in range(pipeline.partitions)}
    assert set(ends) >= raw_keys
    for key in raw_keys:
        assert ends[key] == raw_per_partition[key[2]], key
        assert committed.get(key) == committed_by_worker.get(key), key
        assert lag[key] == ends[key] - committed.get(key, 0), key
        if lag[key]:
            # The oldest waiting record was produced after `before_second`, and read before
            # the scrape; a read can be up to one interval older than the scrape.
            assert 0 < lag_s[key] <= scraped_at - before_second + 1, (key, lag_s[key])
        else:
            assert lag_s[key] == 0, key
    if isinstance(broker, KafkaCluster):
        theirs = kafka_describe(broker, clean_group)
        ours = {
            (topic, p): (committed.get((g, topic, p)), ends[(g, topic, p)], lag[(g, topic, p)])
            for (g, topic, p) in raw_keys
        }
        assert ours == theirs

    # The enrich group never committed: no committed series, its lag is the whole topic.
    clean_keys = {(enrich_group, pipeline.topic_clean, p) for p in range(pipeline.partitions)}
    assert not any(key in committed for key in clean_keys)
    for key in clean_keys:
        assert ends[key] == lag[key] == clean_per_partition[key[2]], key
    assert sum(lag[key] for key in clean_keys) == 20


async def test_exporter_reports_down_and_no_stale_lag_when_kafka_is_unreachable(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, bootstrap_servers=f"127.0.0.1:{free_port()}")
    exporter = LagExporterProcess(settings, tmp_path / "exporter.log")
    port = exporter.port
    try:
        await eventually(lambda: http_get(port, "/healthz")[0] == 200, 30, "the exporter")
        await asyncio.sleep(3)
        up, series = scrape_exporter(port)
        assert up == 0
        assert series == {}
    finally:
        assert exporter.stop() == 0, exporter.log_path.read_text()
