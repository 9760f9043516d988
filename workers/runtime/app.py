"""The faust application of one worker kind: a thin loop around its stage runner.

Per message: run the stage (:mod:`workers.runtime.runner`: in this process or in stage processes),
send the output (or the dead letter), wait until the broker acknowledged it, then ack the
input. Outputs are sent and inputs acked in the order the inputs were read. faust commits
only acked offsets, so a worker killed at any moment re-reads, from the last commit, exactly
the inputs whose output may be missing. The app also serves ``/metrics``, ``/healthz`` and
``/readyz`` (:mod:`workers.ops.web`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import faust
from aiokafka import TopicPartition
from aiokafka.errors import ProducerFenced
from faust.types import EventT, StreamT

from workers import __version__
from workers.errors import TransientError
from workers.kafka import clients
from workers.kafka.access import explain
from workers.ops import logs, metrics
from workers.ops.access_gate import wait_for_access
from workers.ops.health import WorkerHealth
from workers.ops.monitor import Monitor
from workers.ops.web import add_routes
from workers.pipeline import STAGES
from workers.records.message import InputMessage
from workers.records.outgoing import Outgoing
from workers.runtime import startup
from workers.runtime.faust_overrides import App, Worker, committed_offsets
from workers.runtime.runner import create_runner
from workers.runtime.transactions import Transactions
from workers.settings import Settings

log = logging.getLogger("newsflow.worker")
# A moment for the event loop to run the producer between two messages (its sender needs a
# few loop turns to write a request); far below a stage call's tens of milliseconds.
_FLUSH_S = 0.001


@dataclass(slots=True)
class _Sent:
    """An output handed to the producer, and the input it answers."""

    outgoing: Outgoing
    message: InputMessage
    delivery: Awaitable[object]
    started: float


# An input whose stage is under way: the event (to ack), the message, its outcome to come.
_Started = tuple[EventT, InputMessage, "asyncio.Future[Outgoing]"]


def _incoming(event: EventT) -> InputMessage:
    message = event.message
    return InputMessage(
        value=message.value,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(message.timestamp * 1000) if message.timestamp else None,
        key=message.key,
        headers=tuple(message.headers or ()),
    )


async def _drained(*queues: asyncio.Queue) -> None:
    for queue in queues:
        await queue.join()


class StageWorker:
    """One worker kind: its faust app, its stage processor and its health."""

    def __init__(self, stage: str, settings: Settings):
        self.stage = stage
        self.spec = STAGES[stage]
        self.settings = settings
        self.runner = create_runner(stage, settings)
        self.health = WorkerHealth(stage, settings.stall_after_s, settings.ready_max_ack_wait_s)
        self.app = self._create_app()
        self.transactions = self.app.transactions
        raw_bytes = {"key_serializer": "raw", "value_serializer": "raw"}
        self.source = self.app.topic(self.spec.input_topic(settings), **raw_bytes)
        self.sinks = {
            name: self.app.topic(name, **raw_bytes)
            for name in (self.spec.output_topic(settings), settings.topic_dead_letter)
        }
        self.app.agent(self.source, name=f"newsflow.{stage}")(self._run)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        if self.transactions is not None:
            self.app.on_partitions_revoked.connect(self._on_revoked)
            self.app.on_rebalance_complete.connect(self._on_rebalance_complete)
            self.app.on_before_shutdown.connect(self._on_before_shutdown)
        self.monitor = Monitor(
            self.app,
            self.health,
            settings,
            committed_offsets=functools.partial(committed_offsets, self.app),
            output_topics=tuple(self.sinks),
        )
        self.app.task(self._monitor)
        add_routes(self.app, self.health)
        metrics.announce_worker(
            self.spec,
            {"stage": stage, "version": __version__, "group": self.app.conf.id},
            parts=self.spec.part_names(settings),
        )

    def _create_app(self) -> faust.App:
        settings = self.settings
        group = self.spec.group(settings)
        exactly_once = settings.processing_guarantee == "exactly_once"
        app = App(
            group,
            broker=[f"kafka://{server}" for server in settings.bootstrap_list],
            broker_credentials=clients.faust_credentials(settings),
            autodiscover=False,
            store="memory://",
            # faust wants a data directory even with no tables; keep it out of the working
            # directory (read-only in the image, the user's checkout in the demo).
            datadir=str(Path(tempfile.gettempdir()) / f"newsflow-{group}"),
            # Topics are created with their partitions and configs by `newsflow topics
            # create`; a worker must not invent them with broker defaults.
            topic_allow_declare=False,
            topic_disable_leader=True,
            consumer_auto_offset_reset="earliest",
            # Static membership: a restart within the session timeout keeps the partitions
            # and rebalances nobody; aiokafka then skips LeaveGroup on stop (the app sends
            # one itself with NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN).
            consumer_group_instance_id=settings.instance_id or None,
            broker_session_timeout=settings.session_timeout_s,
            broker_heartbeat_interval=settings.heartbeat_interval_s,
            broker_rebalance_timeout=settings.rebalance_timeout_s,
            # With exactly_once faust's commit commits the transactions (faust_overrides).
            broker_commit_interval=(
                settings.transaction_interval_ms / 1000
                if exactly_once
                else settings.commit_interval_s
            ),
            producer_acks=-1,
            producer_request_timeout=settings.request_timeout_s,
            producer_compression_type=clients.compression_type(settings),
            producer_max_request_size=clients.max_record_bytes(settings),
            consumer_max_fetch_size=clients.max_record_bytes(settings),
            web_enabled=True,
            web_bind=settings.web_host,
            web_port=settings.web_port,
            web_in_thread=False,
            shutdown_timeout_s=settings.shutdown_timeout_s,
        )
        if settings.instance_id:
            # The broker hands a returning static member its stored assignment, and faust's
            # assignor asserts the URL inside it is its own (canonical_url: host and web port
            # by default). Named after the instance id, a restart on another port or host
            # still finds it equal instead of stopping the group coordinator for good.
            app.conf.canonical_url = f"http://{settings.instance_id}"
        app.fetch_max_wait_ms = settings.fetch_max_wait_ms
        app.idempotent_producer = settings.idempotent_producer
        app.isolation_level = clients.isolation_level(settings)
        if exactly_once:
            app.transactions = Transactions(settings, group, on_failure=self._commit_failed)
        app.delivery_timeout_s = settings.delivery_timeout_s
        app.request_timeout_s = settings.request_timeout_s
        app.leave_group_on_shutdown = settings.leave_group_on_shutdown
        return app

    async def _monitor(self) -> None:
        """Refresh health and lag every NEWSFLOW_HEALTH_INTERVAL_S, counted from the end of the
        previous refresh: a probe that waits for the broker, or a stage call holding the loop,
        delays the next one instead of making a timer "overlap" (mode warns about that)."""
        while True:
            try:
                await self.monitor.refresh()
            except Exception:  # a failing probe must not end the probing
                log.exception("health refresh failed", extra={"stage": self.stage})
            await asyncio.sleep(self.settings.health_interval_s)

    async def _run(self, stream: StreamT) -> None:
        manual = stream.noack()
        window = self.settings.max_pending_outputs
        if window == 0:
            async for event in manual.events():
                incoming = _incoming(event)
                await self._finish(await self._send(incoming, self._submit(incoming)))
                await manual.ack(event)
            return
        # Three steps, each in the order the inputs were read: the stage (several at once in
        # stage processes), sending its output, acking the input once the broker has the
        # output. Bounded queues between them cap what is in flight.
        started: asyncio.Queue[_Started] = asyncio.Queue(maxsize=self.runner.capacity)
        sent: asyncio.Queue[tuple[EventT, _Sent]] = asyncio.Queue(maxsize=window)
        helpers = [
            asyncio.ensure_future(self._send_in_order(started, sent)),
            asyncio.ensure_future(self._ack_in_order(manual, sent)),
        ]
        try:
            async for event in manual.events():
                incoming = _incoming(event)
                await started.put((event, incoming, self._submit(incoming)))
                if self.runner.blocking:
                    # Let the producer put the output on the wire before the next blocking
                    # stage call: with messages already buffered, faust hands over the next
                    # one without a turn of the event loop, and outputs would wait for it.
                    await asyncio.sleep(_FLUSH_S)
                for helper in helpers:
                    if helper.done():
                        helper.result()  # a delivery failed: the worker is stopping
        finally:
            if not any(helper.done() for helper in helpers):
                # A graceful stop: let the outputs under way be acknowledged and their
                # inputs acked, so the final commit covers them, within what is left of the
                # stop's drain (faust's own drain comes first). Inputs whose outputs were not
                # acknowledged by then stay unacked, uncommitted, and are re-read.
                with contextlib.suppress(asyncio.CancelledError):
                    clock = self.app.shutdown
                    await clock.step("agent drain", _drained(started, sent), clock.drain_left())
            for helper in helpers:
                helper.cancel()

    async def _send_in_order(
        self, started: asyncio.Queue[_Started], sent: asyncio.Queue[tuple[EventT, _Sent]]
    ) -> None:
        while True:
            event, incoming, outcome = await started.get()
            await sent.put((event, await self._send(incoming, outcome)))
            started.task_done()

    async def _ack_in_order(
        self, manual: StreamT, pending: asyncio.Queue[tuple[EventT, _Sent]]
    ) -> None:
        while True:
            event, sent = await pending.get()
            await self._finish(sent)
            await manual.ack(event)
            pending.task_done()

    def _submit(self, incoming: InputMessage) -> asyncio.Future[Outgoing]:
        metrics.MESSAGES_IN.labels(self.stage).inc()
        metrics.IN_FLIGHT.labels(self.stage).inc()
        return self.runner.submit(incoming)

    async def _send(self, incoming: InputMessage, outcome: asyncio.Future[Outgoing]) -> _Sent:
        """Wait for the stage's output (retrying transient failures), hand it to the producer."""
        try:
            outgoing = await self._until_done(incoming, outcome)
        except BaseException:
            metrics.IN_FLIGHT.labels(self.stage).dec()
            raise
        started = time.perf_counter()
        try:
            if self.transactions is not None:
                delivery = await self.transactions.send(
                    TopicPartition(incoming.topic, incoming.partition),
                    outgoing.topic,
                    outgoing.key,
                    outgoing.value,
                    outgoing.headers,
                )
            else:
                delivery = await self.sinks[outgoing.topic].send(
                    key=outgoing.key, value=outgoing.value, headers=outgoing.headers
                )
        except Exception as exc:
            metrics.IN_FLIGHT.labels(self.stage).dec()
            await self._not_delivered(exc, outgoing, incoming)
            raise
        sent = _Sent(outgoing, incoming, delivery, started)
        self.health.on_output_sent(id(sent))
        return sent

    async def _finish(self, sent: _Sent) -> None:
        """Wait until the broker acknowledged the output, then count and log it."""
        outgoing, message = sent.outgoing, sent.message
        try:
            await sent.delivery
        except Exception as exc:
            await self._not_delivered(exc, outgoing, message)
            raise
        finally:
            metrics.IN_FLIGHT.labels(self.stage).dec()
            self.health.on_output_done(id(sent))
        if self.transactions is not None:
            self.transactions.done(TopicPartition(message.topic, message.partition), message.offset)
        metrics.DELIVERY_SECONDS.labels(self.stage).observe(time.perf_counter() - sent.started)
        log.log(
            logging.INFO if outgoing.outcome == "ok" else logging.WARNING,
            "processed" if outgoing.outcome == "ok" else "dead-lettered",
            extra=self._fields(outgoing, message),
        )
        metrics.observe_outcome(self.spec, outgoing)
        self.health.on_processed(
            (message.topic, message.partition),
            message.offset,
            message.timestamp_ms / 1000 if message.timestamp_ms is not None else None,
        )

    async def _not_delivered(
        self, exc: Exception, outgoing: Outgoing, message: InputMessage
    ) -> None:
        # The broker did not take the output after the producer's own retries. The input
        # stays unacked and the worker stops; its replacement re-reads it.
        if isinstance(exc, ProducerFenced):
            # Another worker took the partition over while this one was away (frozen, cut
            # off): its transaction is aborted, the new owner re-reads those inputs.
            log.error(
                "transaction fenced; stopping the worker", extra=self._fields(outgoing, message)
            )
            await self.app.crash(exc)
            return
        # A refused Produce (a Write ACL gone) names the setting to fix, as the start-up gate.
        reason = explain(exc, self.settings)
        log.error(
            "output not acknowledged; stopping the worker",
            extra={**self._fields(outgoing, message), **({"reason": reason} if reason else {})},
            exc_info=exc,
        )
        await self.app.crash(exc)

    def _fields(self, outgoing: Outgoing, message: InputMessage) -> dict[str, object]:
        return {
            "stage": self.stage,
            "document_id": outgoing.document_id,
            "tpo": message.tpo,
            "outcome": outgoing.outcome,
            "ms": round(outgoing.elapsed_ms, 1),
        }

    async def _until_done(
        self, incoming: InputMessage, outcome: asyncio.Future[Outgoing]
    ) -> Outgoing:
        """The stage's output; while a dependency is away, wait (doubling up to a cap), retry.

        The sleep keeps the event loop free, so heartbeats, probes and /metrics go on.
        """
        backoff = self.settings.retry_backoff_s
        while True:
            try:
                return await outcome
            except TransientError as exc:
                metrics.RETRIES.labels(self.stage, "transient").inc()
                log.warning(
                    "transient failure; retrying",
                    extra={
                        "stage": self.stage,
                        "tpo": incoming.tpo,
                        "error": str(exc),
                        "retry_in_s": backoff,
                    },
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
                outcome = self.runner.submit(incoming)

    async def _on_revoked(self, sender: faust.App, revoked: set, **kwargs: object) -> None:
        # faust has drained the inputs under way: finish their transactions before the
        # partitions go, so their next owner starts from these offsets.
        await self._committing(self.transactions.commit())
        if revoked:
            log.info(
                "transactions committed before a rebalance",
                extra={"stage": self.stage, "partitions": sorted(f"{t}/{p}" for t, p in revoked)},
            )

    async def _on_rebalance_complete(self, sender: faust.App, **kwargs: object) -> None:
        # Before faust seeks to the committed offsets: starting a partition's producer
        # fences its previous owner and settles that owner's last transaction.
        consumer = self.app.consumer
        await self.transactions.assign(consumer.assignment())
        # From the offsets the transactions committed; a partition with none starts at its
        # beginning (auto_offset_reset=earliest): a partition taken over from a dead worker
        # was seen starting at its log end instead, skipping its committed records.
        committed = await consumer.seek_to_committed()
        fresh = [tp for tp, offset in committed.items() if offset is None]
        for tp in fresh:
            await consumer.seek(tp, 0)  # before the log start: reset to earliest
        log.info(
            "positions set from committed offsets",
            extra={
                "stage": self.stage,
                "partitions": sorted(f"{t}/{p}@{o}" for (t, p), o in committed.items()),
            },
        )

    async def _on_before_shutdown(self, sender: faust.App, **kwargs: object) -> None:
        clock = self.app.shutdown
        await clock.step(
            "transactions commit", self._committing(self.transactions.commit()), clock.left()
        )
        await clock.step("transactional producers stop", self.transactions.close(), clock.left())

    async def _committing(self, commit: Awaitable[bool]) -> bool:
        try:
            return await commit
        except ProducerFenced as exc:
            await self._commit_failed(exc)
            return False

    async def _commit_failed(self, exc: BaseException) -> None:
        # Fenced: another worker owns the partition now and its next owner re-reads the
        # aborted inputs. Anything else: the transaction's fate is the broker's; stop, and
        # let the partition's next owner settle it.
        if isinstance(exc, ProducerFenced):
            log.error("transaction fenced; stopping the worker", extra={"stage": self.stage})
        else:
            log.error(
                "transaction commit failed; stopping the worker",
                extra={"stage": self.stage},
                exc_info=exc,
            )
        await self.app.crash(exc)

    async def _on_assigned(self, sender: faust.App, assigned: set, **kwargs: object) -> None:
        partitions = {(tp.topic, tp.partition) for tp in assigned}
        self.health.on_assigned(partitions)
        # Ops (and the tests) read who owns which partition from this event.
        log.info(
            "partitions assigned",
            extra={"stage": self.stage, "partitions": sorted(f"{t}/{p}" for t, p in partitions)},
        )


def run_worker(stage: str, settings: Settings) -> None:
    """Run one worker of ``stage`` until SIGTERM/SIGINT (blocking)."""
    logs.configure(settings.log_level, settings.log_format)
    # What a user can get wrong fails here, in one line, before the models load.
    startup.check_web_port(stage, settings)
    startup.check_kafka(stage, settings)
    try:
        worker = StageWorker(stage, settings)
    except ValueError as exc:  # settings that contradict each other (stage processes)
        raise startup.StartupError(str(exc)) from None
    wait_for_access(stage, settings, worker.health)
    worker.runner.warm_up()
    log.info(
        "starting worker",
        extra={
            "stage": stage,
            "group": worker.app.conf.id,
            "instance_id": settings.instance_id or None,
            "bootstrap": settings.bootstrap_servers,
            "web_port": settings.web_port,
        },
    )
    Worker(
        worker.app,
        loglevel=settings.log_level,
        logging_config=logs.logging_config(settings.log_level, settings.log_format),
        quiet=True,
        redirect_stdouts=False,
    ).execute_from_commandline()
