"""Prometheus metrics of a worker, served on ``/metrics``.

Names follow the Prometheus conventions (``newsflow_`` prefix, base units, ``_total`` for
counters). Labels stay bounded: stage, reason, outcome, enricher, topic and partition; never
a document id or a URL. The process collectors of prometheus-client add CPU and RSS
(``process_cpu_seconds_total``, ``process_resident_memory_bytes``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, get_args

from prometheus_client import Counter, Gauge, Histogram, Info

from workers.errors import Reason
from workers.records.clock import rfc3339_to_unix

if TYPE_CHECKING:
    from workers.pipeline import StageSpec
    from workers.records.outgoing import Outgoing

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


def announce_worker(spec: StageSpec, labels: dict[str, str], parts: Iterable[str] = ()) -> None:
    """Publish the worker's identity, and its stage's counters and histograms at 0.

    A series that first appears with its counts already up hides that increase from
    ``rate()``: the throughput, dead-letter and latency panels would miss a first burst
    between two scrapes, or show NaN (Prometheus's advice: initialise the label sets known
    in advance). Reasons are the bounded set of :data:`workers.errors.Reason`.
    """
    WORKER.info(labels)
    for family in (MESSAGES_IN, MESSAGES_OUT, MESSAGES_FAILED, STAGE_SECONDS, DELIVERY_SECONDS):
        family.labels(spec.name)
    for reason in get_args(Reason):
        DEAD_LETTERS.labels(spec.name, reason)
    if spec.extraction_paths:
        for path in spec.extraction_paths:
            EXTRACTION_OUTCOMES.labels("ok", path)
        for reason in get_args(Reason):
            EXTRACTION_OUTCOMES.labels(reason, "none")
    for name in parts:
        ENRICHER_SECONDS.labels(name)


def observe_outcome(spec: StageSpec, outgoing: Outgoing) -> None:
    """Count one finished message of stage ``spec``: its outcome, durations and latency."""
    STAGE_SECONDS.labels(spec.name).observe(outgoing.elapsed_ms / 1000)
    if outgoing.internal_failures:
        RETRIES.labels(spec.name, "internal").inc(outgoing.internal_failures)
    for name, seconds in (outgoing.part_seconds or {}).items():
        ENRICHER_SECONDS.labels(name).observe(seconds)
    if spec.extraction_paths:
        EXTRACTION_OUTCOMES.labels(outgoing.outcome, outgoing.extraction_path or "none").inc()
    if outgoing.outcome != "ok":
        MESSAGES_FAILED.labels(spec.name).inc()
        DEAD_LETTERS.labels(spec.name, outgoing.outcome).inc()
        return
    MESSAGES_OUT.labels(spec.name).inc()
    if spec.writes_sink and outgoing.timestamps:
        now = time.time()
        fetched = rfc3339_to_unix(outgoing.timestamps.get("fetched"))
        produced = rfc3339_to_unix(outgoing.timestamps.get("raw_produced"))
        if fetched is not None:
            END_TO_END_SECONDS.observe(max(0.0, now - fetched))
        if produced is not None:
            PIPELINE_SECONDS.observe(max(0.0, now - produced))
