"""The pipeline benchmark's report: the Markdown tables kept in bench/RESULTS.md."""

from __future__ import annotations

import statistics
from typing import Any

from bench.pipeline_inputs import BaselineResult
from bench.pipeline_run import PipelineResult


def fmt_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(
    baseline: BaselineResult, results: list[PipelineResult], envelope: list[dict[str, Any]]
) -> str:
    base_per_core = 1000 / baseline.cpu_per_page_ms
    naive = next((r for r in results if r.label == "naive"), None)
    results = [r for r in results if r is not naive]
    rows = [
        [
            "baseline: stage functions in a loop, 1 process",
            f"{baseline.pages_per_s:.1f}",
            f"{baseline.cpu_ms['clean']:.1f}",
            f"{baseline.cpu_ms['enrich']:.1f}",
            f"{base_per_core:.1f}",
            "1.00",
            "-",
            "-",
            "-",
            "-",
            "-",
        ]
    ]
    if naive:
        rows.append(
            [
                "naive loop: trafilatura JSON + metadata, spaCy sm over the whole text, aiokafka",
                f"{naive.pages_per_s:.1f}",
                f"{naive.worker_cpu_per_page_ms:.1f} (both)",
                "-",
                f"{1000 / naive.worker_cpu_per_page_ms:.1f}",
                f"{1000 / naive.worker_cpu_per_page_ms / base_per_core:.2f}",
                "1.00",
                f"{naive.cores['naive']:.2f} (broker {naive.broker_cpu_per_page_ms:.1f} ms/page)",
                "-",
                f"{naive.rss[0]['VmHWM']:.0f}",
                f"{naive.rss[0]['Pss']:.0f}",
            ]
        )
    stages = ("clean", "enrich")

    def per_stage(values: dict[str, float], fmt: str) -> list[str]:
        return [format(values[stage], fmt) if stage in values else "-" for stage in stages]

    for r in results:
        per_core = 1000 / r.worker_cpu_per_page_ms
        # A stage run alone is compared with that stage's share of the baseline.
        base = 1000 / sum(baseline.cpu_ms[stage] for stage in r.cpu_per_page_ms)
        lat = (
            f"{r.latency_ms['p50']:.0f} / {r.latency_ms['p95']:.0f} / {r.latency_ms['p99']:.0f}"
            f" at {r.latency_rate:.1f}/s (n={r.latency_n})"
            if r.latency_ms
            else "-"
        )
        peak, pss = (
            {
                stage: max(m[key] for m in r.rss if m["stage"] == stage)
                for stage in stages
                if any(m["stage"] == stage for m in r.rss)
            }
            for key in ("VmHWM", "Pss")
        )
        rows.append(
            [
                f"{r.label}: {r.replicas[0]} clean + {r.replicas[1]} enrich workers",
                f"{r.pages_per_s:.1f}",
                *per_stage(r.cpu_per_page_ms, ".1f"),
                f"{per_core:.1f}",
                f"{per_core / base:.2f}",
                f"{r.worker_cpu_per_page_ms / naive.worker_cpu_per_page_ms:.2f}"
                if naive and len(r.cpu_per_page_ms) == 2
                else "-",
                " + ".join(per_stage(r.cores, ".2f"))
                + f" (broker {r.broker_cpu_per_page_ms:.1f} ms/page)",
                lat,
                " / ".join(per_stage(peak, ".0f")),
                " / ".join(per_stage(pss, ".0f")),
            ]
        )
    table = fmt_table(
        [
            "run",
            "pages/s",
            "clean CPU ms/page",
            "enrich CPU ms/page",
            "pages per CPU-s",
            "vs baseline (per core)",
            "CPU/page vs naive",
            "cores used clean + enrich",
            "latency p50/p95/p99 ms",
            "peak RSS MB clean / enrich",
            "PSS MB clean / enrich",
        ],
        rows,
    )
    env_rows = []
    for row in envelope:
        for lib in ("orjson", "json"):
            parts = [row[f"{lib}_{p}"] for p in ("decode", "validate", "encode")]
            env_rows.append(
                [row["schema"], f"{row['kb']:.1f}", lib]
                + [f"{p:.0f}" for p in parts]
                + [f"{sum(parts):.0f}"]
            )
    env_table = fmt_table(
        ["record", "avg KB", "library", "decode µs", "validate µs", "encode µs", "total µs"],
        env_rows,
    )
    notes = []
    # Each run against the first run of the same label with half its replicas of every stage.
    for two in results:
        one = next(
            (r for r in results if r.label == two.label and 2 * sum(r.replicas) == sum(two.replicas)
             and all(2 * a == b for a, b in zip(r.replicas, two.replicas, strict=True))),
            None,
        )  # fmt: skip
        if one is None:
            continue
        broker_cores = [r.broker_cpu_per_page_ms * r.pages_per_s / 1000 for r in (one, two)]
        notes.append(
            f"{two.label} {'+'.join(map(str, two.replicas))} vs "
            f"{'+'.join(map(str, one.replicas))}: throughput "
            f"x{two.pages_per_s / one.pages_per_s:.2f}; worker CPU per page "
            f"x{two.worker_cpu_per_page_ms / one.worker_cpu_per_page_ms:.2f}; cores used by "
            f"the workers {sum(one.cores.values()):.2f} and {sum(two.cores.values()):.2f}, by "
            f"the broker {broker_cores[0]:.2f} and {broker_cores[1]:.2f}"
        )
    for r in results:
        if r.latency_legs:
            notes.append(
                f"{r.label} {'+'.join(map(str, r.replicas))} latency by leg, ms p50 / p95 / p99: "
                + "; ".join(
                    f"{leg} {q['p50']:.0f} / {q['p95']:.0f} / {q['p99']:.0f}"
                    for leg, q in r.latency_legs.items()
                )
            )
    notes += label_medians(results)
    if baseline.page_ms:
        notes.append(
            "stage functions' own CPU per page (clean + enrich) in the baseline: p50 / p95 / p99 "
            + " / ".join(f"{baseline.page_ms[q]:.0f}" for q in (50, 95, 99))
            + " ms"
        )
    return "\n\n".join([table, env_table, *notes])


def label_medians(results: list[PipelineResult]) -> list[str]:
    """With runs of a label repeated (interleaved before/after, one mode against another):
    per label, the median throughput and latency percentiles, and each against the first
    label's medians. Latency ratios mean something only at one offered load
    (``--latency-rate``): the note says the rates."""
    labels: dict[str, list[PipelineResult]] = {}
    for r in results:
        labels.setdefault(r.label, []).append(r)
    if len(labels) < 2 or all(len(runs) < 2 for runs in labels.values()):
        return []
    medians = {}
    for label, runs in labels.items():
        timed = [r for r in runs if r.latency_ms]
        medians[label] = {
            "pages/s": statistics.median(r.pages_per_s for r in runs),
            **{
                q: statistics.median(r.latency_ms[q] for r in timed)  # type: ignore[index]
                for q in ("p50", "p95", "p99")
                if timed
            },
            "rates": sorted({round(r.latency_rate or 0, 2) for r in timed}),
            "runs": len(runs),
        }
    first = next(iter(medians.values()))
    notes = []
    for label, m in medians.items():
        ratios = [
            f"{key} x{m[key] / first[key]:.2f}"
            for key in ("pages/s", "p50", "p95", "p99")
            if key in m and key in first and first[key]
        ]
        latency = " / ".join(f"{m[q]:.0f}" for q in ("p50", "p95", "p99") if q in m)
        notes.append(
            f"median of {m['runs']} runs, {label}: {m['pages/s']:.2f} pages/s; latency "
            f"p50 / p95 / p99 {latency} ms at {', '.join(map(str, m['rates']))}/s offered; "
            f"against {next(iter(medians))}: " + ", ".join(ratios)
        )
    return notes
