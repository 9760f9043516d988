"""The exactly_once bookkeeping of one worker (workers/runtime/transactions.py) against a
recording stand-in for aiokafka's transactional producer: a commit carries the offset after
the last input whose output was acknowledged, waits for the outputs already sent, and lets no
new output into the transaction it is committing."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.client import CoordinationType
from aiokafka.errors import KafkaConnectionError, KafkaError, ProducerFenced

from workers.runtime.transactions import (
    PartitionNotOwned,
    Transactions,
    survive_a_dead_node_in_coordinator_lookups,
    transactional_id,
)
from workers.settings import Settings

TP = TopicPartition("raw", 2)


class RecordingProducer:
    def __init__(self, transactional_id: str):
        self.transactional_id = transactional_id
        self.calls: list[tuple] = []
        self.fence = False

    async def start(self) -> None:
        self.calls.append(("start",))

    async def stop(self) -> None:
        self.calls.append(("stop",))

    async def begin_transaction(self) -> None:
        self.calls.append(("begin",))

    async def send(self, topic, value, key=None, headers=None):
        self.calls.append(("send", topic, key))
        return asyncio.get_running_loop().create_future()

    async def send_offsets_to_transaction(self, offsets, group_id) -> None:
        if self.fence:
            raise ProducerFenced()
        self.calls.append(("offsets", dict(offsets), group_id))

    async def commit_transaction(self) -> None:
        self.calls.append(("commit",))


class Recorded(Transactions):
    def _new_producer(self, tp: TopicPartition) -> RecordingProducer:
        return RecordingProducer(transactional_id(self.group, tp.topic, tp.partition))


async def ignore(exc: BaseException) -> None:
    """A test's ``on_failure`` where the failure is seen through ``commit()`` raising."""


async def owned(interval_ms: int = 60_000, on_failure=ignore) -> tuple[Recorded, RecordingProducer]:
    """Transactions owning TP; by default no commit comes by itself within a test."""
    settings = Settings(transaction_interval_ms=interval_ms)
    transactions = Recorded(settings, "newsflow-clean", on_failure=on_failure)
    await transactions.assign([TP])
    return transactions, transactions._partitions[TP].producer


async def test_the_transactional_id_is_the_input_partitions() -> None:
    _, producer = await owned()
    assert producer.transactional_id == "newsflow-clean-raw-2"


async def test_a_commit_carries_the_offset_after_the_last_input_done() -> None:
    transactions, producer = await owned()
    for offset in (7, 8):
        await transactions.send(TP, "clean", b"k", b"v", [])
        transactions.done(TP, offset)
    await transactions.commit()
    assert producer.calls[1:] == [
        ("begin",), ("send", "clean", b"k"), ("send", "clean", b"k"),
        ("offsets", {TP: 9}, "newsflow-clean"), ("commit",),
    ]  # fmt: skip
    assert transactions.committed_offsets() == {TP: 9}
    await transactions.commit()  # nothing open: nothing to commit
    assert producer.calls[-1] == ("commit",) and len(producer.calls) == 6


async def test_a_commit_waits_for_outputs_sent_and_holds_new_ones_back() -> None:
    transactions, producer = await owned()
    await transactions.send(TP, "clean", b"a", b"v", [])
    committing = asyncio.ensure_future(transactions.commit())
    await asyncio.sleep(0.01)
    later = asyncio.ensure_future(transactions.send(TP, "dead-letter", b"b", b"v", []))
    await asyncio.sleep(0.01)
    # The output of input 4 is not acknowledged yet: no commit, and no new send meanwhile.
    assert not committing.done() and not later.done()
    assert ("send", "dead-letter", b"b") not in producer.calls
    transactions.done(TP, 4)
    await committing
    await later
    kinds = [call[0] for call in producer.calls]
    assert kinds == ["start", "begin", "send", "offsets", "commit", "begin", "send"]
    assert producer.calls[3][1] == {TP: 5}


async def test_faust_acked_offset_wins_when_it_steps_over_a_marker() -> None:
    transactions, producer = await owned()
    await transactions.send(TP, "clean", b"k", b"v", [])
    transactions.done(TP, 10)
    await transactions.commit({TP: 12})  # offset 11 was a transaction marker
    assert ("offsets", {TP: 12}, "newsflow-clean") in producer.calls


async def test_a_fenced_commit_is_never_retried_and_the_partition_is_dropped() -> None:
    transactions, producer = await owned()
    await transactions.send(TP, "clean", b"k", b"v", [])
    transactions.done(TP, 1)
    producer.fence = True
    with pytest.raises(ProducerFenced):
        await transactions.commit()
    with pytest.raises(PartitionNotOwned):
        await transactions.send(TP, "clean", b"k", b"v", [])
    await transactions.commit()  # the stop's commit finds nothing left to commit
    await transactions.close()
    assert producer.calls[-1] == ("stop",)


async def test_a_partition_gone_closes_its_producer() -> None:
    transactions, producer = await owned()
    await transactions.assign([])
    assert producer.calls[-1] == ("stop",)
    with pytest.raises(PartitionNotOwned):
        await transactions.send(TP, "clean", b"k", b"v", [])


def test_exactly_once_needs_idempotent_producers() -> None:
    with pytest.raises(ValueError, match="needs idempotent_producer"):
        Settings(processing_guarantee="exactly_once", idempotent_producer=False)


async def test_the_partitions_transactions_commit_side_by_side() -> None:
    """While one partition's commit waits for the broker, the others' commits are under way
    too (sends wait on the partition committing, in input order: one after the other, every
    output would wait for the sum of the commits)."""
    transactions = Recorded(Settings(), "newsflow-clean", on_failure=ignore)
    tps = [TopicPartition("raw", p) for p in range(3)]
    await transactions.assign(tps)
    answer = asyncio.Event()
    waiting: list[int] = []

    def slow_commit(partition: int):  # type: ignore[no-untyped-def]
        async def commit_transaction() -> None:
            waiting.append(partition)
            await answer.wait()

        return commit_transaction

    for n, tp in enumerate(tps):
        transactions._partitions[tp].producer.commit_transaction = slow_commit(tp.partition)
        await transactions.send(tp, "clean", b"k", b"v", [])
        transactions.done(tp, n)
    committing = asyncio.ensure_future(transactions.commit())
    for _ in range(50):
        await asyncio.sleep(0)
    assert sorted(waiting) == [0, 1, 2]
    answer.set()
    await committing
    assert transactions.committed_offsets() == {tp: n + 1 for n, tp in enumerate(tps)}


async def test_a_coordinator_lookup_at_a_dead_node_is_asked_again() -> None:
    """aiokafka's sender gives up on a coordinator lookup that meets a closed connection
    (a node just killed, still in the metadata) and the producer with it; patched, it
    refreshes its metadata and asks again."""
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:9", transactional_id="t-raw-0")
    answers: list = [KafkaConnectionError("Connection at 127.0.0.1:9 closed"), 2]

    async def lookup(coordinator_type: int, coordinator_key: str) -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def metadata_update() -> bool:
        return True

    async def ready(node_id: int, group: int = 0) -> bool:
        return True

    client = producer.client
    client.force_metadata_update, client.ready = metadata_update, ready
    sender = producer._sender
    sender._retry_backoff = 0.01
    try:
        client.coordinator_lookup = lookup
        with pytest.raises(KafkaError, match="Connection at"):  # aiokafka alone
            await sender._find_coordinator(CoordinationType.TRANSACTION, "t-raw-0")
        answers[:] = [KafkaConnectionError("Connection at 127.0.0.1:9 closed"), 2]
        survive_a_dead_node_in_coordinator_lookups(producer)
        assert await sender._find_coordinator(CoordinationType.TRANSACTION, "t-raw-0") == 2
        assert answers == []
    finally:
        await producer.stop()


async def test_settled_outputs_commit_by_themselves_an_interval_after_the_last_commit() -> None:
    transactions, producer = await owned(interval_ms=300)
    await transactions.send(TP, "clean", b"a", b"v", [])
    transactions.done(TP, 3)
    await asyncio.sleep(0.15)  # assigned 0.15 s ago: not yet
    assert ("commit",) not in producer.calls
    while ("commit",) not in producer.calls:
        await asyncio.sleep(0.005)
    assert producer.calls[-2] == ("offsets", {TP: 4}, "newsflow-clean")
    await transactions.send(TP, "clean", b"b", b"v", [])
    transactions.done(TP, 4)
    await asyncio.sleep(0.15)  # committed 0.15 s ago: this one waits for the interval
    assert producer.calls.count(("commit",)) == 1
    await asyncio.sleep(0.3)
    assert producer.calls[-2:] == [("offsets", {TP: 5}, "newsflow-clean"), ("commit",)]
    assert transactions.committed_offsets() == {TP: 5}


async def test_a_commit_started_by_itself_reports_its_failure() -> None:
    failures: list[BaseException] = []

    async def on_failure(exc: BaseException) -> None:
        failures.append(exc)

    transactions, producer = await owned(interval_ms=10, on_failure=on_failure)
    await asyncio.sleep(0.02)
    producer.fence = True
    await transactions.send(TP, "clean", b"a", b"v", [])
    transactions.done(TP, 0)
    await asyncio.sleep(0.05)
    assert [type(exc) for exc in failures] == [ProducerFenced]
    with pytest.raises(PartitionNotOwned):
        await transactions.send(TP, "clean", b"k", b"v", [])


async def test_a_partition_revoked_drops_its_pending_commit() -> None:
    transactions, producer = await owned(interval_ms=200)
    await transactions.send(TP, "clean", b"a", b"v", [])
    transactions.done(TP, 0)
    await transactions.assign([])  # the rebalance's own commit came first (app._on_revoked)
    await asyncio.sleep(0.3)
    assert producer.calls[-1] == ("stop",) and ("commit",) not in producer.calls
