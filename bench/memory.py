"""Resident memory of real worker processes, to size Kubernetes requests and limits.

Starts the local broker, one clean and one enrich worker as real processes (exactly as
``newsflow worker STAGE`` runs them), reads each worker's RSS once it is ready, then sends the
bundled sample pages ROUNDS times (each round under new URLs, so nothing is a duplicate),
waits until every page reached the sink, and reads RSS and peak RSS (VmHWM) again.

    .venv/bin/python bench/memory.py [ROUNDS]

Prints a table (MiB). Run on an otherwise idle machine; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from workers.demo import samples_dir, spawn_worker, stop_workers
from workers.localbroker import TEST_GROUP_TIMING, LocalBroker
from workers.produce import iter_records, produce
from workers.settings import Settings
from workers.tail import tail
from workers.topics import create_topics


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def port_of(log: Path) -> int | None:
    import orjson

    for line in log.read_bytes().splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event") == "starting worker":
            return int(event["web_port"])
    return None


def wait_ready(log: Path, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        port = port_of(log)
        if port:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.5)
    raise TimeoutError(f"worker not ready; see {log}")


async def main(rounds: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-memory-"))
    with LocalBroker(log_path=workdir / "broker.log") as broker:
        settings = Settings(
            bootstrap_servers=broker.bootstrap,
            partitions=3,
            **{k.removeprefix("NEWSFLOW_").lower(): float(v) for k, v in TEST_GROUP_TIMING.items()},
        )
        await create_topics(settings)
        env = {**settings.as_env(), "NEWSFLOW_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"}
        logs = {stage: workdir / f"{stage}.log" for stage in ("clean", "enrich")}
        procs = {stage: spawn_worker(stage, env, log) for stage, log in logs.items()}
        try:
            for log in logs.values():
                wait_ready(log)
            idle = {s: status_kib(p.pid, "VmRSS") for s, p in procs.items()}
            records = []
            for n in range(rounds):
                for record in iter_records([samples_dir()]):
                    record["url"] = f"{record['url']}?round={n}"
                    records.append(record)
            summary = await produce(settings, records)
            seen = 0
            async for _ in tail(settings, settings.topic_enriched, idle_timeout_s=60):
                seen += 1
                if seen == summary.sent:
                    break
            time.sleep(2)  # let the last commits and metric refreshes settle
            after = {s: status_kib(p.pid, "VmRSS") for s, p in procs.items()}
            peak = {s: status_kib(p.pid, "VmHWM") for s, p in procs.items()}
        finally:
            stop_workers(list(procs.values()))
    print(f"pages sent: {summary.sent}, reached the sink: {seen}")
    print(f"{'worker':8} {'RSS ready':>10} {'RSS after':>10} {'peak RSS':>10}   (MiB)")
    for stage in procs:
        print(
            f"{stage:8} {idle[stage] / 1024:10.1f} {after[stage] / 1024:10.1f} "
            f"{peak[stage] / 1024:10.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
