"""NEWSFLOW_PROCESSING_GUARANTEE=exactly_once on Apache Kafka: workers killed, frozen past
their session or stopped during a rebalance, each with outputs in an open transaction, and a
read_committed reader still finds every document once at the sink and every rejected input
once in the dead-letter topic. A read_uncommitted reader finds the aborted copies: what
at-least-once would have delivered."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter

import orjson
import pytest
from aiokafka.errors import GroupCoordinatorNotAvailableError

from tests.support.brokers import TEST_BROKER
from tests.support.consumer_group import described
from tests.support.delivery import committed_offsets, pages, read_all
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import WorkerProcess
from tests.unit.test_hostile_input import HOSTILE
from workers.kafka import clients
from workers.kafka.lag import consumer_lag
from workers.kafka.produce import encode_raw
from workers.pipeline import STAGES
from workers.settings import Settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="the embedded broker has no transactions"),
]
# Small hostile inputs the clean stage rejects at once (dead letters).
REJECTED = [value for value, _ in HOSTILE.values() if len(value) < 64 * 1024]


def exactly_once(settings: Settings, **update: object) -> Settings:
    # A long transaction interval: a fault always finds outputs in an open transaction.
    return settings.model_copy(
        update={
            "processing_guarantee": "exactly_once",
            "transaction_interval_ms": 3000,
            "session_timeout_s": 6.0,
            "heartbeat_interval_s": 1.0,
            "rebalance_timeout_s": 10.0,
            **update,
        }
    )


class Feed:
    """Pages and rejected inputs sent a few at a time until stopped, so every stage has
    outputs in an open transaction whenever a fault comes; the keys of what was sent."""

    def __init__(self, settings: Settings, prefix: str):
        self.settings, self.prefix = settings, prefix
        self.keys: set[bytes] = set()
        self.bad_keys: set[bytes] = set()
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        settings, n = self.settings, 0
        async with clients.producer(settings) as producer:
            while not self._stop.is_set():
                # Two pages and one rejected input every 0.5 s.
                records = pages(2 * (n + 1), self.prefix)[2 * n :]
                for record in records:
                    key, value, headers = encode_raw(record)
                    await producer.send_and_wait(
                        settings.topic_raw, value, key=key, headers=headers
                    )
                    self.keys.add(key)
                key = f"{self.prefix}-bad-{n}".encode()
                bad = REJECTED[n % len(REJECTED)]
                await producer.send_and_wait(settings.topic_raw, bad, key=key)
                self.bad_keys.add(key)
                n += 1
                await asyncio.sleep(0.5)

    async def stop(self) -> tuple[set[bytes], set[bytes]]:
        self._stop.set()
        await self._task
        return self.keys, self.bad_keys


def finished_offsets(worker: WorkerProcess) -> set[tuple[int, int]]:
    """(partition, offset) of each input whose output or dead letter the worker saw
    acknowledged (in its open transaction, until that commits)."""
    found = set()
    for event in worker.events():
        if event.get("event") in ("processed", "dead-lettered"):
            _, partition, offset = event["tpo"].rsplit("/", 2)
            found.add((int(partition), int(offset)))
    return found


async def holds_open_transaction(settings: Settings, worker: WorkerProcess) -> bool:
    """Whether the worker has outputs acknowledged (in its open transaction) for inputs its
    group has not committed."""
    spec = STAGES[worker.stage]
    finished = finished_offsets(worker)
    if not finished:
        return False
    try:
        committed = await committed_offsets(
            settings, spec.group(settings), spec.input_topic(settings)
        )
    except GroupCoordinatorNotAvailableError:
        return False  # Kafka creates its offsets topic at the first group lookup
    return any(offset >= committed[p] for p, offset in finished)


async def settled(settings: Settings, stages: tuple[str, ...]) -> bool:
    """Every input of both groups is committed: the raw topic up to its end, the clean topic
    up to its last commit marker (a transaction's marker takes an offset of its own)."""
    groups = {STAGES[s].group(settings): STAGES[s].input_topic(settings) for s in stages}
    rows = await consumer_lag(settings, groups)
    limit = {settings.topic_raw: 0, settings.topic_clean: 1}
    return all(row.lag is not None and row.lag <= limit[row.topic] for row in rows)


async def assert_exactly_once(
    settings: Settings, keys: set, bad_keys: set, sink: str | None = None
) -> None:
    """At a read_committed reader: each document once at the sink, each rejected input once
    in the dead-letter topic, none in both."""
    sink_topic = sink or settings.topic_enriched

    async def complete() -> bool:
        sink = await read_all(settings, sink_topic, idle_s=1.0)
        dead = await read_all(settings, settings.topic_dead_letter, idle_s=1.0)
        return {m.key for m in sink} >= keys and len(dead) >= len(bad_keys)

    await eventually_async(complete, 300, "every document at the sink or dead-lettered")
    stages = ("clean",) if sink_topic == settings.topic_clean else ("clean", "enrich")
    await eventually_async(lambda: settled(settings, stages), 120, "every input committed")
    sink = await read_all(settings, sink_topic)
    copies = Counter(m.key for m in sink)
    assert set(copies) == keys and set(copies.values()) == {1}, copies.most_common(3)
    dead = await read_all(settings, settings.topic_dead_letter)
    rejected = Counter(orjson.loads(m.value)["source"]["key_base64"] for m in dead)
    assert len(rejected) == len(bad_keys) and set(rejected.values()) == {1}, rejected
    assert all(orjson.loads(m.value)["stage"] == "clean" for m in dead)


async def aborted_copies(settings: Settings, topic: str) -> int:
    """How many more records a read_uncommitted reader finds in ``topic`` than a
    read_committed one: the aborted transactions' outputs."""
    uncommitted = settings.model_copy(update={"processing_guarantee": "at_least_once"})
    everything = await read_all(uncommitted, topic)
    committed = await read_all(settings, topic)
    return len(everything) - len(committed)


async def mid_transaction(settings: Settings, worker: WorkerProcess) -> None:
    await eventually_async(
        lambda: holds_open_transaction(settings, worker), 240, f"{worker} mid-transaction"
    )


async def uncommitted(settings: Settings, worker: WorkerProcess) -> set[tuple[int, int]]:
    """Inputs the worker finished whose offsets its group has not committed."""
    spec = STAGES[worker.stage]
    committed = await committed_offsets(settings, spec.group(settings), spec.input_topic(settings))
    return {(p, o) for p, o in finished_offsets(worker) if o >= committed[p]}


async def frozen_mid_transaction(settings: Settings, worker: WorkerProcess) -> set:
    """SIGSTOP the worker at a moment its open transactions hold finished inputs (checked
    while it is frozen, so no commit of its own can intervene); those inputs."""
    while True:
        await mid_transaction(settings, worker)
        os.kill(worker.process.pid, signal.SIGSTOP)
        caught = await uncommitted(settings, worker)
        if caught:
            return caught
        os.kill(worker.process.pid, signal.SIGCONT)


@pytest.mark.timeout(600)
async def test_killed_and_frozen_workers_write_each_document_once(
    pipeline: Settings, start_worker
) -> None:
    """An enrich worker SIGKILLed and a clean worker frozen (SIGSTOP) past its session
    timeout, each with outputs in an open transaction; the other worker of each stage takes
    their partitions over, and the frozen one, resumed, finds its transaction fenced."""
    settings = exactly_once(pipeline)
    clean = [start_worker("clean", settings) for _ in range(2)]
    enrich = [start_worker("enrich", settings) for _ in range(2)]
    partitions = settings.partitions
    for worker in clean + enrich:
        await eventually(lambda w=worker: w.assignment(), 300, f"{worker} assigned")
    feed = Feed(settings, "eos-faults")

    killed = enrich[0]
    caught_killed = await frozen_mid_transaction(settings, killed)
    killed.kill()

    frozen, survivor = clean
    caught_frozen = await frozen_mid_transaction(settings, frozen)
    try:
        # Past its session timeout the survivor owns every partition (fencing the frozen
        # worker's producers) and goes on.
        await eventually(
            lambda: len(survivor.assignment()) == partitions, 120, "the survivor took over"
        )
        done_before = len(finished_offsets(survivor))
        await eventually(
            lambda: len(finished_offsets(survivor)) > done_before, 120, "the survivor at work"
        )
    finally:
        os.kill(frozen.process.pid, signal.SIGCONT)
    keys, bad_keys = await feed.stop()
    assert caught_killed and caught_frozen, (caught_killed, caught_frozen)
    # Resumed, the frozen worker's late transaction is refused and it stops on its own.
    await eventually(
        lambda: frozen.events("transaction fenced; stopping the worker"), 60, "the zombie fenced"
    )
    await eventually(lambda: frozen.process.poll() is not None, 60, "the zombie to exit")

    await assert_exactly_once(settings, keys, bad_keys)
    # The killed and the frozen workers' outputs are in the log, aborted: at-least-once
    # would have delivered them a second time.
    assert await aborted_copies(settings, settings.topic_clean) >= 1
    assert await aborted_copies(settings, settings.topic_enriched) >= 1
    assert survivor.process.poll() is None and enrich[1].process.poll() is None
    print(
        f"caught in open transactions: killed {len(caught_killed)}, frozen {len(caught_frozen)};"
        f" zombie exit status {frozen.process.returncode}"
    )


@pytest.mark.timeout(600)
async def test_sigterm_during_a_rebalance_writes_each_document_once(
    pipeline: Settings, start_worker
) -> None:
    """A clean worker with outputs in an open transaction gets SIGTERM while a new member's
    join rebalances the group; the documents are counted at the clean stage's sink (the
    clean topic, read committed) and in the dead-letter topic.

    The worker is frozen mid-transaction before the new member starts, so the rebalance that
    member's join begins cannot complete without it (the group waits up to the rebalance
    timeout for every member to rejoin); its session outlasts the new member's start."""
    settings = exactly_once(pipeline, session_timeout_s=30.0, heartbeat_interval_s=1.0)
    group = STAGES["clean"].group(settings)
    first, second = (start_worker("clean", settings) for _ in range(2))
    await eventually(
        lambda: first.assignment() and second.assignment(), 300, "both clean workers assigned"
    )
    feed = Feed(settings, "eos-rebalance")
    assert await frozen_mid_transaction(settings, first)
    third = start_worker("clean", settings)

    async def rebalancing() -> bool:
        state, _ = await described(settings, group)
        return state in ("PreparingRebalance", "CompletingRebalance")

    await eventually_async(rebalancing, 120, "the third worker's join under way")
    first.process.terminate()  # delivered when it resumes
    os.kill(first.process.pid, signal.SIGCONT)
    await eventually(lambda: third.assignment(), 120, "the third worker assigned")
    keys, bad_keys = await feed.stop()
    assert first.process.wait(settings.shutdown_timeout_s + 5) == 0
    # The SIGTERM came while the third worker's join was under way (before the group gave
    # it partitions).
    stopping = first.events("stopping")[0]["ts"]
    assert stopping < third.events("partitions assigned")[0]["ts"]
    await assert_exactly_once(settings, keys, bad_keys, sink=settings.topic_clean)
    assert second.process.poll() is None and third.process.poll() is None
