"""Cold start of a worker: process start → models loaded → ready → first record consumed
(``python -m bench.coldstart``).

Apache Kafka (one node, ``tests/support/kafka.py``; ``--broker local`` for the embedded one)
with pages already waiting: the sample pages on the raw topic, and their clean records on the
clean topic (written by the first clean runs). Each run starts one worker of a stage in a
consumer group of its own (a fresh deployment, or a replica added: no dead member's session
to wait out; that is ``bench/failover.py``'s case) and reads its JSON log: "starting worker"
(models loaded and warmed up), "partitions assigned", the first "processed"; and polls
``/readyz`` until it answers 200. Times are from just before the process is spawned.

With ``--baseline DIR`` (a checkout of the code to compare with, e.g. ``git archive main``
unpacked), the workers of each run are started from there too, alternately with this
checkout's, so a busy machine weighs on both alike. Prints medians of ``--runs`` starts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench.failover import _events, log_events
from bench.procfs import cpu_seconds, main_thread_cpu_seconds
from workers.kafka.produce import iter_records, produce
from workers.kafka.topics import create_topics
from workers.local.broker import LocalBroker, free_port, isolated_settings
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "workers" / "samples"
STEPS = (
    "models loaded",
    "partitions assigned",
    "ready",
    "first record consumed",
    "first record",
    "CPU to first record",
    "main thread's",
)


def _first(log: Path, name: str) -> float | None:
    """Unix time of the first JSON log event called ``name``."""
    times = _events(log, name)
    return times[0] if times else None


def _first_consumed(log: Path) -> float | None:
    """Unix time the first record was handed to the stage: the earliest "processed" event's
    time less its ``ms``. A first page in a language whose NER pipeline still loads in the
    background waits for that load inside its own time, so "first record" (its end) alone
    would charge the load to the start."""
    starts = [e["at"] - e["ms"] / 1000 for e in log_events(log, "processed") if "ms" in e]
    return min(starts, default=None)


def _poll_ready(port: int, stop: threading.Event, found: list[float]) -> None:
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    found.append(time.time())
                    return
        except OSError:
            pass
        time.sleep(0.05)


def one_start(
    stage: str, settings: Settings, code: Path, folder: Path, run: int, timeout_s: float = 900
) -> dict[str, float]:
    """Start one worker of ``stage`` from the checkout ``code`` in a new group; seconds from
    the spawn to each step."""
    port = free_port()
    group = {f"NEWSFLOW_{stage.upper()}_GROUP": f"{settings.clean_group}-cold-{stage}-{run}"}
    env = {
        **os.environ,
        **settings.as_env(),
        **group,
        "NEWSFLOW_LOG_FORMAT": "json",
        "NEWSFLOW_WEB_PORT": str(port),
        "PYTHONPATH": str(code),
    }
    log = folder / f"{stage}-{run}-{code.name}.log"
    ready: list[float] = []
    stop = threading.Event()
    poller = threading.Thread(target=_poll_ready, args=(port, stop, ready), daemon=True)
    started = time.time()
    process = spawn_worker(stage, env, log, cwd=folder)  # not in this checkout: PYTHONPATH rules
    poller.start()
    cpu = main = float("nan")
    try:
        deadline = time.monotonic() + timeout_s
        while _first(log, "processed") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{stage} worker consumed nothing; see {log}")
            cpu = cpu_seconds(process.pid)  # the last reading before the first record
            main = main_thread_cpu_seconds(process.pid)
            time.sleep(0.05)
        poller.join(5)
    finally:
        stop.set()
        stop_process(process, 30)
    times = {
        "models loaded": _first(log, "starting worker"),
        "partitions assigned": _first(log, "partitions assigned"),
        "ready": ready[0] if ready else None,
        "first record consumed": _first_consumed(log),
        "first record": _first(log, "processed"),
    }
    seconds = {step: (t - started if t else float("nan")) for step, t in times.items()}
    return {**seconds, "CPU to first record": cpu, "main thread's": main}


def build_data(code: Path) -> None:
    """``newsflow build-data`` of the checkout ``code``, when it has the command."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-m", "workers", "build-data"]
    if subprocess.run([*command, "--help"], env=env, capture_output=True).returncode == 0:
        subprocess.run(command, env=env, check=True, capture_output=True)


async def fill(settings: Settings) -> int:
    """The sample pages on the raw topic, under URLs of their own."""
    pages = [
        {**p, "url": f"https://cold.example/{n}"} for n, p in enumerate(iter_records([SAMPLES]))
    ]
    return (await produce(settings, pages)).sent


def table(rows: dict[tuple[str, str], list[dict[str, float]]], runs: int) -> str:
    lines = [
        f"Process start → step, seconds (wall; then the worker's own CPU seconds, which a "
        f"busy machine does not inflate, and those of its main thread alone: the rest is the "
        f"NER pipelines loading in the background); median of {runs} starts (min-max)\n",
        "| stage | code | " + " | ".join(STEPS) + " |",
        "|---|---|" + "---|" * len(STEPS),
    ]
    for (stage, code), results in rows.items():
        cells = []
        for step in STEPS:
            values = [r[step] for r in results if r[step] == r[step]]
            cells.append(
                f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"
                if values
                else "n/a"
            )
        lines.append(f"| {stage} | {code} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(runs: int, broker: str, baseline: Path | None, stages: list[str]) -> None:
    codes = {"now": ROOT, **({"baseline": baseline.resolve()} if baseline else {})}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if broker == "kafka":
            sys.path.insert(0, str(ROOT))
            from tests.support.kafka import KafkaCluster

            bootstrap = stack.enter_context(KafkaCluster(nodes=1)).bootstrap
            settings = isolated_settings(bootstrap, tag="cold", partitions=3)
            settings = settings.model_copy(update={"idempotent_producer": True})
        else:
            bootstrap = stack.enter_context(LocalBroker(log_path=folder / "broker.log")).bootstrap
            settings = isolated_settings(bootstrap, tag="cold", partitions=3)
        settings = settings.model_copy(
            update={"dedup_backend": "memory", "boilerplate_backend": "off"}
        )
        for code in codes.values():  # as `make install` and the image do (no-op for a baseline)
            build_data(code)
        asyncio.run(create_topics(settings))
        sent = asyncio.run(fill(settings))
        load = os.getloadavg()
        rows: dict[tuple[str, str], list[dict[str, float]]] = {}
        for stage in stages:  # clean first: its runs write the clean topic enrich reads
            for run in range(runs):
                for label, code in codes.items():
                    result = one_start(stage, settings, code, folder, run)
                    rows.setdefault((stage, label), []).append(result)
                    print(
                        stage, label, run, {k: round(v, 2) for k, v in result.items()}, flush=True
                    )
        load_after = os.getloadavg()
    print(
        f"\n{broker} broker, 3 partitions, {sent} pages waiting; each start a consumer group "
        f"of its own; load average {load[0]:.1f} before, {load_after[0]:.1f} after\n"
    )
    print(table(rows, runs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--broker", choices=("kafka", "local"), default="kafka")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--stage", action="append", choices=("clean", "enrich"))
    arguments = parser.parse_args()
    main(
        arguments.runs, arguments.broker, arguments.baseline, arguments.stage or ["clean", "enrich"]
    )
