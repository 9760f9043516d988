"""newsflow on a three-node Kafka cluster (KRaft, combined broker+controller nodes) that loses
brokers while pages flow: topics at replication factor 3 and ``min.insync.replicas=2``,
idempotent ``acks=all`` producers, 2 clean + 2 enrich workers as real processes.

One cluster for the module (starting three JVMs takes a while on two cores); each test has
topics and groups of its own and leaves every node running and in sync for the next. The
measured stalls and duplicates are written to the terminal at the end of the module.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime

import orjson
import pytest
import yaml
from aiokafka import TopicPartition
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    GroupCoordinatorNotAvailableError,
    KafkaConnectionError,
    NodeNotReadyError,
    RequestTimedOutError,
)

from tests.integration.test_exactly_once import (
    Feed,
    aborted_copies,
    assert_exactly_once,
    exactly_once,
)
from tests.support.brokers import TEST_BROKER, pipeline_settings
from tests.support.delivery import (
    assert_documents,
    no_dead_letters,
    pages,
    processed_offsets,
    read_all,
    sink_copies,
    wait_for_keys,
)
from tests.support.kafka import KafkaCluster
from tests.support.metrics import scrape, value
from tests.support.paths import REPO
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import WorkerProcess, http_get
from workers.kafka import clients
from workers.kafka.produce import encode_raw, produce
from workers.kafka.topics import create_topics, topic_configs
from workers.pipeline import STAGES
from workers.runtime.transactions import transactional_id
from workers.settings import Settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="a cluster of Apache Kafka nodes (Java)"),
]
# Pages per kill scenario, as the issue asks: 2,000 (82-92 s a scenario on this 2-core machine
# when quiet, about 190 s under load; NEWSFLOW_CLUSTER_PAGES=700 for a quicker run).
PAGES = int(os.environ.get("NEWSFLOW_CLUSTER_PAGES", "2000"))
MINORITY_PAGES = 300
OFFSETS_TOPIC = "__consumer_offsets"
# Quick readiness verdicts in the test; production keeps the default (README).
READY_MAX_ACK_WAIT_S = 5.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    with KafkaCluster(nodes=3, heap_mb=384, folder=tmp_path_factory.mktemp("cluster")) as kafka:
        yield kafka


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Lines of measurements, written to the terminal once the module is done (no -s)."""
    lines: list[str] = []
    yield lines
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or terminal is None or not lines:
        return
    with capture.global_and_fixture_disabled():  # past pytest's output capture
        terminal.write_line("")
        terminal.section("newsflow on a three-node cluster", sep="-")
        for line in lines:
            terminal.write_line(line)


@pytest.fixture
async def cluster_pipeline(cluster: KafkaCluster, redis_prefix: str) -> Settings:
    return await prepare_pipeline(cluster, redis_prefix)


async def prepare_pipeline(cluster: KafkaCluster, redis_prefix: str) -> Settings:
    """This test's topics at replication factor 3 and min.insync.replicas=2, every replica in
    sync; the sink topic stamps records with the broker's append time (to time stalls)."""
    for node in cluster.nodes:  # a test that failed half-way may have left one down
        cluster.start_node(node.node_id)
    settings = pipeline_settings(cluster.bootstrap, redis_prefix).model_copy(
        update={
            "replication_factor": 3,
            "min_insync_replicas": 2,
            "ready_max_ack_wait_s": READY_MAX_ACK_WAIT_S,
        }
    )
    await create_topics(settings)
    async with clients.admin(settings) as admin:
        # alter_configs replaces a topic's whole config: the creation configs go along.
        sink = settings.topic_enriched
        configs = {**topic_configs(settings, sink), "message.timestamp.type": "LogAppendTime"}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, sink, configs)])
    for group in (settings.clean_group, settings.enrich_group):
        await coordinator(settings, group)  # the offsets topic exists from here on
    await eventually_async(lambda: all_in_sync(settings), 180, "every replica in sync")
    return settings


# --- the cluster, as the admin client sees it -----------------------------------------------


async def partition_states(settings: Settings, topics: list[str]) -> list[dict]:
    async with clients.admin(settings) as admin:
        described = await admin.describe_topics(topics)
    return [
        {**p, "topic": t["topic"]}
        for t in described
        if t["error_code"] == 0
        for p in t["partitions"]
    ]


async def all_in_sync(settings: Settings, nodes: int = 3) -> bool:
    """Every partition of the test's topics and of the offsets topic led, and all its
    replicas in sync (a restarted node has caught up)."""
    topics = [*settings.all_topics(), OFFSETS_TOPIC]
    try:
        states = await partition_states(settings, topics)
    except Exception:  # a node on its way down or up: ask again
        return False
    wanted = settings.partitions * len(settings.all_topics())
    ours = [p for p in states if p["topic"] != OFFSETS_TOPIC]
    return len(ours) == wanted and all(
        p["error_code"] == 0 and p["leader"] >= 0 and len(p["isr"]) == nodes for p in states
    )


def active_controller(cluster: KafkaCluster, alive: list[int]) -> int:
    """The quorum's leader, as a live node reports it (Kafka's metadata-quorum tool)."""
    bootstrap = ",".join(cluster.node(n).bootstrap for n in alive)
    status = cluster.tool(
        "org.apache.kafka.tools.MetadataQuorumCommand",
        "--bootstrap-server",
        bootstrap,
        "describe",
        "--status",
    )
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["LeaderId"].strip())


async def coordinator(settings: Settings, group: str, timeout_s: float = 60) -> int:
    """The node coordinating ``group`` (Kafka creates the offsets topic on the first ask)."""
    deadline = time.monotonic() + timeout_s
    async with clients.admin(settings) as admin:
        while True:
            try:
                return await admin.find_coordinator(group)
            except GroupCoordinatorNotAvailableError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)


async def group_offsets(settings: Settings, group: str, attempts: int = 20) -> dict:
    """The group's committed offsets. Without a controller quorum the metadata still lists
    the dead nodes, and the admin client may send its request to one: ask again."""
    for attempt in range(attempts):
        try:
            async with clients.admin(settings) as admin:
                return await admin.list_consumer_group_offsets(group)
        except (KafkaConnectionError, NodeNotReadyError, RequestTimedOutError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def busiest_leader(settings: Settings, avoid: set[int]) -> int:
    """The node leading the most partitions of the pipeline's topics, among those not in
    ``avoid`` (so a leader kill is not also a coordinator kill)."""
    led: dict[int, int] = defaultdict(int)
    for p in await partition_states(settings, settings.all_topics()):
        led[p["leader"]] += 1
    return max((n for n in led if n not in avoid), key=lambda n: (led[n], -n))


# --- the sink -------------------------------------------------------------------------------


def copies_are_one_event(sink: list) -> int:
    """Every document that reached the sink more than once came with one ce_id and one
    content hash (a redelivery, not a new event); returns the count of extra copies."""
    copies = sink_copies(sink)
    assert all(len(ids) == 1 for ids in copies.event_ids.values()), "a copy got another ce_id"
    assert all(len(h) == 1 for h in copies.hashes.values()), "a copy got another content hash"
    return len(sink) - len(copies.event_ids)


def stalls(sink: list, since: float) -> tuple[float, float]:
    """(seconds from ``since`` to the next record at the sink, longest gap between sink
    records from ``since`` on), by the broker's append times."""
    after = sorted(m.timestamp / 1000 for m in sink if m.timestamp / 1000 > since)
    if not after:
        return float("nan"), float("nan")
    times = [since, *after]
    return after[0] - since, max(b - a for a, b in itertools.pairwise(times))


# --- one run --------------------------------------------------------------------------------

Disruption = Callable[[list[WorkerProcess]], Awaitable[list[float]]]


def processed(workers: list[WorkerProcess], stage: str = "enrich") -> int:
    return sum(len(w.events("processed")) for w in workers if w.stage == stage)


async def flow_through(
    settings: Settings, start_worker, disrupt: Disruption, prefix: str
) -> tuple[list, list[float]]:
    """2 clean + 2 enrich workers, PAGES pages, ``disrupt`` once a fifth reached the sink;
    then every document at the sink exactly once or redelivered, no dead letters, no worker
    lost. Returns the sink and the disruption times."""
    workers = [start_worker(stage, settings) for stage in ("clean", "enrich") for _ in (0, 1)]
    records = pages(PAGES, prefix)
    keys = {encode_raw(r)[0] for r in records}
    assert (await produce(settings, records)).sent == PAGES
    await eventually(lambda: processed(workers) >= PAGES // 5, 600, "pages flowing")
    times = await disrupt(workers)
    sink = await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=900)
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    exited = [w for w in workers if w.process.poll() is not None]
    assert not exited, f"workers exited: {exited}"
    return sink, times


async def kill_and_restart(
    cluster: KafkaCluster, settings: Settings, victim: int, workers: list[WorkerProcess]
) -> list[float]:
    """SIGKILL ``victim`` mid-stream; once the flow has moved on, start it again and wait
    until it is back in sync."""
    before = processed(workers)
    killed_at = time.time()
    cluster.kill_node(victim)
    await eventually(lambda: processed(workers) >= before + PAGES // 10, 600, "flow again")
    cluster.start_node(victim)
    await eventually_async(lambda: all_in_sync(settings), 180, "the restarted node in sync")
    return [killed_at]


# Kafka's defaults for the controllers (the test cluster sets none of them): the quorum's
# voters notice a dead leader after controller.quorum.fetch.timeout.ms (2 s) and elect a new
# one within two controller.quorum.election.timeout.ms (1 s, randomised up to twice that); the
# active controller fences a broker that sent no heartbeat for broker.session.timeout.ms (9 s),
# counted afresh from its own election, and moves its leaderships to in-sync replicas.
QUORUM_FAILOVER_S = 2.0 + 2 * 1.0
BROKER_SESSION_S = 9.0
RETRY_BACKOFF_S = 0.1  # aiokafka's retry_backoff_ms


def pass_on_s(settings: Settings) -> float:
    """A page's way on once its partition is writable again: a poll round per stage and the
    commit interval."""
    return RETRY_BACKOFF_S + settings.commit_interval_s + 2 * settings.fetch_max_wait_ms / 1000


def kill_bound_s(settings: Settings, *, coordinator: bool = False) -> float:
    """The longest gap at the sink a SIGKILLed node may cause (README, "Delivery
    guarantees"). Its connections are reset, so the clients ask for metadata at once and retry
    every 100 ms; the partitions move once the controller fences the node: the quorum's
    failover (if it was the active controller) and the broker session timeout. A coordinator
    also makes the group rejoin at its successor: a session timeout for the members to notice
    and a rebalance timeout for the join."""
    bound = QUORUM_FAILOVER_S + BROKER_SESSION_S + pass_on_s(settings)
    if coordinator:
        bound += settings.session_timeout_s + settings.rebalance_timeout_s
    return bound


def rolling_bound_s(settings: Settings) -> float:
    """A SIGTERMed node hands its leaderships over before it stops (a controlled shutdown: no
    fencing to wait for); the quorum may fail over and the group rejoin its coordinator's
    successor, as above."""
    return (
        QUORUM_FAILOVER_S
        + settings.session_timeout_s
        + settings.rebalance_timeout_s
        + pass_on_s(settings)
    )


def describe(
    name: str, sink: list, keys: int, times: list[float], bound: float, extra: str = ""
) -> str:
    """The scenario's line for the report, once its stall is asserted: the next sink record
    after the first disruption and the longest gap from then on both within ``bound`` (no
    record after the disruption gives NaN, which fails)."""
    first, longest = stalls(sink, times[0])
    assert first <= bound, f"{name}: next sink record {first:.1f} s after (bound {bound:.1f} s)"
    assert longest <= bound, f"{name}: the sink stood still {longest:.1f} s (bound {bound:.1f} s)"
    duplicates = copies_are_one_event(sink)
    return (
        f"{name}: {keys} documents, {len(sink)} sink records, {duplicates} duplicates "
        f"(each one ce_id, one content hash); next sink record {first:.1f} s after the "
        f"first disruption, longest stall at the sink {longest:.1f} s (bound {bound:.1f} s)"
        f"{extra}"
    )


# --- the scenarios --------------------------------------------------------------------------


@pytest.mark.timeout(1200)
async def test_leader_killed_mid_stream(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """SIGKILL of the node leading the most partitions (not the group coordinator) while
    pages are in flight; restarted once the flow has moved on."""
    settings = cluster_pipeline
    groups = {await coordinator(settings, g) for g in (settings.clean_group, settings.enrich_group)}
    victim = 0

    async def disrupt(workers: list[WorkerProcess]) -> list[float]:
        nonlocal victim
        victim = await busiest_leader(settings, avoid=groups)
        return await kill_and_restart(cluster, settings, victim, workers)

    sink, times = await flow_through(settings, start_worker, disrupt, "leader")
    bound = kill_bound_s(settings)
    report.append(describe(f"leader (node {victim}) SIGKILLed", sink, PAGES, times, bound))


@pytest.mark.timeout(1200)
async def test_coordinator_killed_mid_stream(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """SIGKILL of the enrich group's coordinator while pages are in flight."""
    settings = cluster_pipeline
    victim = 0

    async def disrupt(workers: list[WorkerProcess]) -> list[float]:
        nonlocal victim
        victim = await coordinator(settings, settings.enrich_group)
        return await kill_and_restart(cluster, settings, victim, workers)

    sink, times = await flow_through(settings, start_worker, disrupt, "coordinator")
    clean_coordinator = await coordinator(settings, settings.clean_group)
    report.append(
        describe(
            f"group coordinator (node {victim}) SIGKILLed",
            sink,
            PAGES,
            times,
            kill_bound_s(settings, coordinator=True),
            f"; the clean group's coordinator is node {clean_coordinator} now",
        )
    )


@pytest.mark.timeout(1200)
async def test_rolling_restart_of_every_node(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """SIGTERM each node in turn, start it again, wait until it is back in sync and the flow
    has moved on, next. Each step happens with pages left and outputs in flight."""
    settings = cluster_pipeline
    in_flight_at: list[int] = []

    async def disrupt(workers: list[WorkerProcess]) -> list[float]:
        times: list[float] = []
        steps: list[int] = []  # pages processed at each step
        for node in cluster.nodes:
            if steps:  # the flow moved on since the previous step
                await eventually(
                    lambda: processed(workers) >= steps[-1] + PAGES // 10, 600, "flow on"
                )
            # Pages in flight at the step: the sink is being fed right now (one more page
            # through since we looked) and pages are left for after it.
            moving = processed(workers)
            await eventually(lambda at=moving: processed(workers) > at, 60, "pages moving")
            left = PAGES - processed(workers)
            assert left > 0, "the pages ran out before this step"
            in_flight_at.append(left)
            steps.append(processed(workers))
            times.append(time.time())
            cluster.stop_node(node.node_id)
            cluster.start_node(node.node_id)
            await eventually_async(lambda: all_in_sync(settings), 180, "the node back in sync")
        return times

    sink, times = await flow_through(settings, start_worker, disrupt, "rolling")
    assert len(in_flight_at) == len(cluster.nodes)
    report.append(
        describe(
            "rolling restart (SIGTERM)",
            sink,
            PAGES,
            times,
            rolling_bound_s(settings),
            f"; pages still to go at the three steps: {in_flight_at}",
        )
    )


@pytest.mark.timeout(900)
async def test_minority_flows_and_majority_loss_holds_inputs(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """One node down: the pipeline keeps flowing (2 of 3 replicas in sync). Two down: no
    output can meet min.insync.replicas (and the controller quorum is gone with them), so the
    workers hold: no input acked beyond an acknowledged output, no dead letter, /readyz
    not ready, no worker exits; a node back and they resume by themselves."""
    settings = cluster_pipeline
    # The coordinator stays up, so committed offsets can be read during the outage.
    keep = await coordinator(settings, settings.enrich_group)
    assert keep == await coordinator(settings, settings.clean_group)
    first, second = (n.node_id for n in cluster.nodes if n.node_id != keep)
    workers = [start_worker(stage, settings) for stage in ("clean", "enrich") for _ in (0, 1)]
    records = pages(MINORITY_PAGES, "minority")
    keys = {encode_raw(r)[0] for r in records}
    await produce(settings, records)
    await eventually(lambda: processed(workers) >= 50, 600, "pages flowing")

    cluster.kill_node(first)
    one_down = processed(workers)
    await eventually(lambda: processed(workers) >= one_down + 50, 300, "flow with one down")
    flowed = processed(workers) - one_down

    cluster.kill_node(second)
    two_down_at = time.monotonic()
    await eventually(lambda: in_flight(workers) > 0, 60, "outputs held")
    try:
        await eventually(
            lambda: all(http_get(w.web_port, "/readyz")[0] == 503 for w in workers),
            READY_MAX_ACK_WAIT_S + 30,
            "every worker not ready",
        )
    except AssertionError as exc:
        raise AssertionError([http_get(w.web_port, "/readyz") for w in workers]) from exc
    not_ready_after = time.monotonic() - two_down_at
    # Held: what is acknowledged stops moving, and no commit runs ahead of it.
    await assert_held(settings, workers)
    assert all(http_get(w.web_port, "/readyz")[0] == 503 for w in workers)
    reasons = {
        problem.split(" of ")[0] if problem.startswith("no connection") else problem[:20]
        for w in workers
        for problem in orjson.loads(http_get(w.web_port, "/readyz")[1])["problems"]
    }
    held_for = time.monotonic() - two_down_at

    cluster.start_node(second)
    sink = await assert_resumed(settings, keys, workers)
    cluster.start_node(first)
    await eventually_async(lambda: all_in_sync(settings), 180, "both nodes back in sync")
    report.append(
        f"minority: {flowed} pages through with one node down; two down for "
        f"{held_for:.0f} s: every worker not ready after {not_ready_after:.0f} s "
        f"({sorted(reasons)}), nothing acked or dead-lettered, "
        f"{copies_are_one_event(sink)} duplicates after the resume"
    )


async def assert_held(settings: Settings, workers: list[WorkerProcess]) -> None:
    """What is acknowledged stops moving, no commit runs ahead of it, no worker exits."""
    held = processed(workers, "clean"), processed(workers, "enrich")
    await asyncio.sleep(READY_MAX_ACK_WAIT_S + 5)
    assert (processed(workers, "clean"), processed(workers, "enrich")) == held
    await assert_no_commit_past_unacknowledged(settings, workers)
    assert all(w.process.poll() is None for w in workers), "a worker exited"


async def assert_resumed(
    settings: Settings, keys: set[bytes], workers: list[WorkerProcess]
) -> list:
    """Once writable again: every document at the sink, no dead letter, every worker ready
    again and none exited (they resumed by themselves). Returns the sink."""
    sink = await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=600)
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    await eventually(
        lambda: all(http_get(w.web_port, "/readyz")[0] == 200 for w in workers),
        120,
        "every worker ready again",
    )
    assert all(w.process.poll() is None for w in workers), "a worker exited"
    return sink


async def assert_no_commit_past_unacknowledged(
    settings: Settings, workers: list[WorkerProcess]
) -> None:
    """Each group's committed offsets cover only inputs whose output a worker logged as
    processed (acknowledged by the broker)."""
    for stage, group, topic in (
        ("clean", settings.clean_group, settings.topic_raw),
        ("enrich", settings.enrich_group, settings.topic_clean),
    ):
        done = set().union(*(processed_offsets(w) for w in workers if w.stage == stage))
        committed = await group_offsets(settings, group)
        for tp, meta in committed.items():
            if tp.topic == topic and meta.offset > 0:
                missing = [o for o in range(meta.offset) if (tp.partition, o) not in done]
                assert not missing, f"{stage} committed {tp} past unacknowledged outputs"


def in_flight(workers: list[WorkerProcess]) -> float:
    """Outputs sent and not yet acknowledged, over the running workers (their /metrics)."""
    return sum(
        value(scrape(w), "newsflow_in_flight_messages", stage=w.stage)
        for w in workers
        if w.process.poll() is None
    )


# --- a frozen leader ------------------------------------------------------------------------

FROZEN_PAGES = 150
CONFIGMAP = REPO / "deploy" / "k8s" / "base" / "configmap.yaml"


def recommended_producer_timeouts() -> dict[str, float]:
    """NEWSFLOW_REQUEST_TIMEOUT_S and NEWSFLOW_DELIVERY_TIMEOUT_S as the k8s ConfigMap
    recommends them (the frozen-leader test runs with those, so the bound README states
    holds for what ops deploy)."""
    data = yaml.safe_load(CONFIGMAP.read_text())["data"]
    return {
        "request_timeout_s": float(data["NEWSFLOW_REQUEST_TIMEOUT_S"]),
        "delivery_timeout_s": float(data["NEWSFLOW_DELIVERY_TIMEOUT_S"]),
    }


def frozen_leader_bound_s(settings: Settings) -> float:
    """The longest a sink partition may stand still for a frozen leader (README, "Delivery
    guarantees"): a request to the frozen node waits out the producer's request timeout R
    (NEWSFLOW_REQUEST_TIMEOUT_S); the timed-out connection makes the client refresh its
    metadata, asking the brokers in random order, so it may ask the frozen node first and
    wait R again; by then (R above the controller's failover and 9 s broker session timeout)
    the partition has a new leader and the retry, 0.1 s later, goes there. Both stages'
    producers wait this way at once, so 2 R, plus a page's way on (a poll round per stage and
    the commit interval)."""
    return 2 * settings.request_timeout_s + pass_on_s(settings)


def partition_stalls(sink: list, since: float) -> dict[int, float]:
    """Per sink partition, the longest gap between its records from ``since`` on (the
    broker's append times): how long the documents of that partition stood still."""
    by_partition: dict[int, list[float]] = defaultdict(list)
    for m in sink:
        if m.timestamp / 1000 > since:
            by_partition[m.partition].append(m.timestamp / 1000)
    return {
        partition: max(b - a for a, b in itertools.pairwise([since, *sorted(times)]))
        for partition, times in by_partition.items()
    }


def partitions_within(sink: list, since: float, partitions: int, bound: float) -> dict[int, float]:
    """:func:`partition_stalls`, once every sink partition got a record after ``since`` and
    none stood still longer than ``bound``."""
    by_partition = partition_stalls(sink, since)
    assert len(by_partition) == partitions, f"a sink partition got nothing: {by_partition}"
    longest = max(by_partition.values())
    assert longest <= bound, f"a sink partition stood still {longest:.1f} s (bound {bound:.1f} s)"
    return by_partition


@pytest.mark.timeout(900)
async def test_frozen_leader_stalls_the_sink_within_the_bound(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """SIGSTOP of the node leading the most partitions (not a coordinator) while outputs are
    on their way to it, with the ConfigMap's producer timeouts, for longer than the bound (or
    until every document is through), then SIGCONT. No sink partition stands still longer
    than the bound, every document arrives, none is dead-lettered, copies are one event. With
    one timeout for a broker's answer and an output's wait (20 s; the ConfigMap had 30 s) an
    enrich worker gave up on a send behind the frozen partition and stopped: this failed."""
    settings = cluster_pipeline.model_copy(update=recommended_producer_timeouts())
    bound = frozen_leader_bound_s(settings)
    # An output waits in the producer longer than the stall: no worker gives up on one.
    assert settings.delivery_timeout_s > bound
    assert settings.request_timeout_s > QUORUM_FAILOVER_S + BROKER_SESSION_S
    groups = {await coordinator(settings, g) for g in (settings.clean_group, settings.enrich_group)}
    victim = await busiest_leader(settings, avoid=groups)
    # Frozen, the active controller needs the quorum's failover before it fences anything.
    controller = active_controller(cluster, [n.node_id for n in cluster.nodes])
    states = await partition_states(settings, [settings.topic_clean, settings.topic_enriched])
    led = sorted(f"{p['topic']}/{p['partition']}" for p in states if p["leader"] == victim)
    assert led, f"node {victim} leads no partition of the clean or the sink topic"
    workers = [start_worker(stage, settings) for stage in ("clean", "enrich") for _ in (0, 1)]
    records = pages(FROZEN_PAGES, "frozen")
    keys = {encode_raw(r)[0] for r in records}
    assert (await produce(settings, records)).sent == FROZEN_PAGES
    await eventually(lambda: processed(workers) >= FROZEN_PAGES // 10, 600, "pages flowing")

    frozen_at = time.time()
    cluster.freeze_node(victim)
    try:
        # Outputs on their way to the frozen node: sent, not acknowledged, held.
        await eventually(lambda: in_flight(workers) > 0, 30, "outputs held by the frozen node")
        left = FROZEN_PAGES - processed(workers)
        # Frozen past the bound, unless every page went through before.
        with contextlib.suppress(AssertionError):
            await eventually(lambda: processed(workers) >= FROZEN_PAGES, bound + 3, "all through")
        thawed_after = time.time() - frozen_at
    finally:
        cluster.thaw_node(victim)
    assert left > 0, "the pages ran out before the freeze"
    sink = await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=600)
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    assert not [w for w in workers if w.process.poll() is not None], "a worker exited"
    await eventually_async(lambda: all_in_sync(settings), 180, "the thawed node in sync")
    by_partition = partitions_within(sink, frozen_at, settings.partitions, bound)
    longest = max(by_partition.values())
    report.append(
        f"leader (node {victim}, leading {', '.join(led)}"
        f"{', the active controller' if victim == controller else ''}) frozen for "
        f"{thawed_after:.0f} s "
        f"with {left} pages to go (request timeout {settings.request_timeout_s:.0f} s): "
        f"longest stall of a sink partition {longest:.1f} s "
        f"({', '.join(f'{by_partition[p]:.1f}' for p in sorted(by_partition))}; bound "
        f"{bound:.1f} s), {copies_are_one_event(sink)} duplicates"
    )


# --- a zombie worker --------------------------------------------------------------------------

ZOMBIE_PAGES = 200


@pytest.mark.timeout(900)
async def test_zombie_worker_paused_past_its_session_loses_nothing(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """A clean worker SIGSTOPped with outputs in flight, past its session timeout: the group
    rebalances its partitions to the other clean worker; SIGCONT: its late outputs are
    redeliveries (one ce_id, one content hash), its commits for the old generation are
    refused, it rejoins (or exits), nothing is lost or dead-lettered, and no group committed
    past an unacknowledged output (at-least-once)."""
    settings = cluster_pipeline
    zombie, survivor = start_worker("clean", settings), start_worker("clean", settings)
    workers = [zombie, survivor, start_worker("enrich", settings)]
    await eventually(lambda: zombie.assignment() and survivor.assignment(), 300, "both assigned")
    records = pages(ZOMBIE_PAGES, "zombie")
    keys = {encode_raw(r)[0] for r in records}
    await produce(settings, records)
    await eventually(lambda: in_flight([zombie]) > 0, 300, "the zombie's outputs in flight")
    stopped_at = time.time()
    zombie.process.send_signal(signal.SIGSTOP)
    try:
        # The coordinator expires it after the session timeout; the survivor, at its next
        # heartbeat, rejoins alone and takes every partition.
        await eventually(
            lambda: len(survivor.assignment()) == settings.partitions,
            settings.session_timeout_s + settings.rebalance_timeout_s + 60,
            "the survivor to take the zombie's partitions",
        )
        taken_after = time.time() - stopped_at
        await eventually(lambda: processed([survivor], "clean") > 0, 120, "the survivor working")
    finally:
        zombie.process.send_signal(signal.SIGCONT)
    resumed_at = time.time()
    sink = await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=600)
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    await assert_no_commit_past_unacknowledged(settings, workers)
    # Back from the pause it finds its generation gone: it rejoins (logs a new assignment)
    # or stops; either way the survivor and the sink above show nothing was lost.
    await eventually(
        lambda: (
            zombie.process.poll() is not None
            or any(logged_at(e) > resumed_at for e in zombie.events("partitions assigned"))
        ),
        settings.session_timeout_s + settings.rebalance_timeout_s + 60,
        "the zombie to rejoin or stop",
    )
    # Its first commit after the pause names the old member: the coordinator refuses it
    # (aiokafka: "OffsetCommit failed ... UnknownMemberIdError ..., will rejoin").
    refused = [
        e["event"][:120]
        for e in zombie.events()
        if logged_at(e) > resumed_at - 1 and e["event"].startswith("OffsetCommit failed")
    ]
    assert refused, "no refused commit in the zombie's log"
    outcome = (
        f"exited {zombie.process.returncode}" if zombie.process.poll() is not None else "rejoined"
    )
    report.append(
        f"zombie clean worker paused {resumed_at - stopped_at:.0f} s (session "
        f"{settings.session_timeout_s:g} s): its partitions on the survivor after "
        f"{taken_after:.1f} s; then {outcome}; refused commits logged: {refused[:2]}; "
        f"{copies_are_one_event(sink)} duplicates, nothing lost"
    )


def logged_at(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


# --- exactly once: the transaction coordinator's node SIGKILLed -----------------------------

TRANSACTION_STATE_TOPIC = "__transaction_state"


async def transaction_coordinators(settings: Settings) -> dict[str, int]:
    """{transactional id: the node coordinating it} for every id the workers use (one per
    input partition of each stage: ``<group>-<topic>-<partition>``): FindCoordinator with
    the transaction key type, answered by the leader of the id's transaction log partition."""
    ids = [
        transactional_id(STAGES[stage].group(settings), STAGES[stage].input_topic(settings), p)
        for stage in ("clean", "enrich")
        for p in range(settings.partitions)
    ]
    found: dict[str, int] = {}
    async with clients.admin(settings) as admin:
        for tid in ids:
            found[tid] = await admin.find_coordinator(tid, coordinator_type=1)
    return found


async def assert_transaction_log_replicated(settings: Settings) -> set[int]:
    """The transaction log has three replicas, all in sync, and refuses a write below two
    (what lets its coordinator move when a node dies); returns its partitions' leaders."""
    states = await partition_states(settings, [TRANSACTION_STATE_TOPIC])
    assert states, "no __transaction_state topic"
    assert all(len(p["replicas"]) == 3 and len(p["isr"]) == 3 for p in states), states
    resource = ConfigResource(ConfigResourceType.TOPIC, TRANSACTION_STATE_TOPIC)
    async with clients.admin(settings) as admin:
        described = await admin.describe_configs([resource])
    entries = {e[0]: e[1] for e in described[0].resources[0][4]}
    assert entries["min.insync.replicas"] == "2", entries["min.insync.replicas"]
    return {p["leader"] for p in states}


@contextlib.asynccontextmanager
async def end_offsets(settings: Settings) -> AsyncIterator[Callable[[list], Awaitable[dict]]]:
    """A function giving {partition: (last stable offset, high watermark)} of the
    partitions whose leader answers within 2 s, all asked at once: a transaction still open
    on a partition keeps its last stable offset (what read_committed readers may read) below
    its high watermark. Its consumers are started beforehand, so an answer comes within
    milliseconds of the call."""
    plain = settings.model_copy(update={"processing_guarantee": "at_least_once"})
    async with clients.consumer(settings) as committed, clients.consumer(plain) as everything:

        async def one(tp: TopicPartition) -> tuple[int, int]:
            stable, high = await asyncio.gather(
                committed.end_offsets([tp]), everything.end_offsets([tp])
            )
            return stable[tp], high[tp]

        async def ask(tps: list) -> dict:
            answers = await asyncio.gather(
                *(asyncio.wait_for(one(tp), 2.0) for tp in tps), return_exceptions=True
            )
            return {
                tp: answer
                for tp, answer in zip(tps, answers, strict=True)
                if not isinstance(answer, BaseException)
            }

        yield ask


def transaction_bound_s(settings: Settings, *, group_coordinator: bool) -> float:
    """The longest gap between committed sink records a SIGKILLed transaction coordinator
    may cause (README, "Delivery guarantees"): the node's partitions, the transaction log's
    among them, move once the controller fences it (failover and broker session, as for any
    node); the producers' transaction calls (add partitions, add offsets, end) then find the
    new coordinator, which has loaded the log, after aiokafka's retry backoff. Then a page's
    way on in this mode: a poll round and a transaction interval at each of the two stages
    (an output is readable once its transaction commits). When the node also coordinated
    the consumer groups, a session timeout and a rebalance timeout for the rejoin."""
    bound = (
        QUORUM_FAILOVER_S
        + BROKER_SESSION_S
        + RETRY_BACKOFF_S
        + 2 * (settings.transaction_interval_ms + settings.fetch_max_wait_ms) / 1000
    )
    if group_coordinator:
        bound += settings.session_timeout_s + settings.rebalance_timeout_s
    return bound


@pytest.mark.timeout(900)
async def test_transaction_coordinator_killed_writes_each_document_once(
    cluster: KafkaCluster, cluster_pipeline: Settings, start_worker, report: list[str]
) -> None:
    """exactly_once: the node coordinating the workers' transactional ids SIGKILLed while
    their transactions are open (outputs in the log that read_committed readers cannot see
    yet, on partitions that stay led); the workers carry on with its successor, the node is
    started again. A read_committed reader finds each document once at the sink and each
    rejected input once in the dead-letter topic; no worker exits."""
    settings = exactly_once(cluster_pipeline)
    workers = [start_worker(stage, settings) for stage in ("clean", "enrich") for _ in (0, 1)]
    for worker in workers:
        await eventually(lambda w=worker: w.assignment(), 300, f"{worker} assigned")
    # Each worker started its transactional producers: the log exists, replicated.
    leaders = await assert_transaction_log_replicated(settings)
    coordinators = await transaction_coordinators(settings)
    # One node coordinates them all (the test cluster's transaction log has one partition):
    # the leader of that partition.
    (victim,) = set(coordinators.values())
    assert victim in leaders, (victim, leaders)
    groups = {await coordinator(settings, g) for g in (settings.clean_group, settings.enrich_group)}
    feed = Feed(settings, "eos-coordinator")
    outputs = [settings.topic_clean, settings.topic_enriched, settings.topic_dead_letter]
    # The output partitions the victim does not lead: readable right after the kill.
    live = [
        TopicPartition(p["topic"], p["partition"])
        for p in await partition_states(settings, outputs)
        if p["leader"] != victim
    ]
    await eventually(lambda: processed(workers) >= 10, 300, "pages flowing")
    async with end_offsets(settings) as ends:

        async def open_transactions() -> bool:
            return any(s < h for s, h in (await ends(live)).values())

        await eventually_async(open_transactions, 120, "transactions open")
        before = await ends(live)
        killed_at = time.time()
        cluster.kill_node(victim)
        after = await ends(live)
    # Records appended before the kill that read_committed readers still cannot see after
    # it: their transactions were open at the fault, and their coordinator is gone.
    caught = {
        tp: before[tp][1] - after[tp][0]
        for tp in before.keys() & after.keys()
        if after[tp][0] < before[tp][1]
    }
    assert caught, f"no transaction open at the kill: before {before}, after {after}"
    done_at_kill = processed(workers)
    await eventually(lambda: processed(workers) >= done_at_kill + 20, 300, "the flow on")
    moved_to = await transaction_coordinators(settings)
    assert victim not in moved_to.values(), moved_to
    cluster.start_node(victim)
    keys, bad_keys = await feed.stop()
    await eventually_async(lambda: all_in_sync(settings), 180, "the restarted node in sync")

    await assert_exactly_once(settings, keys, bad_keys)
    assert not [w for w in workers if w.process.poll() is not None], "a worker exited"
    sink = await read_all(settings, settings.topic_enriched)
    bound = transaction_bound_s(settings, group_coordinator=victim in groups)
    first, longest = stalls(sink, killed_at)
    assert first <= bound, f"next committed sink record {first:.1f} s after (bound {bound:.1f} s)"
    assert longest <= bound, f"the sink stood still {longest:.1f} s (bound {bound:.1f} s)"
    # Outputs of transactions the new coordinator aborted (none when it completed them all).
    aborted = [await aborted_copies(settings, t) for t in outputs[:2]]
    report.append(
        f"exactly_once, transaction coordinator (node {victim}"
        f"{', also the groups coordinator' if victim in groups else ''}) SIGKILLed with "
        f"{sum(caught.values())} records in open transactions on {len(caught)} partitions: "
        f"{len(keys)} documents once at the read_committed sink, {len(bad_keys)} rejected "
        f"inputs once in the dead-letter topic; next committed sink record {first:.1f} s "
        f"after, longest stall {longest:.1f} s (bound {bound:.1f} s); coordinators after: "
        f"{sorted(set(moved_to.values()))}; aborted records (read_uncommitted only): "
        f"clean {aborted[0]}, sink {aborted[1]}"
    )
