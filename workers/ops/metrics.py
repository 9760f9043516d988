"""Prometheus metrics of a worker, served on ``/metrics``.

Names follow the Prometheus conventions (``newsflow_`` prefix, base units, ``_total`` for
counters). Labels stay bounded: stage, reason, outcome, enricher, topic and partition; never
a document id or a URL. The process collectors of prometheus-client add CPU and RSS
(``process_cpu_seconds_total``, ``process_resident_memory_bytes``).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, Info

# Stage work is tens of milliseconds; extraction of a huge page can take seconds.
_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# From the crawler's fetch to the sink: sub-second when healthy, hours in a backlog.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600)

MESSAGES_IN = Counter("newsflow_messages_in", "Messages read from the input topic.", ["stage"])
MESSAGES_OUT = Counter(
    "newsflow_messages_out", "Records the broker acknowledged on the output topic.", ["stage"]
)
MESSAGES_FAILED = Counter(
    "newsflow_messages_failed", "Messages that became dead letters.", ["stage"]
)
DEAD_LETTERS = Counter(
    "newsflow_dead_letters", "Dead letters written, by reason.", ["stage", "reason"]
)
EXTRACTION_OUTCOMES = Counter(
    "newsflow_extraction_outcomes",
    "Outcome of the cleaning stage per page: ok or the dead-letter reason, and the path of "
    "the extraction chain that produced the text (none for a dead letter).",
    ["outcome", "path"],
)
RETRIES = Counter(
    "newsflow_retries",
    "Attempts repeated: transient (dependency away, with backoff) or internal (a bug).",
    ["stage", "kind"],
)
STAGE_SECONDS = Histogram(
    "newsflow_stage_duration_seconds",
    "Time in the stage function per message (parse, extract or enrich, validate).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
ENRICHER_SECONDS = Histogram(
    "newsflow_enricher_duration_seconds",
    "Time per document in each enricher.",
    ["enricher"],
    buckets=_STAGE_BUCKETS,
)
DELIVERY_SECONDS = Histogram(
    "newsflow_delivery_duration_seconds",
    "From send to the broker's acknowledgement of an output or dead letter.",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
END_TO_END_SECONDS = Histogram(
    "newsflow_end_to_end_latency_seconds",
    "From the crawler's fetch (raw fetched_at) to the sink record's acknowledgement.",
    buckets=_LATENCY_BUCKETS,
)
PIPELINE_SECONDS = Histogram(
    "newsflow_pipeline_latency_seconds",
    "From the raw message's broker timestamp to the sink record's acknowledgement.",
    buckets=_LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    "newsflow_in_flight_messages", "Messages taken but not yet acknowledged.", ["stage"]
)
ASSIGNED_PARTITIONS = Gauge(
    "newsflow_assigned_partitions", "Input partitions assigned to this worker.", ["stage"]
)
LAG_MESSAGES = Gauge(
    "newsflow_consumer_lag_messages",
    "Messages in an assigned partition not yet processed by this worker.",
    ["stage", "topic", "partition"],
)
LAG_SECONDS = Gauge(
    "newsflow_consumer_lag_seconds",
    "Age of the oldest unprocessed message of an assigned partition (0 when caught up).",
    ["stage", "topic", "partition"],
)
LAST_PROGRESS = Gauge(
    "newsflow_partition_last_progress_timestamp_seconds",
    "Unix time this worker last finished a message of the partition, or was assigned it.",
    ["stage", "topic", "partition"],
)
READY = Gauge("newsflow_worker_ready", "1 when connected to the broker and assigned.", ["stage"])
HEALTHY = Gauge(
    "newsflow_worker_healthy", "1 when the poll loop and every partition make progress.", ["stage"]
)
REDIS_UP = Gauge("newsflow_redis_up", "1 when Redis answered the last PING.")
WORKER = Info("newsflow_worker", "Worker identity.")


def iso_to_unix(value: str | None) -> float | None:
    """Unix time of an RFC 3339 timestamp, or None."""
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class TimedEnricher:
    """An enricher that notes its duration in ``timings`` (seconds by enricher name).

    The worker observes ``newsflow_enricher_duration_seconds`` from the notes it gets back
    with each output, so the metric is right wherever the stage ran (this process or a
    stage process, :mod:`workers.runtime.runner`).
    """

    def __init__(self, enricher: Any, timings: dict[str, float]):
        self.enricher = enricher
        self.name = enricher.name
        self.version = enricher.version
        self._timings = timings

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return self.enricher(article)
        finally:
            self._timings[self.name] = time.perf_counter() - started
