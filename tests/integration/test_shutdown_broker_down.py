"""SIGTERM while every broker is down: the worker still stops within the bound, and its
group's commits never pass an input whose output did not reach the output topic."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time

import orjson
import pytest

from tests.support.brokers import Broker, kill_broker, pipeline_settings
from tests.support.delivery import committed_offsets, pages, read_topic
from tests.support.metrics import scrape, value
from tests.support.waiting import eventually, eventually_async
from workers.kafka.produce import produce
from workers.kafka.topics import create_topics
from workers.pipeline import STAGES

pytestmark = pytest.mark.broker
# What issue 32 asks of a worker's stop, whatever the brokers do.
STOP_WITHIN_S = 10.0


@pytest.mark.timeout(600)
async def test_sigterm_with_every_broker_down_stops_in_time_and_commits_only_what_was_acked(
    restartable_broker: Broker, redis_prefix: str, start_worker
) -> None:
    broker = restartable_broker
    settings = pipeline_settings(broker.bootstrap, redis_prefix)
    assert settings.shutdown_timeout_s < STOP_WITHIN_S
    await create_topics(settings)
    worker = start_worker("clean", settings)
    await produce(settings, pages(300, "sigterm"))
    await eventually(lambda: len(worker.events("processed")) >= 20, 240, "outputs flowing")
    group = STAGES["clean"].group(settings)

    async def committed_some() -> bool:
        return sum((await committed_offsets(settings, group, settings.topic_raw)).values()) > 0

    await eventually_async(committed_some, 60, "a first commit")

    kill_broker(broker)
    # Outputs sent that the broker can no longer acknowledge: their inputs must stay unacked.
    await eventually(
        lambda: value(scrape(worker), "newsflow_in_flight_messages", stage="clean") > 0,
        60,
        "outputs in flight, unacknowledged",
    )
    sigterm_at = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.process.wait(STOP_WITHIN_S * 3)
    stopped_s = time.monotonic() - sigterm_at
    assert stopped_s < STOP_WITHIN_S, f"the worker took {stopped_s:.1f} s to stop"
    assert worker.process.returncode is not None and worker.process.returncode >= 0

    broker.start()
    answered = set()
    for message in await read_topic(settings, settings.topic_clean):
        first = orjson.loads(message.value)["lineage"][0]
        answered.add((first["partition"], first["offset"]))
    for message in await read_topic(settings, settings.topic_dead_letter):
        source = orjson.loads(message.value)["source"]
        answered.add((source["partition"], source["offset"]))
    committed = await committed_offsets(settings, group, settings.topic_raw)
    for partition, offset in committed.items():
        missing = [o for o in range(offset) if (partition, o) not in answered]
        assert not missing, f"partition {partition} committed to {offset} past inputs {missing}"
    past_commit = sum(1 for p, o in answered if o >= committed.get(p, 0))
    print(
        f"stopped {stopped_s:.1f} s after SIGTERM with the broker down; committed "
        f"{sum(committed.values())} inputs, {past_commit} more answered past the commits"
    )
