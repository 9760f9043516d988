"""The faust application of one worker kind: a thin loop around :class:`StageProcessor`.

Per message: run the stage, send the output (or the dead letter), wait until the broker
acknowledged it, then ack the input. faust commits only acked offsets, so a worker killed at
any moment re-reads, from the last commit, exactly the inputs whose output may be missing.
"""

from __future__ import annotations

import logging

import faust
from faust.types import EventT, StreamT

from workers import logs
from workers.processor import StageProcessor
from workers.settings import Settings, Stage
from workers.stages.base import InputMessage

log = logging.getLogger("newsflow.worker")
# Headroom for the envelope around the largest accepted page (JSON, base64, headers).
_ENVELOPE_SLACK = 1024 * 1024


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


def create_app(stage: Stage, settings: Settings) -> tuple[faust.App, StageProcessor]:
    """The faust app (id = consumer group) of ``stage`` and the processor its agent runs."""
    app = faust.App(
        settings.group_for(stage),
        broker=[f"kafka://{server}" for server in settings.bootstrap_list],
        broker_credentials=_credentials(settings),
        autodiscover=False,
        store="memory://",
        # Topics are created with their partitions and configs by `newsflow topics create`;
        # the worker must not invent them with broker defaults.
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_commit_interval=settings.commit_interval_s,
        producer_acks=-1,
        producer_compression_type=None if settings.compression == "none" else settings.compression,
        producer_max_request_size=settings.max_message_bytes + _ENVELOPE_SLACK,
        consumer_max_fetch_size=settings.max_message_bytes + _ENVELOPE_SLACK,
        web_enabled=True,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
    )
    processor = StageProcessor(stage, settings)
    raw_bytes = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(settings.input_topic(stage), **raw_bytes)
    sinks = {
        name: app.topic(name, **raw_bytes)
        for name in (settings.output_topic(stage), settings.topic_dead_letter)
    }

    async def run_stage(stream: StreamT) -> None:
        manual = stream.noack()
        async for event in manual.events():
            await _handle(app, processor, sinks, event)
            await manual.ack(event)

    app.agent(source, name=f"newsflow.{stage}")(run_stage)

    @app.on_partitions_assigned.connect
    async def log_assignment(sender: faust.App, assigned: set, **kwargs: object) -> None:
        # Ops (and the tests) read who owns which partition from this event.
        log.info(
            "partitions assigned",
            extra={
                "stage": stage,
                "partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
            },
        )

    return app, processor


async def _handle(
    app: faust.App,
    processor: StageProcessor,
    sinks: dict[str, faust.TopicT],
    event: EventT,
) -> None:
    message = event.message
    incoming = InputMessage(
        value=message.value,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(message.timestamp * 1000) if message.timestamp else None,
        key=message.key,
        headers=tuple(message.headers or ()),
    )
    outgoing = processor.process(incoming)
    fields = {
        "stage": processor.stage,
        "document_id": outgoing.document_id,
        "tpo": f"{message.topic}/{message.partition}/{message.offset}",
        "outcome": outgoing.outcome,
        "ms": round(outgoing.elapsed_ms, 1),
    }
    try:
        delivery = await sinks[outgoing.topic].send(
            key=outgoing.key, value=outgoing.value, headers=outgoing.headers
        )
        await delivery
    except Exception as exc:
        # The broker did not take the output after the producer's own retries. The input
        # stays unacked and the worker stops; its replacement re-reads from the last commit.
        log.error("output not acknowledged; stopping the worker", extra=fields, exc_info=exc)
        await app.crash(exc)
        raise
    log.log(
        logging.INFO if outgoing.outcome == "ok" else logging.WARNING,
        "processed" if outgoing.outcome == "ok" else "dead-lettered",
        extra=fields,
    )


def run_worker(stage: Stage, settings: Settings) -> None:
    """Run one worker of ``stage`` until SIGTERM/SIGINT (blocking)."""
    logs.configure(settings.log_level, settings.log_format)
    app, processor = create_app(stage, settings)
    processor.warm_up()
    log.info(
        "starting worker",
        extra={"stage": stage, "group": app.conf.id, "bootstrap": settings.bootstrap_servers},
    )
    worker = faust.Worker(
        app,
        loglevel=settings.log_level,
        logging_config=logs.logging_config(settings.log_level, settings.log_format),
        quiet=True,
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()
