"""newsflow on a three-node Kafka cluster whose nodes live in network namespaces
(tests/support/netns.py), so one can be cut off the network while it keeps running: a
partition, not a crash. Topics at replication factor 3 and ``min.insync.replicas=2``,
idempotent ``acks=all`` producers, 2 clean + 2 enrich workers as real processes in the root
namespace, with the production group timings and the ConfigMap's producer timeouts.

Needs root and iproute2: without them the module fails (it never skips), since a fresh clone
under CI runs as root on the same kind of machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.test_kafka_cluster_node_loss import (
    BROKER_SESSION_S,
    QUORUM_FAILOVER_S,
    active_controller,
    all_in_sync,
    assert_no_commit_past_unacknowledged,
    cluster_pipeline,  # noqa: F401  (a fixture, on this module's cluster)
    coordinator,
    copies_are_one_event,
    in_flight,
    partition_states,
    partitions_within,
    pass_on_s,
    processed,
    recommended_producer_timeouts,
    report,  # noqa: F401  (a fixture)
)
from tests.support.brokers import TEST_BROKER
from tests.support.delivery import assert_documents, no_dead_letters, pages, read_topic
from tests.support.kafka import KafkaCluster
from tests.support.netns import TestNetwork
from tests.support.paths import REPO
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import WorkerProcess
from workers.kafka.produce import encode_raw, produce
from workers.settings import Settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="a cluster of Apache Kafka nodes (Java)"),
]
# Fewer pages than the kill scenarios (2,000): the stall here is two request timeouts (about
# 40 s) whatever the page count, and the cluster of its own already takes the module's
# start-up; 300 pages leave most of them behind the cut and keep the module near 3 minutes.
PARTITION_PAGES = 300
PRODUCTION_GROUP_TIMINGS = {
    name: Settings.model_fields[name].default
    for name in ("session_timeout_s", "heartbeat_interval_s", "rebalance_timeout_s")
}
PROBE_KEY = b"stale-leader-probe"


@pytest.fixture(scope="module")
def network() -> Iterator[TestNetwork]:
    with TestNetwork(3) as net:
        yield net


@pytest.fixture(scope="module")
def cluster(
    network: TestNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaCluster]:
    places = [(host, network.prefix(i)) for i, host in enumerate(network.hosts)]
    folder = tmp_path_factory.mktemp("partitioned")
    with KafkaCluster(nodes=3, heap_mb=384, folder=folder, places=places) as kafka:
        yield kafka


def partition_bound_s(settings: Settings) -> float:
    """The longest a sink partition may stand still while a leader is cut off (README,
    "Delivery guarantees"). Until the controller fences the cut node (the quorum's failover,
    if it was the active controller, and the 9 s broker session), it stays an in-sync replica
    of the offsets topic, whose writes need every in-sync replica: the workers' commits wait,
    and the workers with them (every worker paused 8 s in a run). From then on it is a
    frozen leader's stall: the cut node resets nothing, so a request or a connection to it
    waits out the request timeout R (NEWSFLOW_REQUEST_TIMEOUT_S), and the try after it
    (a metadata refresh before the client learnt the new leader) may wait once more: 2 R;
    plus a page's way on. The group coordinator is not the cut node, so the production
    session and rebalance timeouts do not enter."""
    fenced = QUORUM_FAILOVER_S + BROKER_SESSION_S
    return fenced + 2 * settings.request_timeout_s + pass_on_s(settings)


async def moved_away(bootstrap: str, led: list[tuple[str, int]], victim: int) -> bool:
    """Every partition the cut node led has a new leader among the others, and the cut node
    is out of its in-sync replicas (what the other two nodes' controller decided). Asked of
    the other two with a short timeout, so a try at the cut node costs little."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await admin.start()
        described = await admin.describe_topics(sorted({topic for topic, _ in led}))
    except Exception:  # the admin client tried the cut node: ask again
        return False
    finally:
        await admin.close()
    now = {(t["topic"], p["partition"]): p for t in described for p in t["partitions"]}
    return all(
        key in now and now[key]["leader"] not in (-1, victim) and victim not in now[key]["isr"]
        for key in led
    )


PROBE = """
import asyncio, json, sys
from aiokafka import AIOKafkaProducer, TopicPartition

async def main(bootstrap, topic, partition, key):
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000, retry_backoff_ms=200
    )
    await producer.start()
    await producer.partitions_for(topic)  # the topic's metadata, from the cut node itself
    leader = producer.client.cluster.leader_for_partition(TopicPartition(topic, partition))
    try:
        await producer.send_and_wait(topic, b"{}", key=key.encode(), partition=partition)
        outcome = "acknowledged"
    except Exception as exc:
        outcome = type(exc).__name__
    finally:
        await producer.stop()
    print(json.dumps({"leader": leader, "outcome": outcome}))

asyncio.run(main(*sys.argv[1:3], int(sys.argv[3]), sys.argv[4]))
"""


def write_to_stale_leader(
    network: TestNetwork, cluster: KafkaCluster, victim: int, topic: str, partition: int
) -> dict:
    """From inside the cut node's namespace (the only place that still reaches it), an
    ``acks=all`` write to a partition it led: its own metadata still names it the leader;
    returns that leader and how the write ended."""
    done = subprocess.run(
        [
            *network.prefix(victim - 1),
            sys.executable,
            "-c",
            PROBE,
            cluster.node(victim).bootstrap,
            topic,
            str(partition),
            PROBE_KEY.decode(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def assigned_since(workers: list[WorkerProcess], since: float) -> list[str]:
    return [
        f"{w.stage}: {e['partitions']}"
        for w in workers
        for e in w.events("partitions assigned")
        if datetime.fromisoformat(e["ts"]).timestamp() > since
    ]


@pytest.mark.timeout(900)
async def test_leader_cut_off_the_network_loses_nothing(
    cluster: KafkaCluster,
    network: TestNetwork,
    cluster_pipeline: Settings,  # noqa: F811
    start_worker,
    report: list[str],  # noqa: F811
) -> None:
    """The node leading sink partitions (not the groups' coordinator) cut off from the other
    two nodes and from every client while pages are in flight, its process running on. The
    other two elect new leaders; a write to the cut node's stale leadership is not
    acknowledged; the workers carry every page through without it; healed, it rejoins,
    drops what it took alone and catches up. Every document once in content at the sink,
    none dead-lettered, no commit past an unacknowledged output, no rebalance, and no sink
    partition standing still longer than the bound."""
    settings = cluster_pipeline.model_copy(
        update={**PRODUCTION_GROUP_TIMINGS, **recommended_producer_timeouts()}
    )
    bound = partition_bound_s(settings)
    assert settings.delivery_timeout_s > bound  # no worker gives up on an output meanwhile
    assert settings.request_timeout_s > QUORUM_FAILOVER_S + BROKER_SESSION_S
    topics = [settings.topic_raw, settings.topic_clean, settings.topic_enriched]
    groups = {await coordinator(settings, g) for g in (settings.clean_group, settings.enrich_group)}
    states = await partition_states(settings, topics)
    # The node leading most partitions among those that lead a sink partition (for the
    # stale-leader write) and coordinate no group.
    candidates = {p["leader"] for p in states if p["topic"] == settings.topic_enriched} - groups
    assert candidates, f"every sink partition is led by a coordinator ({groups})"
    victim = max(candidates, key=lambda n: (sum(p["leader"] == n for p in states), -n))
    led = [(p["topic"], p["partition"]) for p in states if p["leader"] == victim]
    probe_partition = min(part for topic, part in led if topic == settings.topic_enriched)
    controller = active_controller(cluster, [n.node_id for n in cluster.nodes])

    workers = [start_worker(stage, settings) for stage in ("clean", "enrich") for _ in (0, 1)]
    records = pages(PARTITION_PAGES, "partition")
    keys = {encode_raw(r)[0] for r in records}
    assert (await produce(settings, records)).sent == PARTITION_PAGES
    await eventually(lambda: processed(workers) >= PARTITION_PAGES // 10, 600, "pages flowing")
    moving = processed(workers)
    await eventually(lambda: processed(workers) > moving, 60, "pages moving")

    cut_at = time.time()
    network.isolate(victim - 1)
    try:
        left = PARTITION_PAGES - processed(workers)
        # Outputs on their way to the cut node: sent, not acknowledged, held.
        await eventually(lambda: in_flight(workers) > 0, 30, "outputs held by the cut node")
        assert cluster.node(victim).running(), "the cut node must keep running"
        alive = [n.node_id for n in cluster.nodes if n.node_id != victim]
        observer = ",".join(cluster.node(n).bootstrap for n in alive)
        await eventually_async(
            lambda: moved_away(observer, led, victim), 120, "new leaders on the other two"
        )
        moved_after = time.time() - cut_at
        controller_after = active_controller(cluster, alive)
        assert controller_after in alive
        probe = write_to_stale_leader(
            network, cluster, victim, settings.topic_enriched, probe_partition
        )
        assert probe["leader"] == victim, f"the cut node no longer claims the lead: {probe}"
        assert probe["outcome"] != "acknowledged", "the stale leader acknowledged a write"
        # The other two carry every page through while the node stays cut off.
        await eventually(
            lambda: processed(workers) >= PARTITION_PAGES, 2 * bound + 120, "every page through"
        )
        healed_after = time.time() - cut_at
    finally:
        network.heal(victim - 1)
    assert left > 0, "the pages ran out before the cut"
    # Back, the cut node cuts its log of that partition back to what the new leader had. Wait
    # for that first: until it has read the metadata it missed, the healed node answers a
    # metadata request with the ISRs from before the cut (every replica in sync).
    truncated = f"UnifiedLog partition={settings.topic_enriched}-{probe_partition}, "

    def truncated_its_stale_write() -> bool:
        log = cluster.node(victim).log_path.read_text(errors="replace").splitlines()
        return any(truncated in line and "Truncating to offset" in line for line in log)

    await eventually(truncated_its_stale_write, 180, "the healed node truncating its log")
    await eventually_async(lambda: all_in_sync(settings), 180, "the healed node back in sync")

    sink = await read_topic(settings, settings.topic_enriched)
    assert PROBE_KEY not in {m.key for m in sink}, "the stale leader's write survived"
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    await assert_no_commit_past_unacknowledged(settings, workers)
    assert not [w for w in workers if w.process.poll() is not None], "a worker exited"
    assert not assigned_since(workers, cut_at), "the partition made a group rebalance"
    by_partition = partitions_within(sink, cut_at, settings.partitions, bound)
    role = " (the active controller)" if victim == controller else ""
    per_partition = ", ".join(f"{by_partition[p]:.1f}" for p in sorted(by_partition))
    facts = [
        f"node {victim}{role} cut off for {healed_after:.0f} s, leading "
        + ", ".join(f"{t}/{p}" for t, p in sorted(led)),
        f"{left} of {PARTITION_PAGES} pages to go at the cut",
        f"production group timings, request timeout {settings.request_timeout_s:g} s",
        f"new leaders seen after {moved_after:.1f} s",
        f"a write to the stale leader ended {probe['outcome']}, gone after the heal",
        f"sink partitions stood still {per_partition} s at most (bound {bound:.1f} s)",
        f"{copies_are_one_event(sink)} duplicates",
    ]
    report.append("; ".join(facts))
