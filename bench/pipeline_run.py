"""One pipeline run of the benchmark: throughput with a backlog, then latency at a steady
load, CPU and memory of every worker (``run_pipeline``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.pipeline_inputs import percentile, raw_messages
from bench.pipeline_naive import spawn_naive
from bench.pipeline_workers import (
    REPO,
    BenchBroker,
    Sink,
    Worker,
    bench_producer,
    pipeline_settings,
    scrape,
    send_all,
    send_paced,
    wait_assigned,
    wait_sink,
)
from bench.procfs import cpu_seconds, memory_mb
from workers.kafka.topics import create_topics
from workers.local.processes import stop_process


@dataclass
class PipelineResult:
    label: str
    replicas: tuple[int, int]
    messages: int
    seconds: float
    dead: int
    cpu_per_page_ms: dict[str, float]
    cores: dict[str, float]
    broker_cpu_per_page_ms: float
    rss: list[dict[str, Any]]
    latency_ms: dict[str, float] | None = None
    latency_rate: float | None = None
    latency_n: int = 0
    wall_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    latency_legs: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def worker_cpu_per_page_ms(self) -> float:
        return sum(self.cpu_per_page_ms.values())


async def run_pipeline(
    label: str,
    broker: BenchBroker,
    pages: list[tuple[str, bytes]],
    *,
    clean: int,
    enrich: int,
    messages: int,
    partitions: int,
    latency_s: float,
    work: Path,
    profile: Path | None,
    env: dict[str, str],
    clean_backlog: list[tuple] | None = None,
    latency_rate: float | None = None,
) -> PipelineResult:
    """Throughput (and latency) of ``clean`` + ``enrich`` workers. With no clean worker the
    enrich workers alone read ``clean_backlog`` (clean records made by the baseline); with
    no enrich worker the clean workers' output topic is the end. The latency phase offers
    ``latency_rate`` pages a second (default: half of this run's own throughput)."""
    # The sink reads as the workers write (read_committed with exactly_once).
    guarantee = env.get("NEWSFLOW_PROCESSING_GUARANTEE", "at_least_once")
    settings = pipeline_settings(broker, partitions, processing_guarantee=guarantee)
    await create_topics(settings)
    if clean == 0:
        assert clean_backlog, "enrich alone needs the baseline's clean records"
        backlog, source = clean_backlog[:messages], settings.topic_clean
        messages = len(backlog)
    else:
        backlog, source = raw_messages(pages, messages, first_rep=0), settings.topic_raw
    workers = [Worker("clean", settings, work, env) for _ in range(clean)]
    workers += [Worker("enrich", settings, work, env) for _ in range(enrich)]
    sink = Sink(
        settings,
        settings.topic_enriched if enrich else settings.topic_clean,
        via=settings.topic_clean if clean and enrich else None,
        # a transactional output is readable at its commit, not at its broker timestamp
        read_time=guarantee == "exactly_once",
    )
    sink_task = asyncio.create_task(sink.run())
    producer = bench_producer(settings)
    await producer.start()
    spies: list[subprocess.Popen] = []
    try:
        await wait_assigned(workers, partitions)
        await asyncio.sleep(1.0)  # let the join's last heartbeats and first commits settle
        cpu0 = {w.pid: cpu_seconds(w.pid) for w in workers}
        in0 = {w.pid: w.metric("newsflow_messages_in_total") for w in workers}
        broker0 = cpu_seconds(broker.pid)
        if profile:
            profile.mkdir(parents=True, exist_ok=True)
            for w in workers:
                out = profile / f"{label}-{w.stage}-{w.pid}.txt"
                spies.append(
                    subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "--pid",
                            str(w.pid),
                            "--format",
                            "raw",
                            "--rate",
                            "50",
                            "--output",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        started = time.time()
        await send_all(producer, source, backlog)
        await wait_sink(sink, messages, timeout_s=max(600, messages))
        seconds = sink.last_ts - started
        for spy in spies:
            spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
        cpu = {w.pid: cpu_seconds(w.pid) - cpu0[w.pid] for w in workers}
        timing = {}
        for w in workers:
            m = scrape(w.port)
            label_ = f'{{stage="{w.stage}"}}'
            timing[f"{w.stage}-{w.pid}"] = {
                part: m.get(f"newsflow_{part}_duration_seconds_sum{label_}", 0.0)
                / max(m.get(f"newsflow_{part}_duration_seconds_count{label_}", 0.0), 1)
                * 1000
                for part in ("stage", "delivery")
            }
        read = {w.pid: w.metric("newsflow_messages_in_total") - in0[w.pid] for w in workers}
        broker_cpu = cpu_seconds(broker.pid) - broker0
        cpu_per_page = {}
        cores = {}
        for stage in [s for s, n in (("clean", clean), ("enrich", enrich)) if n]:
            stage_cpu = sum(cpu[w.pid] for w in workers if w.stage == stage)
            stage_read = sum(read[w.pid] for w in workers if w.stage == stage)
            cpu_per_page[stage] = 1000 * stage_cpu / max(stage_read, 1)
            cores[stage] = stage_cpu / seconds
        result = PipelineResult(
            label=label,
            replicas=(clean, enrich),
            messages=messages,
            seconds=seconds,
            dead=sink.dead,
            cpu_per_page_ms=cpu_per_page,
            cores=cores,
            broker_cpu_per_page_ms=1000 * broker_cpu / messages,
            rss=[],
            wall_ms=timing,
        )
        if latency_s > 0 and clean and enrich:
            rate = latency_rate or result.pages_per_s / 2
            count = max(20, int(rate * latency_s))
            paced = raw_messages(pages, count, first_rep=1000)
            keys = [key.decode() for key, _, _ in paced]
            before = sink.count()
            await send_paced(producer, settings.topic_raw, paced, rate)
            await wait_sink(sink, before + count, timeout_s=max(120, latency_s * 3))
            latencies = [
                1000 * (sink.arrived[k][0] - sink.arrived[k][1])
                for k in keys
                if k in sink.arrived and sink.arrived[k][1] is not None
            ]
            result.latency_rate = rate
            result.latency_n = len(latencies)
            result.latency_legs = latency_legs(sink, keys)
            result.latency_ms = {
                "p50": percentile(latencies, 50),
                "p95": percentile(latencies, 95),
                "p99": percentile(latencies, 99),
                "max": max(latencies),
            }
        result.rss = [{"stage": w.stage, "pid": w.pid, **memory_mb(w.pid)} for w in workers]
        return result
    finally:
        for spy in spies:
            if spy.poll() is None:
                spy.send_signal(2)
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        await producer.stop()
        sink_task.cancel()
        await asyncio.gather(sink_task, return_exceptions=True)
        codes = [w.stop() for w in workers]
        if any(code not in (0, -15) for code in codes):
            print(f"warning: worker exit codes {codes}; logs in {work}", file=sys.stderr)


def latency_legs(sink: Sink, keys: list[str]) -> dict[str, dict[str, float]]:
    """p50/p95/p99 ms of each leg of the produce-to-sink latency: raw produced → clean's stamp
    (waiting for and running the clean stage), → enrich's stamp (clean's output reaching the
    enrich worker, waiting, running the enrich stage), → the sink record's timestamp (enrich's
    output handed to its producer). "to received": from a stamp to this process receiving the
    record (the output's hand-off to the wire and a fetch); "produced to received" is the
    latency a downstream consumer sees."""
    rows: dict[str, list[float]] = {
        "to cleaned": [],
        "cleaned to received": [],
        "to enriched": [],
        "enriched to received": [],
        "to sink": [],
        "produced to received": [],
    }
    for key in keys:
        if key not in sink.arrived or key not in sink.legs:
            continue
        (sink_ts, produced), (cleaned, enriched) = sink.arrived[key], sink.legs[key]
        if None in (produced, cleaned, enriched):
            continue
        rows["to cleaned"].append(1000 * (cleaned - produced))  # type: ignore[operator]
        rows["to enriched"].append(1000 * (enriched - cleaned))  # type: ignore[operator]
        rows["to sink"].append(1000 * (sink_ts - enriched))  # type: ignore[operator]
        if key in sink.via_received and key in sink.received:
            rows["cleaned to received"].append(1000 * (sink.via_received[key] - cleaned))  # type: ignore[operator]
            rows["enriched to received"].append(1000 * (sink.received[key] - enriched))  # type: ignore[operator]
            rows["produced to received"].append(1000 * (sink.received[key] - produced))  # type: ignore[operator]
    return {
        leg: {f"p{q}": percentile(values, q) for q in (50, 95, 99)}
        for leg, values in rows.items()
        if values
    }


async def run_naive(
    broker: BenchBroker,
    pages: list[tuple[str, bytes]],
    *,
    messages: int,
    partitions: int,
    work: Path,
) -> PipelineResult:
    """Throughput and CPU per page of the naive loop (bench/pipeline_naive.py), one process
    consuming the raw topic and producing to the sink, measured like a worker."""
    settings = pipeline_settings(broker, partitions)
    await create_topics(settings)
    log_path = work / "naive.log"
    process = spawn_naive(
        broker.bootstrap,
        settings.clean_group,
        settings.topic_raw,
        settings.topic_enriched,
        log_path,
        REPO,
    )
    sink = Sink(settings, settings.topic_enriched)
    sink_task = asyncio.create_task(sink.run())
    producer = bench_producer(settings)
    await producer.start()
    try:
        # Join the group on a first page, so the measured window holds no model loading.
        warm = raw_messages(pages, 1, first_rep=5000)
        await send_all(producer, settings.topic_raw, warm)
        await wait_sink(sink, 1, timeout_s=180)
        if process.poll() is not None:
            raise RuntimeError(f"the naive loop exited; see {log_path}")
        backlog = raw_messages(pages, messages, first_rep=0)
        cpu0, broker0 = cpu_seconds(process.pid), cpu_seconds(broker.pid)
        started = time.time()
        await send_all(producer, settings.topic_raw, backlog)
        await wait_sink(sink, messages + 1, timeout_s=max(600, 2 * messages))
        seconds = sink.last_ts - started
        cpu = cpu_seconds(process.pid) - cpu0
        broker_cpu = cpu_seconds(broker.pid) - broker0
        return PipelineResult(
            label="naive",
            replicas=(0, 0),
            messages=messages,
            seconds=seconds,
            dead=0,
            cpu_per_page_ms={"naive": 1000 * cpu / messages},
            cores={"naive": cpu / seconds},
            broker_cpu_per_page_ms=1000 * broker_cpu / messages,
            rss=[{"stage": "naive", "pid": process.pid, **memory_mb(process.pid)}],
        )
    finally:
        await producer.stop()
        sink_task.cancel()
        await asyncio.gather(sink_task, return_exceptions=True)
        stop_process(process, 30)
