"""The worker's HTTP endpoints, on faust's web server (``NEWSFLOW_WEB_PORT``).

- ``/metrics``: Prometheus text format.
- ``/healthz``: 200 while the event loop turns and every assigned partition with waiting
  messages makes progress; 503 otherwise (liveness: restart me).
- ``/readyz``: 200 when connected to the broker and assigned; 503 otherwise (readiness).
Both probes answer with a JSON report of the worker's partitions and problems.
"""

from __future__ import annotations

import faust
from faust.web import Request, Response, View
from prometheus_client import REGISTRY, generate_latest

from workers.ops.health import WorkerHealth

# prometheus_client.CONTENT_TYPE_LATEST without the charset aiohttp insists on adding itself.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"


def add_routes(app: faust.App, health: WorkerHealth) -> None:
    @app.page("/metrics")
    async def prometheus_metrics(self: View, request: Request) -> Response:
        health.healthy()  # refresh the verdict gauges at scrape time
        health.ready()
        return self.bytes(generate_latest(REGISTRY), content_type=METRICS_CONTENT_TYPE)

    @app.page("/healthz")
    async def healthz(self: View, request: Request) -> Response:
        report = health.report()
        return self.json(report, status=200 if report["healthy"] else 503)

    @app.page("/readyz")
    async def readyz(self: View, request: Request) -> Response:
        report = health.report()
        return self.json(report, status=200 if report["ready"] else 503)
