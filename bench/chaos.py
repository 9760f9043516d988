"""The chaos check a user would run (``python -m bench.chaos``): pages and hostile inputs
through two clean and two enrich workers while workers are SIGKILLed every few seconds, in
each processing guarantee; what a read_committed reader finds at the sink and in the
dead-letter topic.

On one Apache Kafka node (the tests' jars; ``--broker tansu`` has no transactions, so
at_least_once only), per mode (``--modes``, default both):

- ``--pages`` inputs (800): the bundled sample pages under distinct URLs, and a share
  ``--hostile`` (5 %) of the tests' hostile inputs (tests/unit/test_hostile_input.py:
  invalid JSON, not HTML, oversize, entity bombs...), each under a key of its own, shuffled
  (seeded) and offered at ``--rate`` pages a second;
- while they are offered, every ``--kill-every`` seconds (uniform in the range, seeded) a
  random worker holding partitions is SIGKILLed and started again at once, as an
  orchestrator restarts a crashed pod; one of these events is a SIGTERM instead (a graceful
  stop mid-flow), and with ``--broker-restart`` one is a SIGKILL of the broker, started again
  on its data;
- then, the workers left alone, until every input has reached the sink or the dead-letter
  topic and both groups have committed their inputs.

Per mode: inputs sent; records at the sink, read with ``isolation_level=read_committed`` in
exactly_once (what a downstream consumer sees), distinct documents among them and the copies
(duplicates); dead letters: hostile inputs expected and dead-lettered, good pages
dead-lettered (and why), copies in the dead-letter topic; inputs lost (neither at the sink
nor dead-lettered); the faults; the longest time the sink and dead-letter topic together
received nothing (from the first send to the last arrival); in exactly_once, the aborted
records a read_uncommitted reader finds besides (what at-least-once would have delivered).
Group timings are the tests' (session 3 s), so a killed member's partitions move quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.pipeline_report import fmt_table
from bench.pipeline_workers import (
    BenchBroker,
    Sink,
    Worker,
    bench_broker,
    bench_producer,
    pipeline_settings,
    scrape,
    wait_assigned,
)
from tests.support.delivery import pages
from tests.unit.test_hostile_input import HOSTILE
from workers.kafka.lag import consumer_lag
from workers.kafka.produce import encode_raw
from workers.kafka.tail import tail
from workers.kafka.topics import create_topics
from workers.pipeline import STAGES
from workers.settings import Settings

MODES = ("at_least_once", "exactly_once")


@dataclass
class Inputs:
    """What is sent: (key, value, headers) in sending order, and which keys are hostile."""

    messages: list[tuple]
    good: set[str]
    hostile: set[str]


def inputs(count: int, hostile_share: float, prefix: str, rng: random.Random) -> Inputs:
    n_hostile = round(count * hostile_share)
    good = [encode_raw(record) for record in pages(count - n_hostile, prefix)]
    bad_values = [value for value, _ in HOSTILE.values()]
    bad = [
        (f"{prefix}-hostile-{n}".encode(), bad_values[n % len(bad_values)], [])
        for n in range(n_hostile)
    ]
    messages = good + bad
    rng.shuffle(messages)
    return Inputs(
        messages,
        {key.decode() for key, _, _ in good},
        {key.decode() for key, _, _ in bad},
    )


@dataclass
class Chaos:
    """The workers of a run, and the faults done to them."""

    settings: Settings
    work: Path
    env: dict[str, str]
    producer: AIOKafkaProducer  # the bench's, of the inputs
    feed_open: asyncio.Event = field(default_factory=asyncio.Event)
    workers: list[Worker] = field(default_factory=list)
    kills: int = 0
    sigterms: int = 0
    broker_restarts: int = 0
    log: list[str] = field(default_factory=list)

    def start(self, stage: str) -> Worker:
        worker = Worker(stage, self.settings, self.work, self.env)
        self.workers.append(worker)
        return worker

    def live(self) -> list[Worker]:
        return [w for w in self.workers if w.process.poll() is None]

    def victim(self, rng: random.Random) -> Worker:
        """A random live worker, among those holding partitions when any do (a worker still
        loading its models has no work in flight to lose)."""
        live = self.live()

        def holds(worker: Worker) -> bool:
            with contextlib.suppress(OSError):
                metrics = scrape(worker.port)
                return metrics.get(f'newsflow_assigned_partitions{{stage="{worker.stage}"}}', 0) > 0
            return False

        busy = [w for w in live if holds(w)]
        return rng.choice(busy or live)

    async def fault(self, kind: str, rng: random.Random, broker: BenchBroker) -> None:
        if kind == "broker":
            # The bench's own sends pause meanwhile, none in flight: the restart tests the
            # workers, not the bench's producer.
            self.feed_open.clear()
            await self.producer.flush()
            cluster = broker.cluster
            node = cluster.nodes[0].node_id
            cluster.kill_node(node)
            cluster.start_node(node)
            await asyncio.to_thread(cluster.wait_ready, 180)
            self.feed_open.set()
            self.broker_restarts += 1
            self.log.append(f"{time.time():.1f} broker SIGKILLed and restarted")
            return
        worker = self.victim(rng)
        self.workers.remove(worker)  # the supervisor must not restart it too
        if kind == "sigterm":
            code = await asyncio.to_thread(worker.stop)
            self.sigterms += 1
        else:
            worker.process.send_signal(signal.SIGKILL)
            code = await asyncio.to_thread(worker.process.wait)
            self.kills += 1
        self.log.append(f"{time.time():.1f} {kind} {worker.stage} {worker.pid} (exit {code})")
        self.start(worker.stage)  # as an orchestrator restarts it

    def replace_exited(self) -> None:
        """A worker that stopped by itself (fenced, a failed delivery) is started again."""
        for worker in [w for w in self.workers if w.process.poll() is not None]:
            self.log.append(
                f"{time.time():.1f} {worker.stage} {worker.pid} exited by itself "
                f"({worker.process.returncode}); restarted"
            )
            self.workers.remove(worker)
            self.start(worker.stage)

    def stop_all(self) -> list[int]:
        return [w.stop() for w in self.workers]


async def faults(
    chaos: Chaos,
    broker: BenchBroker,
    rng: random.Random,
    args: argparse.Namespace,
    stop: asyncio.Event,
) -> None:
    """Faults every few seconds until ``stop``: SIGKILLs, the ``--sigterm-at``th a SIGTERM and
    the ``--broker-at``th a broker restart (with ``--broker-restart``)."""
    low, high = args.kill_every
    for n in itertools.count(1):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(low, high))
        if stop.is_set():
            return
        kind = "kill"
        if n == args.sigterm_at:
            kind = "sigterm"
        elif n == args.broker_at and args.broker_restart and broker.cluster is not None:
            kind = "broker"
        await chaos.fault(kind, rng, broker)


async def feed(chaos: Chaos, topic: str, messages: list[tuple], rate: float) -> None:
    """``rate`` messages a second, paused while ``chaos.feed_open`` is not set."""
    started, paused, futures = time.monotonic(), 0.0, []
    for i, (key, value, headers) in enumerate(messages):
        if not chaos.feed_open.is_set():
            waited = time.monotonic()
            await chaos.feed_open.wait()
            paused += time.monotonic() - waited
        delay = started + paused + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        futures.append(await chaos.producer.send(topic, value=value, key=key, headers=headers))
    await asyncio.gather(*futures)


async def supervise(chaos: Chaos, stop: asyncio.Event) -> None:
    while not stop.is_set():
        chaos.replace_exited()
        await asyncio.sleep(0.5)


async def settled(settings: Settings) -> bool:
    """Both groups committed every input: the raw topic to its end, the clean topic to its
    end or, in exactly_once, its last commit marker (a marker takes an offset of its own)."""
    groups = {STAGES[s].group(settings): STAGES[s].input_topic(settings) for s in STAGES}
    try:
        rows = await consumer_lag(settings, groups)
    except Exception:  # the coordinator moving after a broker restart
        return False
    markers = 1 if settings.processing_guarantee == "exactly_once" else 0
    limit = {settings.topic_raw: 0, settings.topic_clean: markers}
    return all(row.lag is not None and row.lag <= limit[row.topic] for row in rows)


async def uncommitted_extra(settings: Settings, committed: int) -> int:
    """Records a read_uncommitted reader finds at the sink beyond the committed ones."""
    everything = settings.model_copy(update={"processing_guarantee": "at_least_once"})
    found = [m async for m in tail(everything, settings.topic_enriched, idle_timeout_s=3)]
    return len(found) - committed


async def one_mode(
    broker: BenchBroker, mode: str, args: argparse.Namespace, work: Path
) -> dict[str, object]:
    rng = random.Random(args.seed)
    settings = pipeline_settings(
        broker,
        args.partitions,
        processing_guarantee=mode,
        # per-process state only: nothing of this run in the shared Redis but the crash
        # guard's markers (keyed by this run's groups)
        dedup_backend="memory",
        boilerplate_backend="off",
    )
    await create_topics(settings)
    sent = inputs(args.pages, args.hostile, f"chaos-{mode}-{args.seed}", rng)
    producer = bench_producer(settings)
    await producer.start()
    chaos = Chaos(settings, work, args.env, producer)
    chaos.feed_open.set()
    for stage in ("clean", "clean", "enrich", "enrich"):
        chaos.start(stage)
    sink = Sink(settings, settings.topic_enriched, read_time=True)
    reading = asyncio.create_task(sink.run())
    stop = asyncio.Event()
    tasks: list[asyncio.Task] = []
    try:
        await wait_assigned(chaos.workers, args.partitions)
        began = time.time()
        tasks = [
            asyncio.create_task(faults(chaos, broker, rng, args, stop)),
            asyncio.create_task(supervise(chaos, stop)),
        ]
        await feed(chaos, settings.topic_raw, sent.messages, args.rate)
        fed = time.time()
        stop.set()
        await asyncio.gather(*tasks)
        tasks = [asyncio.create_task(supervise(chaos, asyncio.Event()))]
        every = sent.good | sent.hostile
        deadline = time.monotonic() + args.settle_s
        while time.monotonic() < deadline:
            arrived = set(sink.copies) | set(sink.dead_sources)
            if arrived >= every and await settled(settings):
                break
            await asyncio.sleep(1)
        await asyncio.sleep(3)  # a late copy would come now
        complete = time.time()
        aborted = (
            await uncommitted_extra(settings, sum(sink.copies.values()))
            if mode == "exactly_once"
            else 0
        )
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await asyncio.to_thread(chaos.stop_all)
    times = sorted(t for t in sink.times if t >= began)
    gaps = [b - a for a, b in itertools.pairwise([began, *times])]
    dead_good = {k for k in sink.dead_sources if k in sent.good}
    lost = (sent.good - set(sink.copies) - dead_good) | (sent.hostile - set(sink.dead_sources))
    for line in chaos.log:
        print(f"  {mode}: {line}", file=sys.stderr)
    if lost:
        print(f"  {mode}: lost {sorted(lost)[:10]}", file=sys.stderr)
    return {
        "mode": mode,
        "sent": len(sent.messages),
        "good": len(sent.good),
        "hostile": len(sent.hostile),
        "at_sink": sum(sink.copies.values()),
        "unique": len(set(sink.copies) & sent.good),
        "duplicates": sum(sink.copies.values()) - len(sink.copies),
        "hostile_dead": len(set(sink.dead_sources) & sent.hostile),
        "good_dead": len(dead_good),
        "good_dead_reasons": sorted({sink.dead_reasons[k] for k in dead_good}),
        "dead_duplicates": sum(sink.dead_sources.values()) - len(sink.dead_sources),
        "lost": len(lost),
        "kills": chaos.kills,
        "sigterms": chaos.sigterms,
        "broker_restarts": chaos.broker_restarts,
        "longest_gap_s": max(gaps, default=0.0),
        "aborted_seen_uncommitted": aborted,
        "feed_s": fed - began,
        "complete_s": complete - began,
    }


def table(rows: list[dict[str, object]]) -> str:
    """One column per mode, side by side."""
    lines = [
        ("inputs sent (good + hostile)", lambda r: f"{r['sent']} ({r['good']} + {r['hostile']})"),
        ("records at the sink (read_committed in exactly_once)", lambda r: r["at_sink"]),
        ("distinct documents at the sink", lambda r: r["unique"]),
        ("**duplicates at the sink**", lambda r: f"**{r['duplicates']}**"),
        (
            "hostile inputs dead-lettered, expected / got",
            lambda r: f"{r['hostile']} / {r['hostile_dead']}",
        ),
        (
            "good pages dead-lettered",
            lambda r: (
                f"{r['good_dead']}"
                + (f" ({', '.join(r['good_dead_reasons'])})" if r["good_dead"] else "")
            ),  # type: ignore[arg-type]
        ),
        ("duplicates in the dead-letter topic", lambda r: r["dead_duplicates"]),
        ("**lost** (neither at the sink nor dead-lettered)", lambda r: f"**{r['lost']}**"),
        (
            "faults: SIGKILLs / SIGTERMs / broker restarts",
            lambda r: f"{r['kills']} / {r['sigterms']} / {r['broker_restarts']}",
        ),
        ("longest sink gap s", lambda r: f"{r['longest_gap_s']:.1f}"),
        (
            "aborted records a read_uncommitted reader also finds",
            lambda r: r["aborted_seen_uncommitted"],
        ),
        (
            "fed in s / all in and committed after s",
            lambda r: f"{r['feed_s']:.0f} / {r['complete_s']:.0f}",
        ),
    ]
    return fmt_table(
        ["", *(str(r["mode"]) for r in rows)],
        [[name, *(str(cell(r)) for r in rows)] for name, cell in lines],
    )


async def main_async(args: argparse.Namespace) -> list[dict[str, object]]:
    work = Path(tempfile.mkdtemp(prefix="newsflow-chaos-"))
    print(f"logs in {work}; load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = []
    with bench_broker(args.broker, work) as broker:
        for mode in args.modes:
            print(f"· {mode}", file=sys.stderr)
            rows.append(await one_mode(broker, mode, args, work))
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=800, help="inputs per mode")
    parser.add_argument("--hostile", type=float, default=0.05, help="share of hostile inputs")
    parser.add_argument("--rate", type=float, default=5.0, help="inputs offered a second")
    parser.add_argument(
        "--kill-every", type=float, nargs=2, default=(3.0, 8.0), metavar=("MIN_S", "MAX_S")
    )
    parser.add_argument("--sigterm-at", type=int, default=4, help="which fault is a SIGTERM")
    parser.add_argument("--broker-restart", action="store_true", help="one fault restarts Kafka")
    parser.add_argument("--broker-at", type=int, default=8, help="which fault that is")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--settle-s", type=float, default=600.0, help="longest wait at the end")
    parser.add_argument("--modes", nargs="+", choices=MODES, help="default: both on Kafka")
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    parser.add_argument("--env", nargs="*", default=[], help="NEWSFLOW_X=V for the workers")
    args = parser.parse_args()
    args.env = dict(kv.split("=", 1) for kv in args.env)
    # the embedded broker has no transactions
    args.modes = args.modes or (list(MODES) if args.broker == "kafka" else ["at_least_once"])
    rows = asyncio.run(main_async(args))
    print(
        f"{datetime.now(UTC).isoformat(timespec='minutes')} · {os.cpu_count()} cores · load at "
        f"end {os.getloadavg()[0]:.2f} · broker: {args.broker} · {args.partitions} partitions · "
        f"2 clean + 2 enrich workers · {args.rate}/s offered · a fault every "
        f"{args.kill_every[0]:g} to {args.kill_every[1]:g} s (seed {args.seed}) · worker env "
        f"{args.env or 'defaults'}"
    )
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
