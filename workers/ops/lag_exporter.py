"""``newsflow lag --serve PORT``: the consumer groups' lag as Prometheus series, observed from
outside the workers.

The workers export their own lag, but only while they run: when a whole stage is gone
(crash loop, bad rollout, scaled to nothing) its series vanish with it. This exporter asks
the brokers instead, every ``interval_s`` (:func:`workers.kafka.lag.consumer_lag`): committed
offsets from the group coordinator, log ends from a fetch's high-watermark, and the lag in
seconds as the age of the oldest unconsumed record (the timestamp of the record at the
committed offset; measured, not estimated from rates). It joins no group and commits nothing.

Series (labels ``group``, ``stage``, ``topic``, ``partition``; ``stage`` is the pipeline's
stage of the group, or the group's name for a ``-g`` group of another application):
``newsflow_group_committed_offset`` (absent while the group never committed on the
partition), ``newsflow_group_log_end_offset``, ``newsflow_group_lag_messages`` (from offset 0
when nothing was committed), ``newsflow_group_lag_seconds`` (0 when caught up); and
``newsflow_lag_exporter_up`` (1 when the last refresh read every group), its
``..._last_refresh_timestamp_seconds`` and ``..._refresh_duration_seconds``. After a failed
refresh the partition series are dropped rather than left at stale values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Mapping

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from workers.kafka.lag import PartitionLag, consumer_lag
from workers.ops.web import METRICS_CONTENT_TYPE
from workers.pipeline import STAGES
from workers.settings import Settings

log = logging.getLogger("newsflow.lag-exporter")
_LABELS = ("group", "stage", "topic", "partition")
# How long a refresh waits for the log ends (a fetch per partition), and for everything.
_FETCH_TIMEOUT_S = 10.0
_REFRESH_TIMEOUT_S = 30.0


class LagExporter:
    """The groups' lag gauges in a registry of their own, refreshed from the brokers."""

    def __init__(self, settings: Settings, groups: Mapping[str, str], interval_s: float):
        self.settings = settings
        self.groups = dict(groups)
        self.interval_s = interval_s
        self.stages = {spec.group(settings): name for name, spec in STAGES.items()}
        self.registry = CollectorRegistry()

        def gauge(name: str, doc: str, labels: tuple[str, ...] = _LABELS) -> Gauge:
            return Gauge(name, doc, labels, registry=self.registry)

        self.committed = gauge("newsflow_group_committed_offset", "Group's committed offset")
        self.end = gauge("newsflow_group_log_end_offset", "Partition's log-end offset")
        self.lag = gauge("newsflow_group_lag_messages", "Messages the group has not consumed")
        self.lag_seconds = gauge(
            "newsflow_group_lag_seconds", "Age of the oldest message the group has not consumed"
        )
        self.up = gauge("newsflow_lag_exporter_up", "1: the last refresh read every group", ())
        self.refreshed = gauge(
            "newsflow_lag_exporter_last_refresh_timestamp_seconds",
            "When a refresh last read every group",
            (),
        )
        self.duration = gauge(
            "newsflow_lag_exporter_refresh_duration_seconds", "How long the last refresh took", ()
        )
        self.up.set(0)
        self.ok = False

    def publish(self, rows: list[PartitionLag]) -> None:
        """Replace every partition series with ``rows`` (no await: a scrape sees all or none)."""
        for gauge in (self.committed, self.end, self.lag, self.lag_seconds):
            gauge.clear()
        for row in rows:
            labels = (row.group, self.stages.get(row.group, row.group), row.topic, row.partition)
            if row.committed is not None:
                self.committed.labels(*labels).set(row.committed)
            if row.end is not None:
                self.end.labels(*labels).set(row.end)
            if row.lag is not None:
                self.lag.labels(*labels).set(row.lag)
            if row.lag_seconds is not None:
                self.lag_seconds.labels(*labels).set(row.lag_seconds)

    async def refresh(self) -> None:
        started = time.monotonic()
        try:
            # Bounded, so a broker that accepts connections and answers nothing cannot hold
            # the exporter; the next refresh starts an interval after this one ended.
            rows = await asyncio.wait_for(
                consumer_lag(self.settings, self.groups, timeout_s=_FETCH_TIMEOUT_S),
                _REFRESH_TIMEOUT_S,
            )
        except Exception as exc:  # an unreachable broker, a missing topic: report, go on
            self.publish([])
            self.ok = False
            self.up.set(0)
            log.warning("lag refresh failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        else:
            self.publish(rows)
            self.ok = True
            self.up.set(1)
            self.refreshed.set(time.time())
        self.duration.set(time.monotonic() - started)

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval_s)

    def web_app(self) -> web.Application:
        async def metrics(request: web.Request) -> web.Response:
            return web.Response(
                body=generate_latest(self.registry), content_type=METRICS_CONTENT_TYPE
            )

        async def healthz(request: web.Request) -> web.Response:
            # Alive while refreshes go on, whether or not Kafka answers them (an unreachable
            # Kafka is newsflow_lag_exporter_up 0, not a reason to restart the exporter).
            return web.json_response({"kafka_read": self.ok})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        app.router.add_get("/healthz", healthz)
        return app


async def serve(
    settings: Settings, groups: Mapping[str, str], port: int, interval_s: float
) -> None:
    """Serve /metrics on ``port`` and refresh every ``interval_s`` until SIGTERM or SIGINT."""
    exporter = LagExporter(settings, groups, interval_s)
    runner = web.AppRunner(exporter.web_app(), access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, settings.web_host, port).start()
        log.info(
            "serving consumer lag",
            extra={"port": port, "groups": sorted(groups), "interval_s": interval_s},
        )
        refreshing = asyncio.ensure_future(exporter.run())
        await stop.wait()
        refreshing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing
    finally:
        await runner.cleanup()
