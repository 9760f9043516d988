"""The sink's stall when a Kafka node dies under the workers (``python -m bench.cluster``).

A three-node KRaft cluster (combined broker+controller nodes, tests/support/kafka.py), the
pipeline's topics at replication factor 3 and ``min.insync.replicas=2``, one clean and one
enrich worker with the production settings (group timings, producer timeout), pages fed
faster than the workers take them so the sink never idles. Each run SIGKILLs one node: the
one leading the most of the pipeline's partitions (not the coordinator), or the workers'
group coordinator, or SIGSTOPs the leader (a hung host); it is restarted, and back in sync,
before the next run. The stall is the
longest gap between records at the sink (by the broker's append time) from the kill until
the flow has moved on; it prints the median, min and max per kind with the settings that
shape it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.support.kafka import KafkaCluster
from workers.kafka import clients
from workers.kafka.lag import log_ends
from workers.kafka.produce import iter_records, produce
from workers.kafka.tail import tail
from workers.kafka.topics import create_topics, topic_configs
from workers.local.broker import free_port, isolated_settings
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "workers" / "samples"
OFFSETS_TOPIC = "__consumer_offsets"
# Kafka's defaults for how fast the controller fences a node that stopped heartbeating.
BROKER_HEARTBEAT_MS, BROKER_SESSION_MS = 2000, 9000
# What aiokafka (through faust) uses unless told otherwise: metadata is refreshed this often
# anyway, and at once after a connection error or a "not leader" answer; a failed request is
# retried after the backoff.
METADATA_MAX_AGE_MS, RETRY_BACKOFF_MS = 300_000, 100
# A frozen node is thawed after this long if the flow has not resumed by itself.
FREEZE_CAP_S = 60.0
KINDS = ("leader", "coordinator", "leader frozen")


def _processed(folder: Path, stage: str = "enrich") -> int:
    """Pages the ``stage`` workers (a replacement included) processed, from their logs."""
    count = 0
    lines = [
        line for log in folder.glob(f"{stage}-*.log") for line in log.read_bytes().split(b"\n")
    ]
    for line in lines:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        count += isinstance(event, dict) and event.get("event") == "processed"
    return count


async def _feed(settings: Settings, per_second: int) -> None:
    """The sample pages under new URLs, ``per_second`` a second, until cancelled."""
    samples = list(iter_records([SAMPLES]))
    for batch in itertools.count():
        pages = [
            {**samples[n % len(samples)], "url": f"https://cluster.example/{batch}/{n}"}
            for n in range(per_second)
        ]
        await produce(settings, pages)
        await asyncio.sleep(1)


async def _admin_call(settings: Settings, call):  # type: ignore[no-untyped-def]
    async with clients.admin(settings) as admin:
        return await call(admin)


async def _in_sync(settings: Settings) -> bool:
    topics = [*settings.all_topics(), OFFSETS_TOPIC]
    try:
        described = await _admin_call(settings, lambda a: a.describe_topics(topics))
    except Exception:
        return False
    parts = [p for t in described if t["error_code"] == 0 for p in t["partitions"]]
    return len(parts) >= settings.partitions * 4 and all(
        p["leader"] >= 0 and len(p["isr"]) == 3 for p in parts
    )


async def _wait(check, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s} s")
        await asyncio.sleep(0.5)


async def _victim(settings: Settings, kind: str) -> int:
    coordinator = await _admin_call(settings, lambda a: a.find_coordinator(settings.enrich_group))
    if kind == "coordinator":
        return coordinator
    described = await _admin_call(settings, lambda a: a.describe_topics(settings.all_topics()))
    led: dict[int, int] = defaultdict(int)
    for topic in described:
        for p in topic["partitions"]:
            led[p["leader"]] += 1
    return max((n for n in led if n != coordinator), key=lambda n: (led[n], -n))


async def _sink_times(settings: Settings, since: float) -> list[float]:
    # Up to the log ends of now: pages keep coming, so the topic never goes idle.
    ends = await log_ends(settings, settings.topic_enriched)
    reading = tail(settings, settings.topic_enriched, max_messages=sum(ends.values()))
    records = [m async for m in reading]
    return sorted(m.timestamp / 1000 for m in records if m.timestamp / 1000 > since)


async def _flowing(folder: Path, count: int, timeout_s: float) -> bool:
    """Whether the enrich worker reached ``count`` processed pages within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while _processed(folder) < count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def one_kill(
    kafka: KafkaCluster, settings: Settings, kind: str, folder: Path, settle_s: float
) -> dict[str, float]:
    """One node lost, the stall it caused, the node back in sync. ``kind``: ``leader`` or
    ``coordinator`` (SIGKILL: the kernel resets its connections, clients notice at once) or
    ``leader frozen`` (SIGSTOP: a host that hangs or drops off the network; nothing tells the
    clients, a request to it waits for the request timeout)."""
    victim = await _victim(settings, kind.split()[0])
    process = kafka.node(victim).process
    assert process is not None
    before = _processed(folder)
    lost_at = time.time()
    if kind == "leader frozen":
        os.kill(process.pid, signal.SIGSTOP)
        resumed = await _flowing(folder, before + 40, FREEZE_CAP_S)
        os.kill(process.pid, signal.SIGCONT)
    else:
        kafka.kill_node(victim)
        resumed = False
    if not resumed and not await _flowing(folder, before + 40, 300):
        raise TimeoutError(f"no flow after the {kind} loss")
    await asyncio.sleep(settle_s)
    after = await _sink_times(settings, lost_at)
    times = [lost_at, *after]
    stall = max(b - a for a, b in itertools.pairwise(times))
    kafka.start_node(victim)
    await _wait(lambda: _in_sync(settings), 300, "the node back in sync")
    return {"next record": after[0] - lost_at, "stall": stall, "node": victim}


async def main(
    runs: int,
    broker_session_ms: int,
    feed: int,
    timeouts: dict[str, float],
    kinds: list[str],
) -> None:
    config = {
        "broker.heartbeat.interval.ms": str(min(BROKER_HEARTBEAT_MS, broker_session_ms // 3)),
        "broker.session.timeout.ms": str(broker_session_ms),
    }
    with tempfile.TemporaryDirectory() as tmp, KafkaCluster(nodes=3, config=config) as kafka:
        defaults = Settings()
        settings = isolated_settings(kafka.bootstrap, tag="cl", partitions=3).model_copy(
            update={
                "replication_factor": 3,
                "min_insync_replicas": 2,
                "idempotent_producer": True,
                **timeouts,
                "dedup_backend": "memory",
                "boilerplate_backend": "off",
                # The production group timings, not the tests' short ones.
                "session_timeout_s": defaults.session_timeout_s,
                "heartbeat_interval_s": defaults.heartbeat_interval_s,
                "rebalance_timeout_s": defaults.rebalance_timeout_s,
            }
        )
        await create_topics(settings)
        await _wait(lambda: _in_sync(settings), 120, "the topics' replicas in sync")
        sink = settings.topic_enriched  # stamped with the broker's append time
        configs = {**topic_configs(settings, sink), "message.timestamp.type": "LogAppendTime"}
        await _admin_call(
            settings,
            lambda a: a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, sink, configs)]),
        )
        env = {**os.environ, **settings.as_env(), "NEWSFLOW_LOG_FORMAT": "json"}
        folder = Path(tmp)
        workers: dict[str, subprocess.Popen[bytes]] = {}
        restarts: list[str] = []

        def start(stage: str) -> None:
            log = folder / f"{stage}-{len(restarts)}.log"
            workers[stage] = spawn_worker(
                stage, {**env, "NEWSFLOW_WEB_PORT": str(free_port())}, log
            )

        async def supervise() -> None:
            # As an orchestrator does: a worker that stopped is replaced at once.
            while True:
                for stage, process in list(workers.items()):
                    if process.poll() is not None:
                        restarts.append(stage)
                        print(f"{stage} worker exited ({process.returncode}); replaced", flush=True)
                        start(stage)
                await asyncio.sleep(0.5)

        for stage in ("clean", "enrich"):
            start(stage)
        feeding = asyncio.ensure_future(_feed(settings, feed))
        supervising = asyncio.ensure_future(supervise())
        try:
            while _processed(folder) < 50:
                await asyncio.sleep(0.5)
            await _wait(lambda: _in_sync(settings), 300, "every replica in sync")
            rows: dict[str, list[dict[str, float]]] = defaultdict(list)
            for _, kind in itertools.product(range(runs), kinds):
                row = await one_kill(kafka, settings, kind, folder, settle_s=3)
                print(f"{kind}, node {row['node']:.0f}: {row['stall']:.1f} s", flush=True)
                rows[kind].append(row)
                await asyncio.sleep(5)
        finally:
            feeding.cancel()
            supervising.cancel()
            for worker in workers.values():
                stop_process(worker, 30)

    print(
        f"\nA node of 3 lost (RF 3, min.insync.replicas=2), 1 clean + 1 enrich worker, "
        f"{feed} pages/s fed; {runs} runs of each kind; frozen nodes thawed after "
        f"{FREEZE_CAP_S:g} s at most; workers that stopped were replaced at once "
        f"({len(restarts)} replacements)\n"
        f"(broker.session.timeout.ms {broker_session_ms}, broker.heartbeat.interval.ms "
        f"{config['broker.heartbeat.interval.ms']}; producer request timeout "
        f"{settings.request_timeout_s:g} s, delivery timeout {settings.delivery_timeout_s:g} s, "
        f"metadata_max_age {METADATA_MAX_AGE_MS} ms, "
        f"retry_backoff {RETRY_BACKOFF_MS} ms; consumer session {settings.session_timeout_s:g} s, "
        f"heartbeat {settings.heartbeat_interval_s:g} s)\n"
    )
    print("| node lost | longest stall at the sink, s (median) | min | max | next record, s |")
    print("|---|---|---|---|---|")
    for kind, kills in rows.items():
        stall = [k["stall"] for k in kills]
        first = [k["next record"] for k in kills]
        print(
            f"| {kind} | {statistics.median(stall):.1f} | {min(stall):.1f} | {max(stall):.1f} "
            f"| {statistics.median(first):.1f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="kills of each kind")
    parser.add_argument("--broker-session-ms", type=int, default=BROKER_SESSION_MS)
    parser.add_argument("--feed", type=int, default=12, help="pages fed per second")
    parser.add_argument(
        "--delivery-timeout",
        type=float,
        default=Settings().delivery_timeout_s,
        help="NEWSFLOW_DELIVERY_TIMEOUT_S of the workers (an output's wait in the producer)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=Settings().request_timeout_s,
        help="NEWSFLOW_REQUEST_TIMEOUT_S of the workers (the wait for a broker's answer)",
    )
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    args = parser.parse_args()
    asyncio.run(
        main(
            args.runs,
            args.broker_session_ms,
            args.feed,
            {
                "delivery_timeout_s": args.delivery_timeout,
                "request_timeout_s": args.request_timeout,
            },
            args.kinds,
        )
    )
