"""The in-sync replicas below ``min.insync.replicas`` with the controller quorum alive: a
dedicated KRaft controller and three broker-only nodes, topics at replication factor 3 and
``min.insync.replicas=2`` (the ``topics create`` defaults), 2 clean + 2 enrich workers as real
processes. Two brokers SIGKILLed mid-stream leave one replica in sync while the controller
(on its own node) stays up: every partition keeps a leader and the cluster its metadata,
but no write can be acknowledged. On three combined nodes that cannot happen: two nodes
down take the quorum with them (``test_kafka_cluster_node_loss.py``'s minority test).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import NotEnoughReplicasError

from tests.integration import test_kafka_cluster_node_loss as node_loss
from tests.support.brokers import TEST_BROKER
from tests.support.delivery import pages, read_all
from tests.support.kafka import KafkaCluster
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import WorkerProcess, http_get
from workers.kafka.produce import encode_raw, produce
from workers.settings import Settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="a cluster of Apache Kafka nodes (Java)"),
]
# A first wave warms both stages up (the enrich stage loads its models), the second one
# keeps the clean stage busy when the brokers go: both stages hold outputs.
WARM_UP_PAGES, ISR_PAGES = 20, 120


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    folder = tmp_path_factory.mktemp("quorum")
    with KafkaCluster(nodes=3, controllers=1, heap_mb=384, folder=folder) as kafka:
        yield kafka


@pytest.fixture
async def cluster_pipeline(cluster: KafkaCluster, redis_prefix: str) -> Settings:
    # Group timings that a loaded machine does not break: with the suite's 3 s session, a
    # clean worker's heartbeat came late during the outage (load average 25), the group
    # rebalanced mid-hold and a worker left without partitions said ready. The hold is the
    # point here, not a rebalance.
    settings = await node_loss.prepare_pipeline(cluster, redis_prefix)
    return settings.model_copy(
        update={"session_timeout_s": 10.0, "heartbeat_interval_s": 1.0, "rebalance_timeout_s": 10.0}
    )


async def in_sync(settings: Settings, topics: list[str]) -> list[tuple[int, list[int]]] | None:
    """(leader, in-sync replicas) of every partition of ``topics``; None while the admin
    client asks a dead node or a partition is not described."""
    try:
        states = await node_loss.partition_states(settings, topics)
    except Exception:  # the admin client asked a dead node: ask again
        return None
    if len(states) != settings.partitions * len(topics):
        return None
    return [(p["leader"], sorted(p["isr"])) for p in states]


async def produce_refused(settings: Settings) -> str:
    """The error a plain acks=all producer gets writing to the sink topic now (not
    idempotent, so it gives up after its 3 s request timeout instead of retrying)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", request_timeout_ms=3000
    )
    await producer.start()
    try:
        await producer.send_and_wait(settings.topic_enriched, b"{}", key=b"isr-probe")
    except NotEnoughReplicasError as exc:
        return type(exc).__name__
    finally:
        await producer.stop()
    raise AssertionError("the broker acknowledged a write below min.insync.replicas")


async def committed_inputs_have_outputs(settings: Settings) -> dict[str, int]:
    """Each group's committed offsets cover only inputs whose output is in the next topic
    (read from the broker left, up to its high watermark): nothing committed past an output
    the cluster does not hold. Returns the committed inputs per stage."""
    counts = {}
    for stage, group, source, target in (
        ("clean", settings.clean_group, settings.topic_raw, settings.topic_clean),
        ("enrich", settings.enrich_group, settings.topic_clean, settings.topic_enriched),
    ):
        committed = await node_loss.group_offsets(settings, group)
        inputs = await read_all(settings, source, idle_s=1.0)
        outputs = {m.key for m in await read_all(settings, target, idle_s=1.0)}
        ends = {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == source}
        done = [m.key for m in inputs if m.offset < ends.get(m.partition, 0)]
        missing = set(done) - outputs
        assert not missing, f"{stage} committed {len(missing)} inputs whose output is not there"
        counts[stage] = len(done)
    return counts


def holds(worker: WorkerProcess) -> bool:
    """The worker has an output the broker has not acknowledged."""
    return node_loss.in_flight([worker]) > 0


def holds_not_ready(worker: WorkerProcess) -> bool:
    """Not ready if it holds an output. A worker that holds none (its partitions had no new
    input since the kill) has nothing the broker refused it yet, and says ready: right."""
    return http_get(worker.web_port, "/readyz")[0] == 503 or not holds(worker)


def not_ready_bound_s(settings: Settings) -> float:
    """How long after the kill every worker holding an output must say not ready (README,
    "Delivery guarantees"): the controller fences the dead brokers after the broker session
    timeout and moves their leaderships to the one left (until then a partition's leader takes no
    connection, which is not-ready already); a page under way is done within the extraction
    timeout and its output sent; no output is acknowledged from the kill on, so the oldest
    one waits past NEWSFLOW_READY_MAX_ACK_WAIT_S."""
    return (
        node_loss.BROKER_SESSION_S + settings.extraction_timeout_s + settings.ready_max_ack_wait_s
    )


def resume_bound_s(settings: Settings) -> float:
    """How soon after every held partition is writable again the sink must have its next
    record (README, "Delivery guarantees"): the partitions regrow one by one, so the outputs
    held for the first ones may be through before the last one is writable, and the next sink
    record is then a page's whole way: a page in each stage (each within
    NEWSFLOW_EXTRACTION_TIMEOUT_S) and its passing on (the producers retry every 0.1 s)."""
    return 2 * settings.extraction_timeout_s + node_loss.pass_on_s(settings)


@pytest.mark.timeout(900)
async def test_isr_of_one_below_min_insync_with_the_quorum_alive_holds_then_resumes(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker
) -> None:
    """Two of the three brokers SIGKILLed while both stages have outputs in flight; the
    controller and the broker that coordinates the groups stay. Every partition is led by
    that broker with one replica in sync, below min.insync.replicas=2: writes are refused
    (NOT_ENOUGH_REPLICAS). The workers hold: not ready, nothing acknowledged, nothing
    committed past an output the cluster does not hold, nothing dead-lettered, none exits.
    The brokers back, they resume by themselves: every document at the sink, copies one
    event."""
    settings = cluster_pipeline
    assert settings.min_insync_replicas == 2 and settings.replication_factor == 3
    assert settings.ready_max_ack_wait_s == node_loss.READY_MAX_ACK_WAIT_S
    held_topics = [settings.topic_clean, settings.topic_enriched]
    (controller,) = (n.node_id for n in cluster.controllers)
    survivor = await node_loss.coordinator(settings, settings.enrich_group)
    assert survivor == await node_loss.coordinator(settings, settings.clean_group)
    victims = [n.node_id for n in cluster.nodes if n.node_id != survivor]
    workers = [start_worker(stage, settings) for stage in ("clean", "enrich") for _ in (0, 1)]
    records = pages(ISR_PAGES, "isr1")
    keys = {encode_raw(r)[0] for r in records}
    assert (await produce(settings, records[:WARM_UP_PAGES])).sent == WARM_UP_PAGES
    await eventually(lambda: node_loss.processed(workers) >= 5, 600, "the enrich stage at work")
    assert (await produce(settings, records[WARM_UP_PAGES:])).sent == ISR_PAGES - WARM_UP_PAGES
    await eventually(
        lambda: node_loss.processed(workers, "clean") >= WARM_UP_PAGES + 10,
        600,
        "the second wave flowing",
    )

    for victim in victims:
        cluster.kill_node(victim)
    down_at = time.monotonic()
    clean_left = ISR_PAGES - node_loss.processed(workers, "clean")
    assert clean_left > 0, "the clean stage ran out of pages before the kill"
    await eventually(lambda: node_loss.in_flight(workers) > 0, 60, "outputs held")
    # The quorum lives on its own node, and the one broker left leads every partition with
    # itself alone in sync.
    assert node_loss.active_controller(cluster, [survivor]) == controller

    async def alone() -> bool:
        led = [(survivor, [survivor])] * (settings.partitions * len(held_topics))
        return await in_sync(settings, held_topics) == led

    await eventually_async(alone, 60, "one replica in sync")
    bound = not_ready_bound_s(settings)

    def holding_not_ready() -> bool:
        return all(holds_not_ready(w) for w in workers) and all(
            any(w.stage == stage and holds(w) for w in workers) for stage in ("clean", "enrich")
        )

    try:
        await eventually(holding_not_ready, bound, "every worker holding an output not ready")
    except AssertionError as exc:
        raise AssertionError([http_get(w.web_port, "/readyz") for w in workers]) from exc
    not_ready_after = time.monotonic() - down_at
    held = node_loss.processed(workers, "clean"), node_loss.processed(workers)
    await node_loss.assert_held(settings, workers)
    committed = await committed_inputs_have_outputs(settings)
    refused = await produce_refused(settings)
    assert holding_not_ready()
    held_for = time.monotonic() - down_at

    for victim in victims:
        cluster.start_node(victim)

    regrown: dict[int, float] = {}  # partition (in in_sync's order) -> when it was writable

    async def writable() -> bool:
        states = await in_sync(settings, held_topics)
        if states is None:
            return False
        for index, (_, isr) in enumerate(states):
            if len(isr) >= settings.min_insync_replicas:
                regrown.setdefault(index, time.time())
        return len(regrown) == len(states)

    await eventually_async(writable, 300, "min.insync.replicas in sync again")
    writable_at = time.time()
    sink = await node_loss.assert_resumed(settings, keys, workers)
    await eventually_async(
        lambda: node_loss.all_in_sync(settings), 180, "every replica back in sync"
    )
    resume_bound = resume_bound_s(settings)
    first, _ = node_loss.stalls(sink, writable_at)
    # Enough to tell where a late resume waited: when each held partition could be written
    # again, and the sink's records around that moment, by partition.
    timeline = {
        "regrown_s": [round(at - writable_at, 1) for _, at in sorted(regrown.items())],
        "sink_s": sorted(
            (round(m.timestamp / 1000 - writable_at, 1), m.partition)
            for m in sink
            if abs(m.timestamp / 1000 - writable_at) < 30
        ),
        "retries": sum(len(w.events("transient failure; retrying")) for w in workers),
    }
    assert first <= resume_bound, (
        f"next sink record {first:.1f} s after (bound {resume_bound}): {timeline}"
    )
    print(
        f"ISR 1 < min.insync.replicas 2 (brokers {victims} down, controller {controller} "
        f"up) for {held_for:.0f} s with {clean_left} pages left for the clean stage: every "
        f"worker holding an output not ready after {not_ready_after:.1f} s "
        f"(bound {bound:.1f} s), held at "
        f"{held} processed, committed inputs with their output there {committed}, a direct "
        f"produce refused with {refused}; next sink record {first:.1f} s after the ISR "
        f"regrew (bound {resume_bound:.1f} s), {node_loss.copies_are_one_event(sink)} duplicates"
    )
