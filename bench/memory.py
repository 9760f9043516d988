"""Resident memory of real worker processes, to size Kubernetes requests and limits.

Starts the local broker, one clean and one enrich worker as real processes (exactly as
``newsflow worker STAGE`` runs them), reads each worker's RSS once it is ready, then sends the
bundled sample pages ROUNDS times (each round under new URLs, so nothing is a duplicate),
waits until every page reached the sink, and reads RSS and peak RSS (VmHWM) again.

    .venv/bin/python -m bench.memory [ROUNDS [BIG]]

With BIG > 0, BIG more pages of about 4.5 MiB each (a sample article's paragraphs repeated,
just under the 5 MiB NEWSFLOW_MAX_HTML_BYTES) follow, to see what pages near the size limit
cost; they may end as dead letters (extraction time limit), which count as done.

Prints a table (MiB). Run on an otherwise idle machine; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.procfs import status_kib
from workers.kafka.produce import iter_records, produce, raw_record
from workers.kafka.tail import tail
from workers.kafka.topics import create_topics
from workers.local.broker import TEST_GROUP_TIMING, LocalBroker, free_port
from workers.local.demo import samples_dir
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings


async def finished(settings: Settings, expected: int) -> int:
    """Wait until ``expected`` inputs came out: at the sink or as dead letters (of either
    stage), counting each document once."""
    done: set[bytes] = set()

    async def watch(topic: str) -> None:
        async for message in tail(settings, topic, idle_timeout_s=120):
            done.add(message.key)
            if len(done) >= expected:
                return

    tasks = [
        asyncio.create_task(watch(t)) for t in (settings.topic_enriched, settings.topic_dead_letter)
    ]
    while len(done) < expected and not all(t.done() for t in tasks):
        await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(done)


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


def big_page(target_bytes: int = 4_500_000) -> bytes:
    html = (samples_dir() / "03-ecb-first-rate-cut.html").read_text(encoding="utf-8")
    head, _, rest = html.partition("<p>")
    paragraph = "<p>" + rest.split("</p>", 1)[0] + "</p>\n"
    count = (target_bytes - len(html)) // len(paragraph.encode("utf-8"))
    return (head + paragraph * count + "<p>" + rest).encode("utf-8")


async def main(rounds: int, big: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-memory-"))
    with LocalBroker(log_path=workdir / "broker.log") as broker:
        settings = Settings(
            bootstrap_servers=broker.bootstrap,
            partitions=3,
            replication_factor=1,  # one broker
            idempotent_producer=False,  # the local broker cannot (workers/local/broker.py)
            **{k.removeprefix("NEWSFLOW_").lower(): float(v) for k, v in TEST_GROUP_TIMING.items()},
        )
        await create_topics(settings)
        env = {**settings.as_env(), "NEWSFLOW_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"}
        logs = {stage: workdir / f"{stage}.log" for stage in ("clean", "enrich")}
        procs = {  # each its own web port: two workers on 6066 and the second one exits
            stage: spawn_worker(stage, {**env, "NEWSFLOW_WEB_PORT": str(free_port())}, log)
            for stage, log in logs.items()
        }
        try:
            for log in logs.values():
                wait_ready(log)
            idle = {s: status_kib(p.pid, "VmRSS") for s, p in procs.items()}
            records = []
            for n in range(rounds):
                for record in iter_records([samples_dir()]):
                    record["url"] = f"{record['url']}?round={n}"
                    records.append(record)
            if big:
                body = big_page()
                for n in range(big):
                    records.append(raw_record(body, f"https://bench.example/big/{n}"))
            summary = await produce(settings, records)
            seen = await finished(settings, summary.sent)
            time.sleep(2)  # let the last commits and metric refreshes settle
            after = {s: status_kib(p.pid, "VmRSS") for s, p in procs.items()}
            peak = {s: status_kib(p.pid, "VmHWM") for s, p in procs.items()}
        finally:
            for process in procs.values():
                stop_process(process, 30)
    print(f"pages sent: {summary.sent}, reached the sink or the dead letters: {seen}")
    print(f"{'worker':8} {'RSS ready':>10} {'RSS after':>10} {'peak RSS':>10}   (MiB)")
    for stage in procs:
        print(
            f"{stage:8} {idle[stage] / 1024:10.1f} {after[stage] / 1024:10.1f} "
            f"{peak[stage] / 1024:10.1f}"
        )


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(arguments + [10, 0][len(arguments) :])))
