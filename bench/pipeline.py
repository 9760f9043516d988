"""Pipeline benchmark: the stage functions in a loop versus the pipeline on the local broker.

    python bench/pipeline.py [--messages 2000] [--latency-s 40] [--profile DIR]

On the same real pages (the WCXB dev articles in ``../shared/data``, repeated with a
``?rep=N`` query so each message is its own document), measured side by side in one run:

1. baseline: ``clean_message`` then ``enrich_message`` in a loop in this process;
2. the pipeline with one clean and one enrich worker (real ``python -m workers worker``
   processes on a local Tansu broker): throughput at the sink with a backlog, then
   end-to-end latency at a steady offered load of half that throughput;
3. the pipeline with two clean and two enrich workers (throughput with a backlog);
4. one stage alone with one and with two replicas (``--config LABEL:0:N`` runs N enrich workers
   on the baseline's clean records, ``LABEL:N:0`` N clean workers up to the clean topic), so
   "two replicas of the bottleneck" is measured on the stage itself;

plus a micro-benchmark of the per-message envelope (decode, validate, encode) with orjson and
with the standard library's json. Prints one Markdown table per part.

CPU per page comes from /proc/<pid>/stat (user + system) of each worker and its descendants
(stage processes, ``NEWSFLOW_STAGE_PROCESSES``) over the measured window divided by the
messages that worker read; memory is VmHWM (peak) summed over the worker's processes (an
upper bound: shared pages count once per process) and their proportional set size (Pss).
Latency is the sink record's broker timestamp minus the raw record's
(``timestamps.raw_produced``). "Per consumed core" = pages per CPU-second of the workers
(the broker's CPU is reported beside it, not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wcxb import DEFAULT_DATA, page_ids, read_page  # noqa: E402

from workers.cleaning.stage import clean_message  # noqa: E402
from workers.cleaning.stage import warm_up as warm_up_clean  # noqa: E402
from workers.enrichment.enrichers import build_enrichers  # noqa: E402
from workers.enrichment.stage import enrich_message  # noqa: E402
from workers.kafka.produce import encode_raw, raw_record  # noqa: E402
from workers.local.broker import (  # noqa: E402
    LOCAL_FETCH_WAIT,
    LocalBroker,
    free_port,
    isolated_settings,
)
from workers.local.processes import descendants  # noqa: E402
from workers.records import contracts  # noqa: E402
from workers.records.message import InputMessage  # noqa: E402
from workers.settings import Settings  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- pages -------------------------------------------------------------------------------


def load_pages(data: Path) -> list[tuple[str, bytes]]:
    """(url, html bytes) of every page, in file order."""
    pages = []
    for page_id in page_ids(data):
        body, record = read_page(data, page_id)
        pages.append((record["url"], body))
    return pages


def with_rep(url: str, rep: int) -> str:
    """A distinct document per repetition: the normalised URL keeps the query parameter."""
    base = url.partition("#")[0]
    return f"{base}{'&' if '?' in base else '?'}rep={rep}"


def raw_messages(pages: list[tuple[str, bytes]], count: int, first_rep: int) -> list[tuple]:
    """``count`` (key, value, headers) raw-html.v1 messages cycling through ``pages``."""
    out = []
    for i in range(count):
        url, body = pages[i % len(pages)]
        record = raw_record(body, with_rep(url, first_rep + i // len(pages)), content_type=None)
        out.append(encode_raw(record))
    return out


# --- process measurements ------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (a worker's stage processes and their forkserver)."""
    return [pid, *descendants(pid)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its live descendants."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS summed over ``pid`` and its descendants (an upper bound: pages the
    stage processes share with their forkserver count once per process), plus the tree's
    proportional set size (Pss), which counts shared pages once."""
    out = {"VmHWM": 0.0, "VmRSS": 0.0, "Pss": 0.0, "processes": 0}
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("VmHWM", "VmRSS"):
                    out[name] += int(rest.split()[0]) / 1024
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out["Pss"] += int(line.split()[1]) / 1024
            out["processes"] += 1
    return out


def scrape(port: int) -> dict[str, float]:
    """The worker's /metrics as {'name{labels}': value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    metrics = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                metrics[name] = float(value)
    return metrics


class Worker:
    def __init__(self, stage: str, settings: Settings, log_dir: Path, env: dict[str, str]):
        self.stage = stage
        self.port = free_port()
        self.log_path = log_dir / f"{stage}-{uuid.uuid4().hex[:6]}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workers", "worker", stage],
                env={
                    **os.environ,
                    **settings.as_env(),
                    **env,
                    "NEWSFLOW_WEB_PORT": str(self.port),
                    "NEWSFLOW_WEB_HOST": "127.0.0.1",
                },
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def metric(self, name: str) -> float:
        try:
            return scrape(self.port).get(f'{name}{{stage="{self.stage}"}}', 0.0)
        except OSError:
            return 0.0

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


# --- the pipeline --------------------------------------------------------------------------


@dataclass
class Sink:
    """Follows the sink and dead-letter topics; records arrival of each key."""

    settings: Settings
    topic: str  # the last stage's output: the sink, or the clean topic for clean alone
    arrived: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    dead: int = 0
    last_ts: float = 0.0

    async def run(self) -> None:
        topics = [self.topic, self.settings.topic_dead_letter]
        consumer = AIOKafkaConsumer(
            **self.settings.kafka_client_kwargs(),
            enable_auto_commit=False,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            consumer.assign(
                [TopicPartition(t, p) for t in topics for p in range(self.settings.partitions)]
            )
            await consumer.seek_to_beginning()
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                for tp, records in batches.items():
                    for record in records:
                        self.last_ts = max(self.last_ts, record.timestamp / 1000)
                        if tp.topic == self.settings.topic_dead_letter:
                            self.dead += 1
                            continue
                        value = orjson.loads(record.value)
                        produced = value["timestamps"].get("raw_produced")
                        produced_s = (
                            datetime.fromisoformat(produced.replace("Z", "+00:00")).timestamp()
                            if produced
                            else None
                        )
                        self.arrived[record.key.decode()] = (record.timestamp / 1000, produced_s)
        finally:
            await consumer.stop()

    def count(self) -> int:
        return len(self.arrived) + self.dead


def pipeline_settings(bootstrap: str, partitions: int) -> Settings:
    return isolated_settings(
        bootstrap,
        tag="b",
        partitions=partitions,
        fetch_max_wait_ms=int(LOCAL_FETCH_WAIT["NEWSFLOW_FETCH_MAX_WAIT_MS"]),
        log_format="json",
    )


async def wait_assigned(workers: list[Worker], partitions: int, timeout_s: float = 60) -> None:
    """Until each stage's workers hold all partitions between them, each at least one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for worker in workers:
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker exited; see {worker.log_path}")
        ok = True
        for stage in {w.stage for w in workers}:
            counts = [w.metric("newsflow_assigned_partitions") for w in workers if w.stage == stage]
            ok = ok and sum(counts) == partitions and min(counts) > 0
        if ok:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("workers did not get their partitions in time")


async def send_all(producer: AIOKafkaProducer, topic: str, messages: list[tuple]) -> None:
    futures = [
        await producer.send(topic, value=value, key=key, headers=headers)
        for key, value, headers in messages
    ]
    await asyncio.gather(*futures)


async def send_paced(
    producer: AIOKafkaProducer, topic: str, messages: list[tuple], rate: float
) -> None:
    started = time.monotonic()
    futures = []
    for i, (key, value, headers) in enumerate(messages):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        futures.append(await producer.send(topic, value=value, key=key, headers=headers))
    await asyncio.gather(*futures)


async def wait_sink(sink: Sink, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while sink.count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"sink has {sink.count()} of {count} after {timeout_s} s")
        await asyncio.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


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

    @property
    def pages_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def worker_cpu_per_page_ms(self) -> float:
        return sum(self.cpu_per_page_ms.values())


async def run_pipeline(
    label: str,
    broker: LocalBroker,
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
) -> PipelineResult:
    """Throughput (and latency) of ``clean`` + ``enrich`` workers. With no clean worker the
    enrich workers alone read ``clean_backlog`` (clean records made by the baseline); with
    no enrich worker the clean workers' output topic is the end."""
    settings = pipeline_settings(broker.bootstrap, partitions)
    from workers.kafka.topics import create_topics

    await create_topics(settings)
    if clean == 0:
        assert clean_backlog, "enrich alone needs the baseline's clean records"
        backlog, source = clean_backlog[:messages], settings.topic_clean
        messages = len(backlog)
    else:
        backlog, source = raw_messages(pages, messages, first_rep=0), settings.topic_raw
    workers = [Worker("clean", settings, work, env) for _ in range(clean)]
    workers += [Worker("enrich", settings, work, env) for _ in range(enrich)]
    sink = Sink(settings, settings.topic_enriched if enrich else settings.topic_clean)
    sink_task = asyncio.create_task(sink.run())
    producer = AIOKafkaProducer(
        **settings.kafka_client_kwargs(),
        acks="all",
        linger_ms=5,
        max_request_size=settings.max_message_bytes + 1024 * 1024,
    )
    await producer.start()
    spies: list[subprocess.Popen] = []
    try:
        await wait_assigned(workers, partitions)
        await asyncio.sleep(1.0)  # let the join's last heartbeats and first commits settle
        cpu0 = {w.pid: cpu_seconds(w.pid) for w in workers}
        in0 = {w.pid: w.metric("newsflow_messages_in_total") for w in workers}
        broker0 = cpu_seconds(broker.process.pid)
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
        broker_cpu = cpu_seconds(broker.process.pid) - broker0
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
            rate = result.pages_per_s / 2
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


# --- baseline and envelope ------------------------------------------------------------------


@dataclass
class BaselineResult:
    pages: int
    seconds: float
    cpu_ms: dict[str, float]
    failed: int
    page_ms: dict[int, float] = field(default_factory=dict)
    # (key, value, headers) of each page's clean record: the input of "enrich alone" runs
    clean_records: list[tuple] = field(default_factory=list, repr=False)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds

    @property
    def cpu_per_page_ms(self) -> float:
        return sum(self.cpu_ms.values())


def run_baseline(pages: list[tuple[str, bytes]], count: int) -> BaselineResult:
    """clean_message then enrich_message for each page, in this process (models loaded once)."""
    settings = Settings()
    enrichers = build_enrichers(settings)
    article = warm_up_clean(settings)
    for enricher in enrichers:
        enricher(article)
    now_ms = int(time.time() * 1000)
    inputs = [
        InputMessage(value, offset=i, timestamp_ms=now_ms, key=key, headers=tuple(headers))
        for i, (key, value, headers) in enumerate(raw_messages(pages, count, first_rep=0))
    ]
    cpu = {"clean": 0.0, "enrich": 0.0}
    per_page: list[float] = []
    clean_records: list[tuple] = []
    failed = 0
    wall0 = time.perf_counter()
    for message in inputs:
        t0 = time.process_time()
        try:
            record = clean_message(message, settings)
        except Exception:
            failed += 1
            cpu["clean"] += time.process_time() - t0
            continue
        t1 = time.process_time()
        cpu["clean"] += t1 - t0
        clean_value = InputMessage(orjson.dumps(record), offset=message.offset)
        clean_records.append((record["document_id"].encode(), clean_value.value, []))
        enrich_message(clean_value, settings, enrichers)
        cpu["enrich"] += time.process_time() - t1
        per_page.append(1000 * (time.process_time() - t0))
    seconds = time.perf_counter() - wall0
    return BaselineResult(
        pages=count,
        seconds=seconds,
        cpu_ms={k: 1000 * v / count for k, v in cpu.items()},
        failed=failed,
        page_ms={q: percentile(per_page, q) for q in (50, 95, 99)} if per_page else {},
        clean_records=clean_records,
    )


def envelope_bench(pages: list[tuple[str, bytes]], n: int = 200) -> list[dict[str, Any]]:
    """Per message: decode + validate + encode, orjson versus json, for each topic's records."""
    settings = Settings()
    enrichers = build_enrichers(settings)
    raws = [value for _, value, _ in raw_messages(pages[:n], min(n, len(pages)), first_rep=0)]
    cleans, enricheds = [], []
    for value in raws:
        try:
            record = clean_message(InputMessage(value, timestamp_ms=0), settings)
        except Exception:
            continue
        cleans.append(orjson.dumps(record))
        enriched = enrich_message(InputMessage(cleans[-1]), settings, enrichers)
        enricheds.append(orjson.dumps(enriched))
    rows = []
    for schema, values in (
        ("raw-html.v1", raws),
        ("articles-clean.v1", cleans),
        ("articles-enriched.v1", enricheds),
    ):
        size = statistics.mean(len(v) for v in values)
        row: dict[str, Any] = {"schema": schema, "kb": size / 1024}
        for lib, loads, dumps in (
            ("orjson", orjson.loads, orjson.dumps),
            ("json", json.loads, lambda r: json.dumps(r, ensure_ascii=False).encode()),
        ):
            for part in ("decode", "validate", "encode"):
                row[f"{lib}_{part}"] = 0.0
            for _ in range(3):  # best of three passes
                t = {"decode": 0.0, "validate": 0.0, "encode": 0.0}
                for value in values:
                    a = time.perf_counter()
                    record = loads(value)
                    b = time.perf_counter()
                    contracts.validate(record, schema)
                    c = time.perf_counter()
                    dumps(record)
                    d = time.perf_counter()
                    t["decode"] += b - a
                    t["validate"] += c - b
                    t["encode"] += d - c
                for part, total in t.items():
                    us = 1e6 * total / len(values)
                    best = row[f"{lib}_{part}"]
                    row[f"{lib}_{part}"] = us if best == 0 else min(best, us)
        rows.append(row)
    return rows


# --- report ---------------------------------------------------------------------------------


def fmt_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(
    baseline: BaselineResult, results: list[PipelineResult], envelope: list[dict[str, Any]]
) -> str:
    base_per_core = 1000 / baseline.cpu_per_page_ms
    rows = [
        [
            "baseline: stage functions in a loop, 1 process",
            f"{baseline.pages_per_s:.1f}",
            f"{baseline.cpu_ms['clean']:.1f}",
            f"{baseline.cpu_ms['enrich']:.1f}",
            f"{base_per_core:.1f}",
            "1.00",
            "-",
            "-",
            "-",
            "-",
        ]
    ]
    stages = ("clean", "enrich")

    def per_stage(values: dict[str, float], fmt: str) -> list[str]:
        return [format(values[stage], fmt) if stage in values else "-" for stage in stages]

    for r in results:
        per_core = 1000 / r.worker_cpu_per_page_ms
        # A stage run alone is compared with that stage's share of the baseline.
        base = 1000 / sum(baseline.cpu_ms[stage] for stage in r.cpu_per_page_ms)
        lat = (
            f"{r.latency_ms['p50']:.0f} / {r.latency_ms['p95']:.0f} / {r.latency_ms['p99']:.0f}"
            f" at {r.latency_rate:.1f}/s (n={r.latency_n})"
            if r.latency_ms
            else "-"
        )
        peak, pss = (
            {
                stage: max(m[key] for m in r.rss if m["stage"] == stage)
                for stage in stages
                if any(m["stage"] == stage for m in r.rss)
            }
            for key in ("VmHWM", "Pss")
        )
        rows.append(
            [
                f"{r.label}: {r.replicas[0]} clean + {r.replicas[1]} enrich workers",
                f"{r.pages_per_s:.1f}",
                *per_stage(r.cpu_per_page_ms, ".1f"),
                f"{per_core:.1f}",
                f"{per_core / base:.2f}",
                " + ".join(per_stage(r.cores, ".2f"))
                + f" (broker {r.broker_cpu_per_page_ms:.1f} ms/page)",
                lat,
                " / ".join(per_stage(peak, ".0f")),
                " / ".join(per_stage(pss, ".0f")),
            ]
        )
    table = fmt_table(
        [
            "run",
            "pages/s",
            "clean CPU ms/page",
            "enrich CPU ms/page",
            "pages per CPU-s",
            "vs baseline (per core)",
            "cores used clean + enrich",
            "latency p50/p95/p99 ms",
            "peak RSS MB clean / enrich",
            "PSS MB clean / enrich",
        ],
        rows,
    )
    env_rows = []
    for row in envelope:
        for lib in ("orjson", "json"):
            parts = [row[f"{lib}_{p}"] for p in ("decode", "validate", "encode")]
            env_rows.append(
                [row["schema"], f"{row['kb']:.1f}", lib]
                + [f"{p:.0f}" for p in parts]
                + [f"{sum(parts):.0f}"]
            )
    env_table = fmt_table(
        ["record", "avg KB", "library", "decode µs", "validate µs", "encode µs", "total µs"],
        env_rows,
    )
    notes = []
    # Each run against the first run of the same label with half its replicas of every stage.
    for two in results:
        one = next(
            (r for r in results if r.label == two.label and 2 * sum(r.replicas) == sum(two.replicas)
             and all(2 * a == b for a, b in zip(r.replicas, two.replicas, strict=True))),
            None,
        )  # fmt: skip
        if one is None:
            continue
        broker_cores = [r.broker_cpu_per_page_ms * r.pages_per_s / 1000 for r in (one, two)]
        notes.append(
            f"{two.label} {'+'.join(map(str, two.replicas))} vs "
            f"{'+'.join(map(str, one.replicas))}: throughput "
            f"x{two.pages_per_s / one.pages_per_s:.2f}; worker CPU per page "
            f"x{two.worker_cpu_per_page_ms / one.worker_cpu_per_page_ms:.2f}; cores used by "
            f"the workers {sum(one.cores.values()):.2f} and {sum(two.cores.values()):.2f}, by "
            f"the broker {broker_cores[0]:.2f} and {broker_cores[1]:.2f}"
        )
    if baseline.page_ms:
        notes.append(
            "stage functions' own CPU per page (clean + enrich) in the baseline: p50 / p95 / p99 "
            + " / ".join(f"{baseline.page_ms[q]:.0f}" for q in (50, 95, 99))
            + " ms"
        )
    return "\n\n".join([table, env_table, *notes])


async def pipelines(
    args: argparse.Namespace, pages: list[tuple[str, bytes]], clean_backlog: list[tuple]
) -> list:
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    print(f"logs in {work}", file=sys.stderr)
    results = []
    configs = [(label, c, e, lat) for label, c, e, lat in args.configs]
    with LocalBroker(log_path=work / "broker.log") as broker:
        for label, clean, enrich, latency in configs:
            env = dict(kv.split("=", 1) for kv in args.env.get(label, []))
            print(f"· {label}: {clean} clean + {enrich} enrich", file=sys.stderr)
            result = await run_pipeline(
                label,
                broker,
                pages,
                clean=clean,
                enrich=enrich,
                messages=args.messages,
                partitions=args.partitions,
                latency_s=args.latency_s if latency else 0,
                work=work,
                profile=args.profile,
                env=env,
                clean_backlog=clean_backlog,
            )
            print(
                f"  {result.pages_per_s:.1f} pages/s, CPU ms/page {result.cpu_per_page_ms}, "
                f"latency {result.latency_ms}, mean wall ms in stage/delivery {result.wall_ms}",
                file=sys.stderr,
            )
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--messages", type=int, default=2000, help="pages per pipeline run")
    parser.add_argument("--baseline-pages", type=int, default=711)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--latency-s", type=float, default=40.0, help="latency phase length")
    parser.add_argument("--profile", type=Path, help="py-spy raw profiles of every worker here")
    parser.add_argument(
        "--config",
        action="append",
        dest="config_specs",
        metavar="LABEL:CLEAN:ENRICH[:latency][:ENV=VALUE...]",
        help="pipeline runs (default: 1+1 with latency, then 2+2)",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    args.configs, args.env = [], {}
    for spec in args.config_specs or ["pipeline:1:1:latency", "pipeline:2:2"]:
        label, clean, enrich, *rest = spec.split(":")
        latency = "latency" in rest
        args.configs.append((label, int(clean), int(enrich), latency))
        args.env[label] = [r for r in rest if "=" in r]

    pages = load_pages(args.data)
    print(
        f"{len(pages)} pages, {sum(len(b) for _, b in pages) / len(pages) / 1024:.0f} KB HTML "
        f"on average; {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )
    envelope = envelope_bench(pages)
    baseline = None
    if not args.skip_baseline:
        print(f"· baseline over {args.baseline_pages} pages", file=sys.stderr)
        baseline = run_baseline(pages, args.baseline_pages)
        print(f"  {baseline.pages_per_s:.1f} pages/s, {baseline.cpu_ms}", file=sys.stderr)
    results = asyncio.run(pipelines(args, pages, baseline.clean_records if baseline else []))
    if baseline is None:
        baseline = BaselineResult(1, 1.0, {"clean": float("nan"), "enrich": 0.0}, 0)
    print(
        f"{datetime.now().isoformat(timespec='minutes')} · {os.cpu_count()} cores · "
        f"load at end {os.getloadavg()[0]:.2f} · {args.messages} messages per pipeline run, "
        f"{args.partitions} partitions"
    )
    print()
    print(report(baseline, results, envelope))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "baseline": {
                        k: v for k, v in baseline.__dict__.items() if k != "clean_records"
                    },
                    "pipelines": [r.__dict__ for r in results],
                    "envelope": envelope,
                },
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
