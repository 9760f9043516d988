"""Resident memory of real worker processes, to size Kubernetes requests and limits.

Starts the local broker, one clean and one enrich worker as real processes (exactly as
``newsflow worker STAGE`` runs them), reads each worker's RSS once it is ready, then sends the
bundled sample pages ROUNDS times (each round under new URLs, so nothing is a duplicate),
waits until every page reached the sink, and reads RSS and peak RSS (VmHWM) again.

    .venv/bin/python -m bench.memory [ROUNDS [BIG]] [--baseline DIR]

With BIG > 0, BIG more pages of about 4.5 MiB each (a sample article's paragraphs repeated,
just under the 5 MiB NEWSFLOW_MAX_HTML_BYTES) follow, to see what pages near the size limit
cost; they may end as dead letters (extraction time limit), which count as done.

With ``--baseline DIR`` (a checkout of the code to compare with, e.g. ``git archive main``
unpacked), the same run is made first with workers started from there, and the table shows
both side by side.

Prints a table (MiB). Run on an otherwise idle machine; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def wait_ready(log: Path, timeout_s: float = 600.0) -> None:  # a busy machine
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


def _kib(pid: int, field: str) -> float:
    """``status_kib``, NaN for a worker that died (its log says why)."""
    try:
        return status_kib(pid, field)
    except (LookupError, OSError):
        return float("nan")


def big_page(target_bytes: int = 4_500_000) -> bytes:
    html = (samples_dir() / "03-ecb-first-rate-cut.html").read_text(encoding="utf-8")
    head, _, rest = html.partition("<p>")
    paragraph = "<p>" + rest.split("</p>", 1)[0] + "</p>\n"
    count = (target_bytes - len(html)) // len(paragraph.encode("utf-8"))
    return (head + paragraph * count + "<p>" + rest).encode("utf-8")


ROOT = Path(__file__).resolve().parent.parent
Row = dict[str, float]


async def measure(rounds: int, big: int, code: Path) -> tuple[int, int, dict[str, Row]]:
    """(pages sent, pages done, stage → MiB) of one run with workers started from the
    checkout ``code``."""
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
        env = {
            **settings.as_env(),
            "NEWSFLOW_LOG_FORMAT": "json",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(code),
            **{k: v for k, v in os.environ.items() if k in ("HOME", "NEWSFLOW_DATA_DIR")},
        }
        logs = {stage: workdir / f"{stage}.log" for stage in ("clean", "enrich")}
        procs = {  # each its own web port: two workers on 6066 and the second one exits
            # cwd: not this checkout, which `python -m` would put before PYTHONPATH
            stage: spawn_worker(stage, {**env, "NEWSFLOW_WEB_PORT": str(free_port())}, log, workdir)
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
            after = {s: _kib(p.pid, "VmRSS") for s, p in procs.items()}
            peak = {s: _kib(p.pid, "VmHWM") for s, p in procs.items()}
        finally:
            for process in procs.values():
                stop_process(process, 30)
    rows = {
        stage: {
            "RSS ready": idle[stage] / 1024,
            "RSS after": after[stage] / 1024,
            "peak RSS": peak[stage] / 1024,
        }
        for stage in procs
    }
    return summary.sent, seen, rows


def main(rounds: int, big: int, baseline: Path | None) -> None:
    codes = {**({"baseline": baseline.resolve()} if baseline else {}), "now": ROOT}
    results = {label: asyncio.run(measure(rounds, big, code)) for label, code in codes.items()}
    for label, (sent, seen, _) in results.items():
        print(f"{label}: pages sent {sent}, reached the sink or the dead letters {seen}")
    columns = ("RSS ready", "RSS after", "peak RSS")
    print(
        f"\n| worker | {' | '.join(f'{c} {label}' for c in columns for label in codes)} |"
        f"   (MiB)\n|---|{'---|' * len(columns) * len(codes)}"
    )
    for stage in ("clean", "enrich"):
        cells = [f"{results[label][2][stage][c]:.1f}" for c in columns for label in codes]
        print(f"| {stage} | {' | '.join(cells)} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rounds", type=int, nargs="?", default=10)
    parser.add_argument("big", type=int, nargs="?", default=0)
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.big, arguments.baseline)
