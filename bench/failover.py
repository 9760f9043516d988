"""Where the sink's stall after a worker's SIGKILL goes: model loading, the group rebalance,
the first message (``python -m bench.failover``).

One clean and one enrich worker on the embedded broker while pages flow; the enrich worker is
SIGKILLed and a replacement started at once (as an orchestrator restarts a pod). From the
replacement's JSON log: process start → models loaded ("starting worker") → partitions
assigned → first page processed; and the stall seen at the sink (last record before the kill
→ first after). Prints the median of ``--runs`` kills.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import orjson

from workers.kafka.produce import iter_records, produce
from workers.kafka.tail import tail
from workers.kafka.topics import create_topics
from workers.local.broker import LocalBroker, free_port, isolated_settings
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "workers" / "samples"


def log_events(log: Path, name: str) -> list[dict]:
    """The JSON log events called ``name``, each with its Unix time as ``at``."""
    found = []
    for line in log.read_bytes().splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event") == name:
            found.append({**event, "at": datetime.fromisoformat(event["ts"]).timestamp()})
    return found


def _events(log: Path, name: str) -> list[float]:
    """Unix times of the JSON log events called ``name``."""
    return [event["at"] for event in log_events(log, name)]


async def _sink_times(settings: Settings) -> list[float]:
    """Broker timestamps of the sink's records, in order."""
    records = [m async for m in tail(settings, settings.topic_enriched, idle_timeout_s=1.0)]
    return sorted(m.timestamp / 1000 for m in records)


async def _feed(settings: Settings, run: int) -> None:
    """The sample pages under new URLs, a dozen every half second, until cancelled."""
    samples, batch = list(iter_records([SAMPLES])), 0
    while True:
        pages = [
            {**page, "url": f"https://failover.example/{run}/{batch}/{n}"}
            for n, page in enumerate(samples)
        ]
        await produce(settings, pages)
        batch += 1
        await asyncio.sleep(0.5)


async def one_kill(settings: Settings, workdir: Path, run: int) -> dict[str, float]:
    env = {**os.environ, **settings.as_env(), "NEWSFLOW_LOG_FORMAT": "json"}

    def start(stage: str, name: str):  # type: ignore[no-untyped-def]
        worker_env = {**env, "NEWSFLOW_WEB_PORT": str(free_port())}
        return spawn_worker(stage, worker_env, workdir / f"{name}.log")

    clean, enrich = start("clean", f"clean-{run}"), start("enrich", f"enrich-{run}")
    feeding = asyncio.ensure_future(_feed(settings, run))  # pages keep coming, as a crawl does
    while len(_events(workdir / f"enrich-{run}.log", "processed")) < 50:  # flowing
        await asyncio.sleep(0.5)
    killed_at = time.time()
    enrich.kill()
    enrich.wait()
    started_at = time.time()
    replacement = start("enrich", f"enrich-{run}-replacement")
    log = workdir / f"enrich-{run}-replacement.log"
    while not _events(log, "processed"):
        await asyncio.sleep(0.5)
    feeding.cancel()  # the sink goes quiet, so it can be read to its end
    await asyncio.sleep(3)
    after = [t for t in await _sink_times(settings) if t > killed_at]
    for process in (clean, replacement):
        stop_process(process, 30)
    loaded = _events(log, "starting worker")[0]
    assigned = _events(log, "partitions assigned")[-1]
    first = _events(log, "processed")[0]
    return {
        "models loaded": loaded - started_at,
        "group join": assigned - loaded,
        "first page": first - assigned,
        "sink stall": (min(after) if after else first) - killed_at,
    }


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(log_path=Path(tmp) / "b.log") as b:
        rows = []
        for run in range(runs):
            settings = isolated_settings(b.bootstrap, tag="fo", partitions=3)
            await create_topics(settings)
            rows.append(await one_kill(settings, Path(tmp), run))
        print(f"SIGKILL of the enrich worker, replacement started at once; median of {runs}")
        print(
            f"(group timings: session {settings.session_timeout_s} s, heartbeat "
            f"{settings.heartbeat_interval_s} s, rebalance {settings.rebalance_timeout_s} s)\n"
        )
        print("| step | seconds (median) | min | max |\n|---|---|---|---|")
        for step in rows[0]:
            values = [row[step] for row in rows]
            print(
                f"| {step} | {statistics.median(values):.1f} | {min(values):.1f} "
                f"| {max(values):.1f} |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
