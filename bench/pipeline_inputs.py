"""The pipeline benchmark's inputs and in-process measurements: the pages as raw-html.v1
messages, the baseline (the stage functions in a loop) and the per-message envelope
(decode, validate, encode) with orjson and with json."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from bench.wcxb import page_ids, read_page
from workers.cleaning.stage import clean_message
from workers.enrichment.enrichers import build_enrichers
from workers.enrichment.stage import enrich_message
from workers.kafka.produce import encode_raw, raw_record
from workers.pipeline import carried, run_through, warm_up_message
from workers.records import contracts
from workers.records.message import InputMessage
from workers.settings import Settings


def load_pages(data: Path) -> list[tuple[str, bytes]]:
    """(url, html bytes) of every page, in file order."""
    pages = []
    for page_id in page_ids(data):
        body, record = read_page(data, page_id)
        pages.append((record["url"], body))
    return pages


def with_rep(url: str, rep: int) -> str:
    """A distinct document per repetition: the normalised URL keeps the query parameter."""
    base = url.partition("#")[0]
    return f"{base}{'&' if '?' in base else '?'}rep={rep}"


def raw_messages(pages: list[tuple[str, bytes]], count: int, first_rep: int) -> list[tuple]:
    """``count`` (key, value, headers) raw-html.v1 messages cycling through ``pages``."""
    out = []
    for i in range(count):
        url, body = pages[i % len(pages)]
        record = raw_record(body, with_rep(url, first_rep + i // len(pages)), content_type=None)
        out.append(encode_raw(record))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class BaselineResult:
    pages: int
    seconds: float
    cpu_ms: dict[str, float]
    failed: int
    page_ms: dict[int, float] = field(default_factory=dict)
    # (key, value, headers) of each page's clean record: the input of "enrich alone" runs
    clean_records: list[tuple] = field(default_factory=list, repr=False)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds

    @property
    def cpu_per_page_ms(self) -> float:
        return sum(self.cpu_ms.values())


def stage_functions(settings: Settings) -> list[Callable[[InputMessage], dict[str, Any]]]:
    """``clean_message`` and ``enrich_message`` as the workers run them, less the clean
    stage's per-site memory (the near-duplicate enricher keeps its index)."""
    enrichers = build_enrichers(settings)
    return [
        partial(clean_message, settings=settings),
        partial(enrich_message, settings=settings, enrichers=enrichers),
    ]


def run_baseline(pages: list[tuple[str, bytes]], count: int) -> BaselineResult:
    """clean_message then enrich_message for each page, in this process (models loaded once)."""
    stages = stage_functions(Settings())
    for _ in run_through(warm_up_message(), stages):
        pass
    now_ms = int(time.time() * 1000)
    inputs = [
        InputMessage(value, offset=i, timestamp_ms=now_ms, key=key, headers=tuple(headers))
        for i, (key, value, headers) in enumerate(raw_messages(pages, count, first_rep=0))
    ]
    cpu = {"clean": 0.0, "enrich": 0.0}
    per_page: list[float] = []
    clean_records: list[tuple] = []
    failed = 0
    wall0 = time.perf_counter()
    for message in inputs:
        records = run_through(message, stages)
        t0 = time.process_time()
        try:
            record = next(records)
        except Exception:
            failed += 1
            cpu["clean"] += time.process_time() - t0
            continue
        t1 = time.process_time()
        cpu["clean"] += t1 - t0
        next(records)
        cpu["enrich"] += time.process_time() - t1
        per_page.append(1000 * (time.process_time() - t0))
        clean_records.append((record["document_id"].encode(), carried(record).value, []))
    seconds = time.perf_counter() - wall0
    return BaselineResult(
        pages=count,
        seconds=seconds,
        cpu_ms={k: 1000 * v / count for k, v in cpu.items()},
        failed=failed,
        page_ms={q: percentile(per_page, q) for q in (50, 95, 99)} if per_page else {},
        clean_records=clean_records,
    )


def envelope_bench(pages: list[tuple[str, bytes]], n: int = 200) -> list[dict[str, Any]]:
    """Per message: decode + validate + encode, orjson versus json, for each topic's records."""
    stages = stage_functions(Settings())
    raws = [value for _, value, _ in raw_messages(pages[:n], min(n, len(pages)), first_rep=0)]
    cleans, enricheds = [], []
    for value in raws:
        try:
            clean, enriched = run_through(InputMessage(value, timestamp_ms=0), stages)
        except Exception:
            continue
        cleans.append(orjson.dumps(clean))
        enricheds.append(orjson.dumps(enriched))
    rows = []
    for schema, values in (
        ("raw-html.v1", raws),
        ("articles-clean.v1", cleans),
        ("articles-enriched.v1", enricheds),
    ):
        size = statistics.mean(len(v) for v in values)
        row: dict[str, Any] = {"schema": schema, "kb": size / 1024}
        for lib, loads, dumps in (
            ("orjson", orjson.loads, orjson.dumps),
            ("json", json.loads, lambda r: json.dumps(r, ensure_ascii=False).encode()),
        ):
            for part in ("decode", "validate", "encode"):
                row[f"{lib}_{part}"] = 0.0
            for _ in range(3):  # best of three passes
                t = {"decode": 0.0, "validate": 0.0, "encode": 0.0}
                for value in values:
                    a = time.perf_counter()
                    record = loads(value)
                    b = time.perf_counter()
                    contracts.validate(record, schema)
                    c = time.perf_counter()
                    dumps(record)
                    d = time.perf_counter()
                    t["decode"] += b - a
                    t["validate"] += c - b
                    t["encode"] += d - c
                for part, total in t.items():
                    us = 1e6 * total / len(values)
                    best = row[f"{lib}_{part}"]
                    row[f"{lib}_{part}"] = us if best == 0 else min(best, us)
        rows.append(row)
    return rows
