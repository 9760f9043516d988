"""Pipeline benchmark: the stage functions in a loop versus the pipeline on Apache Kafka.

    python -m bench.pipeline [--messages 2000] [--latency-s 40] [--profile DIR]
        [--broker kafka|tansu] [--no-naive]

On the same real pages (the WCXB dev articles in ``../shared/data``, repeated with a
``?rep=N`` query so each message is its own document), measured side by side in one run:

1. baseline: ``clean_message`` then ``enrich_message`` in a loop in this process;
2. the naive loop (``bench/pipeline_naive.py``: trafilatura JSON with metadata, then spaCy's
   small English model over the whole text, consumed and produced with aiokafka) in its own
   process: throughput and CPU per page, the reference of the "CPU/page vs naive" column;
3. the pipeline with one clean and one enrich worker (real ``python -m workers worker``
   processes on one Apache Kafka node started from the tests' jars, or on the embedded Tansu
   broker with ``--broker tansu``): throughput at the sink with a backlog, then
   end-to-end latency at a steady offered load of half that throughput;
4. the pipeline with two clean and two enrich workers (throughput with a backlog);
5. one stage alone with one and with two replicas (``--config LABEL:0:N`` runs N enrich workers
   on the baseline's clean records, ``LABEL:N:0`` N clean workers up to the clean topic), so
   "two replicas of the bottleneck" is measured on the stage itself;

plus a micro-benchmark of the per-message envelope (decode, validate, encode) with orjson and
with the standard library's json. Prints one Markdown table per part.

CPU per page comes from /proc/<pid>/stat (user + system) of each worker and its descendants
(stage processes, ``NEWSFLOW_STAGE_PROCESSES``) over the measured window divided by the
messages that worker read; memory is VmHWM (peak) summed over the worker's processes (an
upper bound: shared pages count once per process) and their proportional set size (Pss).
Latency is the sink record's broker timestamp minus the raw record's
(``timestamps.raw_produced``). "Per consumed core" = pages per CPU-second of the workers
(the broker's CPU, the JVM's on Kafka, is reported beside it, not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from bench.pipeline_inputs import BaselineResult, envelope_bench, load_pages, run_baseline
from bench.pipeline_report import report
from bench.pipeline_run import run_naive, run_pipeline
from bench.pipeline_workers import bench_broker
from bench.wcxb import DEFAULT_DATA


async def pipelines(
    args: argparse.Namespace, pages: list[tuple[str, bytes]], clean_backlog: list[tuple]
) -> list:
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    print(f"logs in {work}", file=sys.stderr)
    results = []
    configs = [(label, c, e, lat) for label, c, e, lat in args.configs]
    # "first": every latency phase at the first one's rate, so runs compare at one load
    rate = None if args.latency_rate == "first" else args.latency_rate
    with bench_broker(args.broker, work) as broker:
        if args.naive:
            print("· naive loop", file=sys.stderr)
            naive = await run_naive(
                broker, pages, messages=args.naive_messages, partitions=args.partitions, work=work
            )
            print(
                f"  {naive.pages_per_s:.1f} pages/s, CPU ms/page {naive.cpu_per_page_ms}",
                file=sys.stderr,
            )
            results.append(naive)
        for label, clean, enrich, latency in configs:
            env = dict(kv.split("=", 1) for kv in args.env.get(label, []))
            print(f"· {label}: {clean} clean + {enrich} enrich", file=sys.stderr)
            result = await run_pipeline(
                label,
                broker,
                pages,
                clean=clean,
                enrich=enrich,
                messages=args.messages,
                partitions=args.partitions,
                latency_s=args.latency_s if latency else 0,
                work=work,
                profile=args.profile,
                env=env,
                clean_backlog=clean_backlog,
                latency_rate=rate,
            )
            if args.latency_rate == "first" and rate is None:
                rate = result.latency_rate
            print(
                f"  {result.pages_per_s:.1f} pages/s, CPU ms/page {result.cpu_per_page_ms}, "
                f"latency {result.latency_ms}, mean wall ms in stage/delivery {result.wall_ms}",
                file=sys.stderr,
            )
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--messages", type=int, default=2000, help="pages per pipeline run")
    parser.add_argument("--baseline-pages", type=int, default=711)
    parser.add_argument("--naive-messages", type=int, default=300, help="naive loop pages")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--latency-s", type=float, default=40.0, help="latency phase length")
    parser.add_argument(
        "--latency-rate",
        type=lambda v: v if v == "first" else float(v),
        help="pages/s offered in every latency phase, or 'first': the first run's (half its "
        "throughput); default: half of each run's own throughput",
    )
    parser.add_argument("--profile", type=Path, help="py-spy raw profiles of every worker here")
    parser.add_argument(
        "--config",
        action="append",
        dest="config_specs",
        metavar="LABEL:CLEAN:ENRICH[:latency][:ENV=VALUE...]",
        # BENCH_CHECKOUT=DIR among the ENV: that checkout's workers (a before/after pair)
        help="pipeline runs (default: 1+1 with latency, then 2+2)",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--broker", choices=("kafka", "tansu"), default="kafka", help="default: Apache Kafka"
    )
    parser.add_argument(
        "--no-naive", dest="naive", action="store_false", help="skip the naive loop's row"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    args.configs, args.env = [], {}
    for spec in args.config_specs or ["pipeline:1:1:latency", "pipeline:2:2"]:
        label, clean, enrich, *rest = spec.split(":")
        latency = "latency" in rest
        args.configs.append((label, int(clean), int(enrich), latency))
        args.env[label] = [r for r in rest if "=" in r]

    pages = load_pages(args.data)
    print(
        f"{len(pages)} pages, {sum(len(b) for _, b in pages) / len(pages) / 1024:.0f} KB HTML "
        f"on average; {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )
    envelope = envelope_bench(pages)
    baseline = None
    if not args.skip_baseline:
        print(f"· baseline over {args.baseline_pages} pages", file=sys.stderr)
        baseline = run_baseline(pages, args.baseline_pages)
        print(f"  {baseline.pages_per_s:.1f} pages/s, {baseline.cpu_ms}", file=sys.stderr)
    results = asyncio.run(pipelines(args, pages, baseline.clean_records if baseline else []))
    if baseline is None:
        baseline = BaselineResult(1, 1.0, {"clean": float("nan"), "enrich": 0.0}, 0)
    print(
        f"{datetime.now().isoformat(timespec='minutes')} · {os.cpu_count()} cores · "
        f"load at end {os.getloadavg()[0]:.2f} · {args.messages} messages per pipeline run, "
        f"{args.partitions} partitions · broker: {args.broker}"
    )
    print()
    print(report(baseline, results, envelope))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "baseline": {
                        k: v for k, v in baseline.__dict__.items() if k != "clean_records"
                    },
                    "pipelines": [r.__dict__ for r in results],
                    "envelope": envelope,
                },
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
