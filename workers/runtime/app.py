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
import logging
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import EventT, StreamT

from workers import __version__
from workers.errors import TransientError
from workers.ops import logs, metrics
from workers.ops.access_gate import wait_for_access
from workers.ops.health import WorkerHealth
from workers.ops.monitor import Monitor
from workers.ops.web import add_routes
from workers.records.message import InputMessage
from workers.runtime.processor import Outgoing
from workers.runtime.runner import create_runner
from workers.settings import Settings, Stage

log = logging.getLogger("newsflow.worker")
# Headroom for the envelope around the largest accepted page (JSON, base64, headers).
_ENVELOPE_SLACK = 1024 * 1024
# On a graceful stop, how long to wait for outputs already sent (producer retries are bounded
# by the request timeout; what is not acknowledged by then is simply re-read later).
_DRAIN_S = 10.0
# A moment for the event loop to run the producer between two messages (its sender needs a
# few loop turns to write a request); far below a stage call's tens of milliseconds.
_FLUSH_S = 0.001


def _credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    ssl_context = settings.kafka_client_kwargs().get("ssl_context")
    if settings.sasl_mechanism:
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    if ssl_context is not None:
        return faust.SSLCredentials(ssl_context)
    return None


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


def _tpo(message: InputMessage) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


async def _drained(*queues: asyncio.Queue) -> None:
    for queue in queues:
        await queue.join()


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> object:
        consumer = super()._create_worker_consumer(transport)
        # faust hard-codes fetch_max_wait_ms=1500. Apache Kafka answers a fetch as soon as
        # data arrives, so there it only bounds idle polling; a broker that holds the fetch
        # for its whole wait (the local one does) adds up to this much latency per stage.
        consumer._fetch_max_wait_ms = self.app.fetch_max_wait_ms
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Producer(faust_aiokafka.Producer):
    def _settings_extra(self) -> dict:
        # faust turns idempotence on only inside transactions; a retried send must not
        # duplicate an output on Kafka either.
        if self.app.idempotent_producer:
            return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}
        return dict(super()._settings_extra())


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
    Producer = _Producer


class _App(faust.App):
    """faust's app with a configurable consumer fetch wait (``fetch_max_wait_ms``) and
    idempotent producers (``idempotent_producer``)."""

    fetch_max_wait_ms = 500
    idempotent_producer = True

    def _new_transport(self) -> _Transport:
        return _Transport(self.conf.broker_consumer, self)


class StageWorker:
    """One worker kind: its faust app, its stage processor and its health."""

    def __init__(self, stage: Stage, settings: Settings):
        self.stage: Stage = stage
        self.settings = settings
        self.runner = create_runner(stage, settings)
        self.health = WorkerHealth(stage, settings.stall_after_s)
        self.app = self._create_app()
        raw_bytes = {"key_serializer": "raw", "value_serializer": "raw"}
        self.source = self.app.topic(settings.input_topic(stage), **raw_bytes)
        self.sinks = {
            name: self.app.topic(name, **raw_bytes)
            for name in (settings.output_topic(stage), settings.topic_dead_letter)
        }
        self.app.agent(self.source, name=f"newsflow.{stage}")(self._run)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        self.monitor = Monitor(self.app, self.health, settings)
        self.app.timer(settings.health_interval_s)(self.monitor.refresh)
        add_routes(self.app, self.health)
        metrics.WORKER.info({"stage": stage, "version": __version__, "group": self.app.conf.id})

    def _create_app(self) -> faust.App:
        settings = self.settings
        app = _App(
            settings.group_for(self.stage),
            broker=[f"kafka://{server}" for server in settings.bootstrap_list],
            broker_credentials=_credentials(settings),
            autodiscover=False,
            store="memory://",
            # faust wants a data directory even with no tables; keep it out of the working
            # directory (read-only in the image, the user's checkout in the demo).
            datadir=str(Path(tempfile.gettempdir()) / f"newsflow-{settings.group_for(self.stage)}"),
            # Topics are created with their partitions and configs by `newsflow topics
            # create`; a worker must not invent them with broker defaults.
            topic_allow_declare=False,
            topic_disable_leader=True,
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=settings.session_timeout_s,
            broker_heartbeat_interval=settings.heartbeat_interval_s,
            broker_rebalance_timeout=settings.rebalance_timeout_s,
            broker_commit_interval=settings.commit_interval_s,
            producer_acks=-1,
            producer_request_timeout=settings.delivery_timeout_s,
            producer_compression_type=(
                None if settings.compression == "none" else settings.compression
            ),
            producer_max_request_size=settings.max_message_bytes + _ENVELOPE_SLACK,
            consumer_max_fetch_size=settings.max_message_bytes + _ENVELOPE_SLACK,
            web_enabled=True,
            web_bind=settings.web_host,
            web_port=settings.web_port,
            web_in_thread=False,
        )
        app.fetch_max_wait_ms = settings.fetch_max_wait_ms
        app.idempotent_producer = settings.idempotent_producer
        return app

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
                # inputs acked, so the final commit covers them (else they are re-read).
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(_drained(started, sent), _DRAIN_S)
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
            delivery = await self.sinks[outgoing.topic].send(
                key=outgoing.key, value=outgoing.value, headers=outgoing.headers
            )
        except Exception as exc:
            metrics.IN_FLIGHT.labels(self.stage).dec()
            await self._not_delivered(exc, outgoing, incoming)
            raise
        return _Sent(outgoing, incoming, delivery, started)

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
        metrics.DELIVERY_SECONDS.labels(self.stage).observe(time.perf_counter() - sent.started)
        log.log(
            logging.INFO if outgoing.outcome == "ok" else logging.WARNING,
            "processed" if outgoing.outcome == "ok" else "dead-lettered",
            extra=self._fields(outgoing, message),
        )
        self._count(outgoing)
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
        log.error(
            "output not acknowledged; stopping the worker",
            extra=self._fields(outgoing, message),
            exc_info=exc,
        )
        await self.app.crash(exc)

    def _fields(self, outgoing: Outgoing, message: InputMessage) -> dict[str, object]:
        return {
            "stage": self.stage,
            "document_id": outgoing.document_id,
            "tpo": _tpo(message),
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
                        "tpo": _tpo(incoming),
                        "error": str(exc),
                        "retry_in_s": backoff,
                    },
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
                outcome = self.runner.submit(incoming)

    def _count(self, outgoing: Outgoing) -> None:
        metrics.STAGE_SECONDS.labels(self.stage).observe(outgoing.elapsed_ms / 1000)
        if outgoing.internal_failures:
            metrics.RETRIES.labels(self.stage, "internal").inc(outgoing.internal_failures)
        for name, seconds in (outgoing.enricher_seconds or {}).items():
            metrics.ENRICHER_SECONDS.labels(name).observe(seconds)
        if self.stage == "clean":
            metrics.EXTRACTION_OUTCOMES.labels(outgoing.outcome).inc()
        if outgoing.outcome != "ok":
            metrics.MESSAGES_FAILED.labels(self.stage).inc()
            metrics.DEAD_LETTERS.labels(self.stage, outgoing.outcome).inc()
            return
        metrics.MESSAGES_OUT.labels(self.stage).inc()
        if self.stage == "enrich" and outgoing.timestamps:
            now = time.time()
            fetched = metrics.iso_to_unix(outgoing.timestamps.get("fetched"))
            produced = metrics.iso_to_unix(outgoing.timestamps.get("raw_produced"))
            if fetched is not None:
                metrics.END_TO_END_SECONDS.observe(max(0.0, now - fetched))
            if produced is not None:
                metrics.PIPELINE_SECONDS.observe(max(0.0, now - produced))

    async def _on_assigned(self, sender: faust.App, assigned: set, **kwargs: object) -> None:
        partitions = {(tp.topic, tp.partition) for tp in assigned}
        self.health.on_assigned(partitions)
        # Ops (and the tests) read who owns which partition from this event.
        log.info(
            "partitions assigned",
            extra={"stage": self.stage, "partitions": sorted(f"{t}/{p}" for t, p in partitions)},
        )


def run_worker(stage: Stage, settings: Settings) -> None:
    """Run one worker of ``stage`` until SIGTERM/SIGINT (blocking)."""
    logs.configure(settings.log_level, settings.log_format)
    worker = StageWorker(stage, settings)
    wait_for_access(stage, settings, worker.health)
    worker.runner.warm_up()
    log.info(
        "starting worker",
        extra={
            "stage": stage,
            "group": worker.app.conf.id,
            "bootstrap": settings.bootstrap_servers,
            "web_port": settings.web_port,
        },
    )
    faust.Worker(
        worker.app,
        loglevel=settings.log_level,
        logging_config=logs.logging_config(settings.log_level, settings.log_format),
        quiet=True,
        redirect_stdouts=False,
    ).execute_from_commandline()
