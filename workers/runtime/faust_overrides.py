"""Every place newsflow reaches into faust's or aiokafka's private parts, in one module.

faust-streaming does not expose these as settings or API; each override says why it exists.
After a faust or aiokafka upgrade this is the one file to check (the broker tests exercise
every override: fetch wait through latency, committed offsets through the lag gauges).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from signal import Signals

import faust
from aiokafka.client import AIOKafkaClient, ConnectionGroup
from aiokafka.cluster import ClusterMetadata
from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.errors import KafkaError, ProducerFenced, RequestTimedOutError
from faust.assignor import PartitionAssignor
from faust.tables import TableManager
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from workers.kafka import clients, leave_group
from workers.runtime.shutdown import ShutdownClock
from workers.runtime.transactions import Transactions

log = logging.getLogger("newsflow.worker")


def _answer_within(client: AIOKafkaClient, timeout_s: float) -> None:
    """A client's data connections (a consumer's fetch, metadata, offsets; a producer's
    produce and metadata) give a broker
    ``timeout_s`` to answer; its group-coordination connection keeps faust's request timeout
    (90 s: a JoinGroup waits at the broker up to the rebalance timeout). faust wants one
    request timeout of at least the session timeout for all of them, so a fetch from a hung
    leader (SIGSTOP, a frozen VM) would wait 90 s, and a metadata refresh that asks it first
    90 s more, before the consumer looks for the partition's new leader."""
    get_conn = client._get_conn
    silent_until: dict[object, float] = {}

    async def _get_conn(
        node_id: object, *, group: ConnectionGroup = ConnectionGroup.DEFAULT, no_hint: bool = False
    ) -> object:
        if group != ConnectionGroup.DEFAULT:
            return await get_conn(node_id, group=group, no_hint=no_hint)
        loop = asyncio.get_running_loop()
        if loop.time() < silent_until.get(node_id, 0.0):
            # It let a connection wait the whole timeout a moment ago: not again now. Each
            # try holds aiokafka's one connection lock, so the metadata refresh that finds
            # the new leader would queue behind the fetcher's next try at the old one.
            return None
        try:
            # A hung broker still accepts the TCP connection (the kernel does), then never
            # answers the handshake: give up as aiokafka does on a refused connection.
            connecting = get_conn(node_id, group=group, no_hint=no_hint)
            conn = await asyncio.wait_for(connecting, timeout_s)
        except TimeoutError:
            silent_until[node_id] = loop.time() + timeout_s
            client.force_metadata_update()
            return None
        if conn is not None:
            conn._request_timeout = timeout_s  # read by every request on this connection
        return conn

    send = client.send

    async def _send(
        node_id: object, request: object, *, group: ConnectionGroup = ConnectionGroup.DEFAULT
    ) -> object:
        try:
            return await send(node_id, request, group=group)
        except RequestTimedOutError:
            if group == ConnectionGroup.DEFAULT:  # aiokafka closed that connection: as above
                silent_until[node_id] = asyncio.get_running_loop().time() + timeout_s
            raise

    client._get_conn = _get_conn
    client.send = _send


# While the group leader's metadata lacks a subscribed topic, how often it asks again.
_MISSING_TOPIC_RETRY_S = 1.0


async def _refresh_until_known(client: AIOKafkaClient, topics: set[str]) -> None:
    """Refresh the metadata until it lists ``topics``: the group coordinator compares it with
    what the last assignment saw and rejoins, and the next assignment includes them."""
    while not all(client.cluster.partitions_for_topic(topic) for topic in topics):
        await asyncio.sleep(_MISSING_TOPIC_RETRY_S)
        await client.force_metadata_update()


class _Assignor(PartitionAssignor):
    """faust's assignor, which leaves a subscribed topic the leader's metadata does not list
    ("Ignoring missing topic") unassigned. Right after a broker restart its first metadata
    can lack the topics; every member then gets no partitions until the consumer's next
    periodic refresh (``metadata_max_age``, 5 minutes: seen in bench/chaos.py). The leader
    asks again at once, every second, until the topics are there."""

    _refreshing: asyncio.Task | None = None

    def assign(self, cluster: ClusterMetadata, member_metadata: Mapping) -> Mapping:
        assignment = super().assign(cluster, member_metadata)
        topics = {t for metadata in member_metadata.values() for t in metadata.subscription}
        missing = {topic for topic in topics if not cluster.partitions_for_topic(topic)}
        client = getattr(self.app, "consumer_client", None)
        if missing and client is not None and (self._refreshing is None or self._refreshing.done()):
            log.warning(
                "subscribed topics missing from the metadata", extra={"topics": sorted(missing)}
            )
            # assign() runs in the consumer thread's event loop, where the client lives.
            self._refreshing = asyncio.ensure_future(_refresh_until_known(client, missing))
        return assignment


async def _remove_static_member(coordinator: GroupCoordinator, instance_id: str) -> None:
    """Send LeaveGroup v3 for this member to its group coordinator; one log line either way.
    A broker that refuses it (no version 3, an error) costs only the wait for the session to
    expire, as without the setting: the stop goes on."""
    group, member_id = coordinator.group_id, coordinator.member_id
    about = {"group": group, "instance_id": instance_id, "member_id": member_id}
    began = time.monotonic()
    request = leave_group.RemoveMembers(group, [(member_id, instance_id)])
    try:
        answer = leave_group.outcome(await coordinator._send_req(request))
    except (KafkaError, NotImplementedError) as exc:  # NotImplementedError: no v3 there
        log.warning(
            "could not leave the group; its partitions move when the session expires",
            extra={**about, "error": repr(exc)},
        )
        return
    took = {"s": round(time.monotonic() - began, 3)}
    if answer.ok:
        log.info("left the group", extra={**about, **took})
    else:
        log.warning(
            "could not leave the group; its partitions move when the session expires",
            extra={**about, **took, "error_code": answer.error_code, "members": answer.members},
        )


def _leave_when_closed(coordinator: GroupCoordinator) -> None:
    """Make the coordinator's close leave the group although the member is static.

    aiokafka's close commits nothing more, stops the heartbeat and then calls
    ``_maybe_leave_group``, which skips a static member (KIP-345: its restart keeps the
    partitions). That is the point where leaving is safe (no heartbeat left to rejoin, the
    last commit done), so the explicit leave takes its place."""
    instance_id = coordinator._group_instance_id
    if not instance_id:
        return  # dynamic members leave on their own

    async def _maybe_leave_group() -> None:
        # Joined: there is a member id to remove. (aiokafka asks for generation > 0, but the
        # embedded broker numbers the first generation 0.)
        if coordinator.member_id:
            await _remove_static_member(coordinator, instance_id)
        coordinator.reset_generation()

    coordinator._maybe_leave_group = _maybe_leave_group


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> object:
        consumer = super()._create_worker_consumer(transport)
        self.app.consumer_client = consumer._client  # for the assignor (_Assignor)
        # faust hard-codes fetch_max_wait_ms=1500. Apache Kafka answers a fetch as soon as
        # data arrives, so there it only bounds idle polling; a broker that holds the fetch
        # for its whole wait (the local one does) adds up to this much latency per stage.
        # aiokafka keeps it in a private attribute read on every fetch.
        consumer._fetch_max_wait_ms = self.app.fetch_max_wait_ms
        # faust reads committed records only with its own exactly_once, which newsflow does
        # not use (workers.runtime.transactions says why); the fetcher takes this attribute
        # when the consumer starts.
        consumer._isolation_level = self.app.isolation_level
        _answer_within(consumer._client, self.app.request_timeout_s)
        return consumer

    async def stop(self) -> None:
        # mode waits up to 60 s for this thread to shut down, and with every broker down
        # aiokafka's consumer never finishes stopping (a fetch retry it cancels raises out of
        # its close).
        consumer = self._consumer
        if consumer is not None and self.app.asked_to_stop and self.app.leave_group_on_shutdown:
            # Asked to stop (scale-in, rollout), not crashed: the instance id does not come
            # back, so its partitions should not wait for the session to expire.
            _leave_when_closed(consumer._coordinator)
        clock = self.app.shutdown
        await clock.step("consumer stop", super().stop(), clock.left())


class _Consumer(faust_aiokafka.Consumer):
    # faust builds its consumer thread here; the hook to use ours.
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def commit(self, *args: object, **kwargs: object) -> bool:
        # aiokafka retries a commit until it finds the group coordinator; while stopping,
        # the commit gets what is left of the stop's budget. A commit never covers more than
        # the acked inputs, whether it ends or is cut short.
        clock = self.app.shutdown
        if not clock.stopping:
            return await super().commit(*args, **kwargs)
        return bool(await clock.step("commit", super().commit(*args, **kwargs), clock.left()))

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        # With exactly_once the acked offsets go into the input partitions' transactions,
        # with the outputs, instead of a plain offset commit.
        transactions = self.app.transactions
        if transactions is None:
            return await super()._commit(offsets)
        try:
            return await transactions.commit(offsets)
        except ProducerFenced as exc:
            # Another worker owns the partition now (this one was frozen or cut off past
            # its session): the broker aborted this transaction; stop, start afresh.
            await transactions.on_failure(exc)
            return False


class _Producer(faust_aiokafka.Producer):
    # faust's hook for extra aiokafka producer arguments. faust turns idempotence on only
    # inside transactions; a retried send must not duplicate an output on Kafka either.
    def _settings_extra(self) -> dict:
        if self.app.idempotent_producer:
            return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}
        return dict(super()._settings_extra())

    def _new_producer(self, transactional_id: str | None = None) -> object:
        # faust passes NEWSFLOW_REQUEST_TIMEOUT_S as the broker's answer; an output waits
        # NEWSFLOW_DELIVERY_TIMEOUT_S (clients.outputs_wait says why they differ).
        producer = super()._new_producer(transactional_id)
        # A leader cut off the network drops the produce request (it waits the request
        # timeout) and then the reconnect, which holds aiokafka's connection lock while the
        # metadata refresh that would find the new leader queues behind it: a third timeout
        # at the sink (59 s for a 41.6 s bound). Skipping the silent node for a while, as the
        # consumers do, sends the refresh elsewhere at once.
        _answer_within(producer.client, self.app.request_timeout_s)
        return clients.outputs_wait(producer, self.app.delivery_timeout_s)

    async def on_stop(self) -> None:
        # aiokafka's stop waits until every batch is delivered, which with every broker down
        # is never. Outputs not acknowledged by then are simply not acked.
        clock = self.app.shutdown
        await clock.step("producer stop", super().on_stop(), clock.left())


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
    Producer = _Producer


class _TableManager(TableManager):
    async def on_start(self) -> None:
        # faust waits a second here before it registers the tables, and the consumer
        # subscribes (joins its group) only after that: a second of every start. Workers
        # declare no table, so there is none to wait for.
        if self:
            await super().on_start()
            return
        await self._update_channels()
        await self.recovery.start()


class App(faust.App):
    """faust's app with a configurable consumer fetch wait (``fetch_max_wait_ms``),
    idempotent producers (``idempotent_producer``), the consumer's ``isolation_level``,
    offsets committed in ``transactions`` when set, an output's wait in the producer apart
    from a broker's answer (``delivery_timeout_s``), consumers that give a broker
    ``request_timeout_s`` to answer a fetch, a stop bounded by ``shutdown``, a static
    member that leaves its group when asked to stop (``leave_group_on_shutdown``), and a
    start that does not wait a second for tables it has none of."""

    fetch_max_wait_ms = 500
    idempotent_producer = True
    isolation_level = "read_uncommitted"
    transactions: Transactions | None = None
    delivery_timeout_s = 1200.0
    request_timeout_s = 20.0
    # NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN, and whether this stop was asked for by a signal.
    leave_group_on_shutdown = False
    asked_to_stop = False

    consumer_client: AIOKafkaClient | None = None

    def __init__(self, *args: object, shutdown_timeout_s: float, **kwargs: object):
        super().__init__(*args, TableManager=_TableManager, PartitionAssignor=_Assignor, **kwargs)
        self.shutdown = ShutdownClock(shutdown_timeout_s)

    async def on_stop(self) -> None:
        self.shutdown.begin()
        await super().on_stop()

    async def _consumer_wait_empty(self, consumer: object, logger: object) -> None:
        # faust's drain: it waits, committing as they come, until every input handed to the
        # agent is acked, each after its output is acknowledged; with no broker, for ever.
        clock = self.shutdown
        await clock.step(
            "drain", super()._consumer_wait_empty(consumer, logger), clock.drain_left()
        )

    async def _producer_flush(self, logger: object) -> None:
        # Waits for every buffered output to be delivered; with no broker, for ever. Part of
        # waiting for outputs, so within the drain's share: the final commit keeps the rest.
        clock = self.shutdown
        await clock.step("producer flush", super()._producer_flush(logger), clock.drain_left())

    # faust builds its transport here; the hook to use ours.
    def _new_transport(self) -> _Transport:
        return _Transport(self.conf.broker_consumer, self)


class Worker(faust.Worker):
    """faust's worker, telling the app that its stop was asked for (SIGTERM, SIGINT): a crash
    stops the app too, and only the former may leave the group."""

    def _schedule_shutdown(self, signum: Signals) -> None:
        self.app.asked_to_stop = True
        super()._schedule_shutdown(signum)


def committed_offsets(app: faust.App) -> dict[TP, int]:
    """The offsets this worker committed last, per partition: faust's own bookkeeping (no
    public accessor; asking the coordinator instead would cost a request per refresh), or
    the transactions' with exactly_once."""
    if getattr(app, "transactions", None) is not None:
        return app.transactions.committed_offsets()
    return getattr(app.consumer, "_committed_offset", {})
