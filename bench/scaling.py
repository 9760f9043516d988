"""Scaling the enrich stage under a steady load on Apache Kafka (``python -m bench.scaling``).

One Kafka node (the tests' jars), the enrich stage alone reading clean records (made once in
this process from the WCXB dev pages, each sent under a new document id), with the production
group timings (session 30 s, heartbeat 3 s, rebalance 60 s: the defaults) unless ``--env``
says otherwise. First one enrich worker's capacity is measured on a backlog; then, at
``--load`` (70 %) of it, offered steadily:

1. steady: one worker (A);
2. scale-out: a second worker (B) starts;
3. scale-in: B is stopped (SIGTERM, as an orchestrator scales in);
4. restart: A is SIGKILLed and started again at once (a crashed container coming back).

Each event's window lasts until the group is settled again (every partition held, each worker
at least one) and ``--phase-s`` more. Per event: sink throughput, the sink's longest gap
(no record at all), the longest a page waited (its send to its arrival at the sink: a stalled
partition shows here even while the others flow), when the group handed out partitions again
(the last "partitions assigned" a worker logged in the window, from the event and from the
new worker's "starting worker": models loaded, the join begins) and duplicates (records
arriving for a document already at the sink). At the end every page sent must be at the sink:
the bench prints how many are missing. ``--modes dynamic static static-leave`` runs the whole
sequence without and with ``NEWSFLOW_INSTANCE_ID`` (static membership), and static with
``NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN`` (a static member asked to stop leaves the group), as
the Kubernetes and compose files deploy it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.pipeline_inputs import load_pages, raw_messages
from bench.pipeline_report import fmt_table
from bench.pipeline_workers import BenchBroker, Worker, bench_broker, scrape
from bench.wcxb import DEFAULT_DATA
from workers.cleaning.stage import clean_message
from workers.kafka.topics import create_topics
from workers.local.broker import isolated_settings
from workers.records.message import InputMessage
from workers.settings import Settings

EVENTS = ("steady", "scale-out", "scale-in", "restart")
# Each mode's worker settings on top of --env; the instance id is added per worker.
MODES = {
    "dynamic": {},
    "static": {},
    "static-leave": {"NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN": "true"},
}


def clean_records(pages: list[tuple[str, bytes]], count: int) -> list[dict]:
    """The clean records of the first ``count`` pages that are articles."""
    settings = Settings(boilerplate_backend="off")
    out = []
    for key, value, headers in raw_messages(pages, count, first_rep=0):
        message = InputMessage(value, offset=0, timestamp_ms=0, key=key, headers=tuple(headers))
        with contextlib.suppress(Exception):
            out.append(clean_message(message, settings=settings))
    return out


def fresh(record: dict, n: int, run: str) -> tuple[bytes, bytes]:
    """``record`` as a new document (its own id and URL), produced now."""
    url = f"{record['url'].partition('#')[0]}#scaling-{run}-{n}"
    doc_id = uuid.uuid5(uuid.NAMESPACE_URL, url).hex
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    value = {
        **record,
        "document_id": doc_id,
        "url": url,
        "timestamps": {**record["timestamps"], "raw_produced": now},
    }
    return doc_id.encode(), orjson.dumps(value)


@dataclass
class Collector:
    """Every sink record: (broker time s, key), and the send time of each key."""

    settings: Settings
    records: list[tuple[float, str]] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.settings.kafka_client_kwargs(),
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )
        await consumer.start()
        try:
            topic = self.settings.topic_enriched
            consumer.assign([TopicPartition(topic, p) for p in range(self.settings.partitions)])
            await consumer.seek_to_beginning()
            while True:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    self.records += [(r.timestamp / 1000, r.key.decode()) for r in batch]
        finally:
            await consumer.stop()

    def distinct(self) -> int:
        return len({key for _, key in self.records})


async def feed(
    producer: AIOKafkaProducer,
    settings: Settings,
    records: list[dict],
    rate: float,
    collector: Collector,
    run: str,
    stop: asyncio.Event,
) -> None:
    """``rate`` new documents a second until ``stop``."""
    started, n = time.monotonic(), 0
    while not stop.is_set():
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        key, value = fresh(records[n % len(records)], n, run)
        collector.sent[key.decode()] = time.time()
        await producer.send(settings.topic_clean, value=value, key=key)
        n += 1


def log_times(workers: list[Worker], name: str) -> list[float]:
    """When the workers logged the event ``name``, in order."""
    times = []
    for worker in workers:
        for line in worker.log_path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                event = orjson.loads(line)
                if isinstance(event, dict) and event.get("event") == name:
                    times.append(datetime.fromisoformat(event["ts"]).timestamp())
    return sorted(times)


async def wait_for(check, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(0.2)


def ready(workers: list[Worker], partitions: int) -> bool:
    def held(worker: Worker) -> float:
        with contextlib.suppress(OSError):
            return scrape(worker.port).get('newsflow_assigned_partitions{stage="enrich"}', 0.0)
        return 0.0

    counts = [held(w) for w in workers]
    return sum(counts) == partitions and min(counts) > 0


def settings_for(broker: BenchBroker, partitions: int) -> Settings:
    """Topics and groups of a run's own, with the production group timings (the defaults),
    not the tests' short ones; the workers' ``--env`` goes on top of these."""
    settings = isolated_settings(
        broker.bootstrap,
        tag="s",
        partitions=partitions,
        log_format="json",
        idempotent_producer=broker.kafka,
        dedup_key_prefix=f"newsflow-bench-{uuid.uuid4().hex[:8]}:",
    )
    timings = ("session_timeout_s", "heartbeat_interval_s", "rebalance_timeout_s")
    defaults = Settings()
    return settings.model_copy(update={name: getattr(defaults, name) for name in timings})


async def capacity(broker: BenchBroker, records: list[dict], args: argparse.Namespace) -> float:
    """Pages a second one enrich worker takes from a backlog of ``--backlog`` records."""
    settings = settings_for(broker, args.partitions)
    await create_topics(settings)
    collector = Collector(settings)
    reading = asyncio.create_task(collector.run())
    worker = Worker("enrich", settings, args.work, args.env)
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), acks="all", linger_ms=5)
    await producer.start()
    try:
        await wait_for(lambda: ready([worker], args.partitions), 600, "worker ready")
        started = time.time()
        for n in range(args.backlog):
            key, value = fresh(records[n % len(records)], n, "capacity")
            await producer.send(settings.topic_clean, value=value, key=key)
        await producer.flush()
        await wait_for(lambda: collector.distinct() >= args.backlog, 900, "backlog")
        return args.backlog / (max(ts for ts, _ in collector.records) - started)
    finally:
        await producer.stop()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await asyncio.to_thread(worker.stop)


async def sequence(
    broker: BenchBroker, records: list[dict], rate: float, mode: str, args: argparse.Namespace
) -> dict:
    """The four events under a steady ``rate``; the timeline the report reads."""
    settings = settings_for(broker, args.partitions)
    await create_topics(settings)
    run = uuid.uuid4().hex[:6]

    def env(name: str) -> dict[str, str]:
        static = {"NEWSFLOW_INSTANCE_ID": f"enrich-{name}-{run}"} if mode != "dynamic" else {}
        return {**args.env, **MODES[mode], **static}

    collector = Collector(settings)
    reading = asyncio.create_task(collector.run())
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), acks="all", linger_ms=5)
    await producer.start()
    a = Worker("enrich", settings, args.work, env("a"))
    workers, events = [a], {}
    stop = asyncio.Event()
    feeding = None
    try:
        await wait_for(lambda: ready([a], args.partitions), 600, "worker A ready")
        feeding = asyncio.create_task(feed(producer, settings, records, rate, collector, run, stop))
        events["steady"] = time.time()
        await asyncio.sleep(args.phase_s)
        # Each event's window: until the group is settled again, then --phase-s of flow.
        events["scale-out"] = time.time()
        b = Worker("enrich", settings, args.work, env("b"))
        workers.append(b)
        await wait_for(lambda: ready([a, b], args.partitions), 900, "A and B sharing")
        await asyncio.sleep(args.phase_s)
        events["scale-in"] = time.time()
        # SIGTERM: it leaves (dynamic, static-leave) or not (static)
        await asyncio.to_thread(b.stop)
        await wait_for(lambda: ready([a], args.partitions), 900, "A alone")
        await asyncio.sleep(args.phase_s)
        events["restart"] = time.time()
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        a2 = Worker("enrich", settings, args.work, env("a"))
        workers.append(a2)
        await wait_for(lambda: ready([a2], args.partitions), 900, "A back")
        await asyncio.sleep(args.phase_s)
        stop.set()
        await feeding
        events["end"] = time.time()
        sent = len(collector.sent)
        with contextlib.suppress(TimeoutError):
            await wait_for(lambda: collector.distinct() >= sent, 300, "every page at the sink")
        return {
            "mode": mode,
            "rate": rate,
            "events": events,
            "records": list(collector.records),
            "sent": dict(collector.sent),
            "assigned": log_times(workers, "partitions assigned"),
            # models loaded, the group join begins
            "started": log_times(workers, "starting worker"),
        }
    finally:
        stop.set()
        if feeding:
            await asyncio.gather(feeding, return_exceptions=True)
        await producer.stop()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        for worker in workers:
            await asyncio.to_thread(worker.stop)


def rows(run: dict) -> list[list[str]]:
    events, records, sent = run["events"], sorted(run["records"]), run["sent"]
    out, seen = [], set()
    first_arrival: dict[str, float] = {}
    for ts, key in records:
        first_arrival.setdefault(key, ts)
    names = [*EVENTS, "end"]
    for name, following in itertools.pairwise(names):
        start, end = events[name], events[following]
        times = [start] + [ts for ts, _ in records if start <= ts < end] + [end]
        gap = max(b - a for a, b in itertools.pairwise(times))
        keys = [k for k, t in sent.items() if start <= t < end]
        waits = [first_arrival[k] - sent[k] for k in keys if k in first_arrival]
        arrived = [key for ts, key in records if start <= ts < end]
        dups = 0
        for key in arrived:
            dups += key in seen
            seen.add(key)
        assigned = [t for t in run["assigned"] if start < t < end]
        started = [t for t in run.get("started", []) if start < t < end]
        out.append(
            [
                f"{run['mode']}: {name}",
                f"{len(arrived) / (end - start):.1f}",
                f"{gap:.1f}",
                f"{max(waits):.1f}" if waits else "-",
                f"{statistics.median(waits):.2f}" if waits else "-",
                f"{assigned[-1] - start:.1f}" if assigned and name != "steady" else "-",
                f"{assigned[-1] - started[0]:.1f}" if assigned and started else "-",
                str(dups),
                str(sum(1 for k in keys if k not in first_arrival)),
            ]
        )
    return out


async def main_async(args: argparse.Namespace) -> list[dict]:
    pages = load_pages(args.data)
    records = clean_records(pages, args.pages)
    print(f"{len(records)} clean records", file=sys.stderr)
    with bench_broker(args.broker, args.work) as broker:
        rate = args.capacity or await capacity(broker, records, args)
        print(f"one enrich worker: {rate:.1f} pages/s", file=sys.stderr)
        runs = []
        for mode in args.modes:
            print(f"· {mode}", file=sys.stderr)
            runs.append(await sequence(broker, records, args.load * rate, mode, args))
            runs[-1]["capacity"] = rate
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", type=int, default=120, help="distinct pages cleaned")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--load", type=float, default=0.7, help="of one worker's capacity")
    parser.add_argument("--capacity", type=float, help="pages/s of one worker (skip measuring)")
    parser.add_argument("--backlog", type=int, default=200)
    parser.add_argument("--phase-s", type=float, default=40.0)
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    parser.add_argument("--env", nargs="*", default=[], help="NEWSFLOW_X=V for the workers")
    parser.add_argument("--json", type=Path, help="also write the raw timelines here")
    args = parser.parse_args()
    args.env = dict(kv.split("=", 1) for kv in args.env)
    args.work = Path(tempfile.mkdtemp(prefix="newsflow-scaling-"))
    print(f"logs in {args.work}; load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    runs = asyncio.run(main_async(args))
    print(
        f"{datetime.now(UTC).isoformat(timespec='minutes')} · {os.cpu_count()} cores · load at "
        f"end {os.getloadavg()[0]:.2f} · one enrich worker {runs[0]['capacity']:.1f} pages/s, "
        f"offered {args.load:.0%} of it: {runs[0]['rate']:.1f}/s · {args.partitions} "
        f"partitions · {args.phase_s:.0f} s per event · worker env {args.env or 'defaults'}"
    )
    print()
    table = [row for run in runs for row in rows(run)]
    print(
        fmt_table(
            [
                "event",
                "sink pages/s",
                "longest sink gap s",
                "longest page wait s",
                "median page wait s",
                "partitions assigned, s after the event",
                "new worker's join to assigned s",
                "duplicates",
                "missing",
            ],
            table,
        )
    )
    if args.json:
        args.json.write_text(orjson.dumps(runs).decode())


if __name__ == "__main__":
    main()
