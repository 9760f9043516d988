"""Before a worker joins its group: may its principal in at all?

A refused login, an untrusted broker certificate or a missing ACL does not heal by retrying
fast. Instead of letting the consumer crash or loop on it, the worker checks once
(:func:`workers.kafka.access.worker_access_problem`); on an access problem it serves
``/readyz`` (503, with the reason naming the setting to fix), ``/healthz`` and ``/metrics``
on its web port, logs the reason, and checks again every ``RECHECK_S`` (a rotated secret or
a new ACL lets it start without a restart). Nothing is consumed meanwhile, so nothing is
acked or dead-lettered. An unreachable broker is not an access problem: the worker starts
as before and faust reconnects.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import REGISTRY, generate_latest

from workers.kafka.access import worker_access_problem
from workers.ops.health import WorkerHealth
from workers.ops.web import METRICS_CONTENT_TYPE
from workers.pipeline import STAGES
from workers.settings import Settings

log = logging.getLogger("newsflow.access")
RECHECK_S = 30.0


async def _problem(stage: str, settings: Settings) -> str | None:
    return await worker_access_problem(
        settings,
        read=STAGES[stage].input_topic(settings),
        group=STAGES[stage].group(settings),
        writes=[STAGES[stage].output_topic(settings), settings.topic_dead_letter],
    )


def _probes(health: WorkerHealth) -> web.Application:
    async def report(request: web.Request) -> web.Response:
        health.tick()  # answering at all shows the event loop turns
        body = health.report()
        verdict = body["healthy"] if request.path == "/healthz" else body["ready"]
        return web.json_response(body, status=200 if verdict else 503)

    async def prometheus(request: web.Request) -> web.Response:
        health.ready()
        return web.Response(body=generate_latest(REGISTRY), content_type=METRICS_CONTENT_TYPE)

    app = web.Application()
    app.router.add_get("/healthz", report)
    app.router.add_get("/readyz", report)
    app.router.add_get("/metrics", prometheus)
    return app


async def _until_access(stage: str, settings: Settings, health: WorkerHealth) -> None:
    reason = await _problem(stage, settings)
    if reason is None:
        return
    runner = web.AppRunner(_probes(health), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    try:
        while reason is not None:
            health.access_problem = reason
            log.error(
                "no access to Kafka; not joining the group",
                extra={"stage": stage, "reason": reason, "retry_in_s": RECHECK_S},
            )
            await asyncio.sleep(RECHECK_S)
            reason = await _problem(stage, settings)
    finally:
        await runner.cleanup()
    health.access_problem = None
    log.info("access to Kafka granted; starting", extra={"stage": stage})


def wait_for_access(stage: str, settings: Settings, health: WorkerHealth) -> None:
    """Return once the worker's principal can reach what it needs (blocking; on a loop of
    its own, so faust later starts on a fresh one)."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_until_access(stage, settings, health))
    finally:
        loop.close()
