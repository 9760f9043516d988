"""Exactly-once outputs: per input partition, one transactional producer whose transactions
hold the outputs and dead letters of that partition's inputs together with their offsets.

Fencing without KIP-447 (aiokafka speaks only v0 of the transaction APIs): the transactional
id is tied to the input partition, ``<group>-<topic>-<partition>``, so whichever worker
is assigned a partition starts a producer with the same id as its previous owner. Starting
it (InitProducerId) bumps the id's epoch: the broker aborts the previous owner's open
transaction, or finishes the one it was committing, before the new producer may write, and
anything the previous owner sends or commits afterwards is refused (ProducerFenced). The
worker starts these producers before its consumer reads the committed offsets (faust's
rebalance-complete signal comes before its seek), so it always reads offsets no transaction
is still changing.

faust-streaming's own ``processing_guarantee="exactly_once"`` is not used: its transaction
manager picks the producer by the partition of the *output* key (so a dead letter, or an
output to a topic partitioned otherwise, lands in another partition's transaction than its
input's offset), and it logs and drops errors of begin and commit.

A partition's transaction is committed as soon as every output sent in it has been
acknowledged, but no sooner than ``NEWSFLOW_TRANSACTION_INTERVAL_MS`` after that partition's
previous commit (or its assignment): a quiet partition's document is readable one commit
after its output is acked, a busy one's outputs share a transaction per interval. faust's
own commit (the same interval, a rebalance, a stop) commits whatever is open too: it waits
until every output sent in it has been acknowledged and its input acked (no new send enters
meanwhile), adds the offset after the last such input, and commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError, NodeNotReadyError

from workers.kafka import clients
from workers.settings import Settings

log = logging.getLogger("newsflow.transactions")


class PartitionNotOwned(Exception):
    """An output for an input whose partition this worker no longer holds."""


def transactional_id(group: str, topic: str, partition: int) -> str:
    return f"{group}-{topic}-{partition}"


def survive_a_dead_node_in_coordinator_lookups(producer: AIOKafkaProducer) -> AIOKafkaProducer:
    """aiokafka's transactional sender asks a random known node which node coordinates the
    transaction (or the group, for the offsets), and asks again on CoordinatorNotAvailable,
    NodeNotReady or RequestTimedOut, but on any other error it stops for good ("Unexpected
    error during batch delivery"), taking the producer and the worker with it. A node SIGKILLed
    stays in the metadata until the controller fences it, so a lookup sent there fails with
    KafkaConnectionError: seen when the transaction and group coordinator's node was killed.
    Reported as NodeNotReady, the sender refreshes its metadata and asks again after its retry
    backoff. Patches the producer's client (one instance); recheck on an aiokafka upgrade."""
    client = producer.client
    lookup = client.coordinator_lookup

    async def coordinator_lookup(coordinator_type: int, coordinator_key: str) -> int:
        try:
            return await lookup(coordinator_type, coordinator_key)
        except KafkaConnectionError as exc:
            raise NodeNotReadyError(f"coordinator lookup: {exc}") from exc

    client.coordinator_lookup = coordinator_lookup
    return producer


@dataclass
class _Partition:
    """The transaction state of one assigned input partition."""

    producer: AIOKafkaProducer
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: bool = False
    opened_at: float = 0.0
    # Outputs sent in the open transaction whose input is not yet done.
    unfinished: int = 0
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    # The offset after the last input done (what the transaction commits).
    next_offset: int | None = None
    committed: int | None = None
    # When it last committed (or was assigned): the next commit by itself waits an interval.
    committed_at: float = field(default_factory=time.monotonic)
    # The commit scheduled when the outputs settled (None: none pending).
    due: asyncio.Task | None = None


class Transactions:
    """The transactional producers of one worker, one per assigned input partition."""

    def __init__(
        self,
        settings: Settings,
        group: str,
        on_failure: Callable[[BaseException], Awaitable[None]],
    ):
        self.settings = settings
        self.group = group
        # What a failed commit does (the worker stops): called by a commit started by the
        # outputs settling, and by faust's commit, which gets the failure raised.
        self.on_failure = on_failure
        self.interval_s = settings.transaction_interval_ms / 1000
        self._partitions: dict[TopicPartition, _Partition] = {}
        # Producers of failed transactions, stopped with the others.
        self._retired: list[AIOKafkaProducer] = []

    def _new_producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        settings = self.settings
        producer = AIOKafkaProducer(
            **settings.kafka_client_kwargs(),
            transactional_id=transactional_id(self.group, tp.topic, tp.partition),
            enable_idempotence=True,
            acks="all",
            max_request_size=clients.max_record_bytes(settings),
            compression_type=clients.compression_type(settings),
            # a hung broker is given up on after this; an output waits longer (outputs_wait)
            request_timeout_ms=int(settings.request_timeout_s * 1000),
        )
        survive_a_dead_node_in_coordinator_lookups(producer)
        return clients.outputs_wait(producer, settings.delivery_timeout_s)

    async def assign(self, assigned: Iterable[TopicPartition]) -> None:
        """Own exactly ``assigned``: close the producers of partitions gone, start one for
        each new partition (fencing its previous owner) before any of its input is read."""
        wanted = {TopicPartition(tp.topic, tp.partition) for tp in assigned}
        for tp in set(self._partitions) - wanted:
            await self._close(tp)
        started = time.monotonic()
        new = sorted(wanted - set(self._partitions))
        for tp in new:
            producer = self._new_producer(tp)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._partitions[tp] = _Partition(producer)
        if new:
            log.info(
                "transactional producers started",
                extra={
                    "partitions": [f"{tp.topic}/{tp.partition}" for tp in new],
                    "s": round(time.monotonic() - started, 3),
                },
            )

    async def send(
        self,
        tp: TopicPartition,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: list[tuple[str, bytes]],
    ) -> Awaitable[object]:
        """Send an output of an input of ``tp`` in ``tp``'s transaction; the delivery to
        await. Call :meth:`done` once the input is finished."""
        state = self._partitions.get(tp)
        if state is None:
            raise PartitionNotOwned(f"{tp.topic}/{tp.partition}")
        async with state.lock:
            if not state.open:
                await state.producer.begin_transaction()
                state.open, state.opened_at = True, time.monotonic()
            state.unfinished += 1
            state.settled.clear()
            return await state.producer.send(topic, value, key=key, headers=headers)

    def done(self, tp: TopicPartition, offset: int) -> None:
        """The output of input ``offset`` of ``tp`` is acknowledged: its offset joins the
        open transaction."""
        state = self._partitions.get(tp)
        if state is None:
            return
        state.next_offset = offset + 1
        state.unfinished -= 1
        if state.unfinished == 0:
            state.settled.set()
            if state.due is None or state.due.done():
                state.due = asyncio.ensure_future(self._commit_when_due(tp, state))

    async def _commit_when_due(self, tp: TopicPartition, state: _Partition) -> None:
        """Commit ``tp``'s settled transaction once an interval has passed since its last
        commit (at once if it has)."""
        await asyncio.sleep(max(0.0, state.committed_at + self.interval_s - time.monotonic()))
        if self._partitions.get(tp) is not state:
            return  # revoked meanwhile: the rebalance committed it
        try:
            await self._commit(tp, state, None)
        except Exception as exc:
            await self.on_failure(exc)

    async def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> bool:
        """Commit every open transaction with its inputs' offsets (at least those faust
        found acked in ``offsets``: they may step over transaction markers)."""
        offsets = offsets or {}
        # Side by side: each partition has its own producer and transaction, and while one
        # commits, its sends wait; one after the other, the outputs of every partition
        # would wait for the sum of the commits (three round trips each).
        results = await asyncio.gather(
            *(
                self._commit(tp, state, offsets.get(tp))
                for tp, state in list(self._partitions.items())
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return True

    async def _commit(self, tp: TopicPartition, state: _Partition, acked: int | None) -> None:
        async with state.lock:
            if not state.open:
                return
            # Sends wait for the lock: only the outputs already sent are to be settled.
            if state.unfinished:
                await state.settled.wait()
            offset = max(o for o in (state.next_offset, acked) if o is not None)
            began = time.monotonic()
            try:
                await state.producer.send_offsets_to_transaction({tp: offset}, self.group)
                await state.producer.commit_transaction()
            except BaseException:
                # Fenced, or cut short by the stop: never commit it later (the partition's
                # next owner aborts it).
                state.open = False
                if self._partitions.get(tp) is state:
                    del self._partitions[tp]
                    self._retired.append(state.producer)
                raise
            state.open, state.committed = False, offset
            state.committed_at = time.monotonic()
            log.debug(
                "transaction committed",
                extra={
                    "tpo": f"{tp.topic}/{tp.partition}/{offset}",
                    "ms": round((time.monotonic() - began) * 1000, 1),
                    "age_ms": round((time.monotonic() - state.opened_at) * 1000, 1),
                },
            )

    def committed_offsets(self) -> dict[TopicPartition, int]:
        return {
            tp: state.committed
            for tp, state in self._partitions.items()
            if state.committed is not None
        }

    async def _close(self, tp: TopicPartition) -> None:
        # An open transaction left here is aborted by the partition's next owner.
        state = self._partitions.pop(tp)
        if state.due is not None and not state.due.done():
            state.due.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await state.due
        await state.producer.stop()

    async def close(self) -> None:
        for tp in list(self._partitions):
            await self._close(tp)
        while self._retired:
            await self._retired.pop().stop()
