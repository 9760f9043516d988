"""``newsflow demo``: the whole pipeline on one machine, fed with the bundled sample pages.

Starts the embedded broker on a free loopback port, creates the topics, starts one clean and
one enrich worker as real processes, produces ``workers/samples/``, prints every enriched
article as it reaches the sink topic and exits 0 once all of them came through.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import click
import orjson

from workers.kafka.produce import iter_records, produce
from workers.kafka.tail import tail
from workers.kafka.topics import create_topics
from workers.local.broker import (
    DEMO_GROUP_TIMING,
    LOCAL_FETCH_WAIT,
    LOCAL_PRODUCER,
    LocalBroker,
    free_port,
)
from workers.local.processes import spawn_worker, stop_process
from workers.pipeline import STAGES
from workers.settings import Settings


def samples_dir() -> Path:
    return Path(str(resources.files("workers") / "samples"))


def describe(record: dict[str, Any], latency_s: float | None) -> str:
    """Two lines about one enriched article, for people watching the demo."""
    stats = record["enrichment"].get("stats", {})
    lang = record["enrichment"].get("language", {})
    byline = ", ".join(record["authors"]) or "no byline"
    head = click.style(record["title"] or "(untitled)", bold=True)
    facts = [
        f"[{record['language'] or '?'}]",
        f"{stats.get('word_count', '?')} words",
        f"{round(stats.get('reading_time_s', 0) / 60, 1)} min read",
        record["site_name"] or "?",
        record["published_at"] or "undated",
        byline,
    ]
    detail = [
        f"lang {lang.get('code')} p={lang.get('confidence')}",
        f"charset {record['encoding']['name']} ({record['encoding']['source']})",
        record["enrichment"].get("fingerprint", {}).get("content_hash", "")[:19] + "…",
    ]
    if latency_s is not None:
        detail.append(f"{latency_s:.2f} s produce→sink")
    lines = [f"  {head}", f"    {' · '.join(facts)}", f"    {' · '.join(detail)}"]
    entities = record["enrichment"].get("entities", {})
    if "persons" in entities:  # not skipped for the article's language
        places = record["enrichment"].get("places", {}).get("places", [])
        named = [p["name"] for p in entities["persons"][:2] + entities["organisations"][:1]]
        # A sea or an ocean is in no country: its name alone.
        located = [
            f"{p['name']} ({p['country_code']})" if p.get("country_code") else p["name"]
            for p in places[:3]
        ]
        lines.append(f"    names: {', '.join(named) or '-'} · places: {', '.join(located) or '-'}")
    return "\n".join(lines)


async def _watch(
    settings: Settings,
    expected: set[str],
    sent_at: float,
    timeout_s: float,
    alive: Callable[[], bool],
) -> tuple[set[str], list[dict[str, Any]]]:
    """Print sink records of ``expected`` keys until all arrived (or were dead-lettered)."""
    arrived: set[str] = set()
    dead: list[dict[str, Any]] = []

    async def sink() -> None:
        async for message in tail(settings, settings.topic_enriched):
            key = message.key.decode()
            if key in expected and key not in arrived:
                arrived.add(key)
                latency = message.timestamp / 1000 - sent_at if message.timestamp else None
                click.echo(describe(orjson.loads(message.value), latency))
            if arrived | {d["document_id"] for d in dead} >= expected:
                return

    async def dead_letters() -> None:
        async for message in tail(settings, settings.topic_dead_letter):
            record = orjson.loads(message.value)
            dead.append(record)
            click.secho(
                f"  dead letter: {record['reason']}: {record['error']['message']}", fg="red"
            )

    async def watchdog() -> None:
        while alive():
            await asyncio.sleep(0.5)
        raise RuntimeError("a worker process exited; see its log")

    sink_task, dead_task, watchdog_task = (
        asyncio.create_task(c) for c in (sink(), dead_letters(), watchdog())
    )
    done, _ = await asyncio.wait(
        {sink_task, watchdog_task}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
    )
    for task in (sink_task, dead_task, watchdog_task):
        task.cancel()
    await asyncio.gather(sink_task, dead_task, watchdog_task, return_exceptions=True)
    if watchdog_task in done:
        raise watchdog_task.exception()
    return arrived, dead


def run_demo(timeout_s: float = 120.0, partitions: int = 3) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-demo-"))
    started = time.perf_counter()
    click.echo(f"newsflow demo · logs in {workdir}")
    with LocalBroker(log_path=workdir / "broker.log") as broker:
        settings = Settings(
            bootstrap_servers=broker.bootstrap,
            partitions=partitions,
            replication_factor=1,  # one broker
            idempotent_producer=False,
        )
        env = {
            **os.environ,
            **DEMO_GROUP_TIMING,
            **LOCAL_FETCH_WAIT,
            **LOCAL_PRODUCER,
            "NEWSFLOW_BOOTSTRAP_SERVERS": broker.bootstrap,
            "NEWSFLOW_PARTITIONS": str(partitions),
            # One enrich worker: the in-process near-duplicate index is enough, and the
            # demo needs no Redis (every run starts from an empty index).
            "NEWSFLOW_DEDUP_BACKEND": "memory",
            # Likewise the clean worker's per-site boilerplate memory.
            "NEWSFLOW_BOILERPLATE_BACKEND": "memory",
        }
        click.echo(f"· broker on {broker.bootstrap}")
        asyncio.run(create_topics(settings))
        click.echo(f"· topics: {', '.join(settings.all_topics())} ({partitions} partitions)")
        processes = [
            spawn_worker(s, {**env, "NEWSFLOW_WEB_PORT": str(free_port())}, workdir / f"{s}.log")
            for s in STAGES
        ]
        try:
            records = list(iter_records([samples_dir()]))
            sent_at = time.time()
            summary = asyncio.run(produce(settings, records))
            click.echo(
                f"· produced {summary.sent} sample pages ({summary.bytes / 1024:.0f} KiB); "
                "waiting for the workers to join and process them\n"
            )
            expected = set(summary.keys)
            arrived, dead = asyncio.run(
                _watch(
                    settings,
                    expected,
                    sent_at,
                    timeout_s,
                    alive=lambda: all(p.poll() is None for p in processes),
                )
            )
        finally:
            for process in processes:
                stop_process(process, timeout_s=15)
    elapsed = time.perf_counter() - started
    missing = expected - arrived
    click.echo(
        f"\n{len(arrived)}/{len(expected)} articles enriched, {len(dead)} dead letters, "
        f"in {elapsed:.1f} s."
    )
    if missing or summary.failed:
        click.secho(f"missing: {sorted(missing)}; produce errors: {summary.errors}", fg="red")
        return 1
    return 0
