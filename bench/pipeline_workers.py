"""The pipeline benchmark's moving parts: worker processes (``python -m workers worker``) and
their metrics, the sink follower, and the producers that feed the raw topic."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from workers.kafka import clients
from workers.local.broker import LOCAL_FETCH_WAIT, LocalBroker, free_port, isolated_settings
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings

REPO = Path(__file__).resolve().parent.parent


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
        env = {
            **os.environ,
            **settings.as_env(),
            **env,
            "NEWSFLOW_WEB_PORT": str(self.port),
            "NEWSFLOW_WEB_HOST": "127.0.0.1",
        }
        # BENCH_CHECKOUT=DIR: this worker runs another checkout's code (before/after runs)
        checkout = Path(env.pop("BENCH_CHECKOUT", REPO))
        if checkout != REPO:
            env["PYTHONPATH"] = str(checkout)
        self.process = spawn_worker(stage, env, self.log_path, cwd=checkout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def metric(self, name: str) -> float:
        try:
            return scrape(self.port).get(f'{name}{{stage="{self.stage}"}}', 0.0)
        except OSError:
            return 0.0

    def stop(self) -> int:
        return stop_process(self.process, 30)


@dataclass
class Sink:
    """Follows the sink and dead-letter topics; records arrival of each key."""

    settings: Settings
    topic: str  # the last stage's output: the sink, or the clean topic for clean alone
    arrived: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    # when the clean and the enrich stage stamped each key's record (what the latency is made of)
    legs: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    # when this process received each key's clean record (``via``) and sink record: after the
    # stamp, how long a worker's output took to reach a consumer (hand-off, wire, fetch)
    via: str | None = None
    via_received: dict[str, float] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)
    dead: int = 0
    last_ts: float = 0.0
    # Every record as often as it came (a copy counts again): sink records by key, dead
    # letters by the key of the input each rejects; when this reader got each (gaps).
    copies: Counter[str] = field(default_factory=Counter)
    dead_sources: Counter[str] = field(default_factory=Counter)
    dead_reasons: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    # When a record counts as arrived: its broker timestamp (set when it was written), or the
    # moment this reader got it, which is what a read_committed reader of transactional
    # outputs waits for (the commit comes after the write).
    read_time: bool = False

    async def run(self) -> None:
        topics = [self.topic, self.settings.topic_dead_letter, *([self.via] if self.via else [])]
        consumer = AIOKafkaConsumer(
            **self.settings.kafka_client_kwargs(),
            enable_auto_commit=False,
            isolation_level=clients.isolation_level(self.settings),
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
                now = time.time()
                for tp, records in batches.items():
                    if tp.topic == self.via:
                        for record in records:
                            self.via_received.setdefault(record.key.decode(), now)
                        continue
                    for record in records:
                        arrival = now if self.read_time else record.timestamp / 1000
                        self.last_ts = max(self.last_ts, arrival)
                        self.times.append(now)
                        if tp.topic == self.settings.topic_dead_letter:
                            self.dead += 1
                            letter = orjson.loads(record.value)
                            source = base64.b64decode(letter["source"].get("key_base64") or b"")
                            self.dead_sources[source.decode()] += 1
                            self.dead_reasons[source.decode()] = letter["reason"]
                            continue
                        self.copies[record.key.decode()] += 1
                        self.received.setdefault(record.key.decode(), now)
                        stamps = orjson.loads(record.value)["timestamps"]
                        self.arrived[record.key.decode()] = (
                            arrival,
                            _unix(stamps.get("raw_produced")),
                        )
                        self.legs[record.key.decode()] = (
                            _unix(stamps.get("cleaned")),
                            _unix(stamps.get("enriched")),
                        )
        finally:
            await consumer.stop()

    def count(self) -> int:
        return len(self.arrived) + self.dead


@dataclass
class BenchBroker:
    """The broker a bench runs on: its address, its process (for its CPU) and its kind."""

    bootstrap: str
    pid: int
    kafka: bool
    # Apache Kafka's nodes (tests/support/kafka.py), for a bench that restarts one
    cluster: Any = None


@contextlib.contextmanager
def bench_broker(kind: str, work: Path) -> Iterator[BenchBroker]:
    """One Apache Kafka node (``kafka``, from the tests' jars) or the embedded broker."""
    if kind == "kafka":
        from tests.support.kafka import KafkaCluster

        with KafkaCluster(nodes=1, folder=work / "kafka") as kafka:
            process = kafka.nodes[0].process
            assert process is not None
            yield BenchBroker(kafka.bootstrap, process.pid, kafka=True, cluster=kafka)
    else:
        with LocalBroker(log_path=work / "broker.log") as local:
            assert local.process is not None
            yield BenchBroker(local.bootstrap, local.process.pid, kafka=False)


def _unix(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None


def pipeline_settings(broker: BenchBroker, partitions: int, **settings: object) -> Settings:
    # Kafka answers a fetch as soon as data is there: the workers keep their default wait
    # and idempotent producers; the embedded broker needs the short wait and plain producers.
    overrides: dict[str, object] = (
        {"idempotent_producer": True}
        if broker.kafka
        else {"fetch_max_wait_ms": int(LOCAL_FETCH_WAIT["NEWSFLOW_FETCH_MAX_WAIT_MS"])}
    )
    return isolated_settings(
        broker.bootstrap,
        tag="b",
        partitions=partitions,
        log_format="json",
        **overrides,
        **settings,
    )


async def wait_assigned(workers: list[Worker], partitions: int, timeout_s: float = 300) -> None:
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


def bench_producer(settings: Settings) -> AIOKafkaProducer:
    """The bench's own producer of input pages (raw pages are up to the message limit)."""
    return AIOKafkaProducer(
        **settings.kafka_client_kwargs(),
        acks="all",
        linger_ms=5,
        max_request_size=settings.max_message_bytes + 1024 * 1024,
    )


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
