"""A broker outage longer than the producer's delivery timeout, on a broker of the test's
own whose data survives a SIGKILL (Kafka's data dir, or Tansu on S3)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.brokers import Broker, kill_broker, pipeline_settings
from tests.support.delivery import assert_documents, no_dead_letters, pages, wait_for_keys
from tests.support.metrics import scrape, value
from tests.support.waiting import eventually
from tests.support.worker_process import WorkerProcess, http_get
from workers.kafka.produce import encode_raw, produce
from workers.kafka.topics import create_topics

pytestmark = pytest.mark.broker
# Short enough to outlast in a test; production keeps faust's 20 minutes.
DELIVERY_TIMEOUT_S = 10.0
GAVE_UP = "output not acknowledged; stopping the worker"


@pytest.mark.timeout(600)
async def test_broker_outage_past_the_delivery_timeout_loses_nothing(
    restartable_broker: Broker, redis_prefix: str, start_worker
) -> None:
    """The broker is SIGKILLed while outputs are in flight, stays down past the producer's
    delivery timeout, and restarts on the same data.

    What a worker does with outputs the broker has not acknowledged: those the producer
    holds stay in flight past the timeout (aiokafka expires a batch only when its partition
    has no known leader, and with the only broker down the metadata cannot change) and go
    out once the broker is back, written once thanks to idempotence. A send that cannot get
    into the producer within the timeout fails: that worker stops without acking the input,
    and its replacement (started here as an orchestrator would) re-reads it. Neither path
    dead-letters anything or loses a document.
    """
    broker = restartable_broker
    settings = pipeline_settings(broker.bootstrap, redis_prefix).model_copy(
        update={"delivery_timeout_s": DELIVERY_TIMEOUT_S}
    )
    await create_topics(settings)
    workers = {stage: start_worker(stage, settings) for stage in ("clean", "enrich")}
    records = pages(300, "outage")
    keys = {encode_raw(r)[0] for r in records}
    await produce(settings, records[:200])
    # Mid-stream: the first outputs are at the sink while most inputs still wait.
    await eventually(
        lambda: len(workers["enrich"].events("processed")) >= 10, 240, "outputs flowing"
    )

    kill_broker(broker)
    down_since = time.monotonic()
    await eventually(lambda: in_flight(workers) > 0, 60, "outputs in flight, unacknowledged")
    await asyncio.sleep(max(0.0, DELIVERY_TIMEOUT_S + 5 - (time.monotonic() - down_since)))
    still_in_flight = in_flight(workers)
    gave_up = {stage: w for stage, w in workers.items() if w.events(GAVE_UP)}
    for stage, worker in workers.items():
        if stage not in gave_up:
            assert worker.process.poll() is None, f"the {stage} worker exited with no reason"
    broker.start()
    outage_s = time.monotonic() - down_since

    # As an orchestrator would: a replacement for each worker that stopped.
    for stage in gave_up:
        await eventually(lambda s=stage: workers[s].process.poll() is not None, 60, "exit")
        workers[stage] = start_worker(stage, settings)
    await produce(settings, records[200:])
    sink = await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=300)
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    for stage, worker in gave_up.items():
        unacked = {e["tpo"] for e in worker.events(GAVE_UP)}
        redone = {e["tpo"] for e in workers[stage].events("processed")}
        assert unacked <= redone, f"{stage}: the unacknowledged input was not re-read"
    await eventually(
        lambda: all(http_get(w.web_port, "/readyz")[0] == 200 for w in workers.values()),
        120,
        "all ready again",
    )
    assert in_flight(workers) == 0
    print(
        f"broker down {outage_s:.0f} s; outputs in flight past the "
        f"{DELIVERY_TIMEOUT_S:.0f} s delivery timeout: {still_in_flight:.0f}; "
        f"workers that gave up: {sorted(gave_up) or 'none'}"
    )


def in_flight(workers: dict[str, WorkerProcess]) -> float:
    """Outputs sent and not yet acknowledged, over the running workers (their /metrics; one
    that gave up stops serving it during its stop, before it exits)."""
    return sum(
        value(scrape(w), "newsflow_in_flight_messages", stage=stage)
        for stage, w in workers.items()
        if w.process.poll() is None and not w.events(GAVE_UP)
    )
