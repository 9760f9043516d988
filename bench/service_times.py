"""Per-page service time of each stage in one process (``python -m bench.service_times``).

The pipeline bench's input pages (the WCXB dev articles), each cleaned then enriched once by
the stage functions as a worker runs them (each stage warmed up first), with the CPU time of
the calling thread per page and per component: for clean, the parse, trafilatura's first pass
(its own fallbacks included), the recall retry, readability's second opinion and the rest; for
enrich, each enricher. Prints the distribution (p50/p95/p99/max ms of CPU) per stage and the
components of the slowest pages: where a page that holds a worker for long spends it, which
is what queues the pages behind it at half capacity (bench/RESULTS.md, "Pipeline").
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

from bench.pipeline_inputs import load_pages, percentile, raw_messages
from bench.wcxb import DEFAULT_DATA
from workers.cleaning import extraction
from workers.errors import StageError
from workers.pipeline import STAGES, carried, warm_up
from workers.records.message import InputMessage
from workers.settings import Settings

# The component a page's CPU is charged to while none of the wrapped functions runs.
REST = "rest"


class Components:
    """CPU (thread time) spent in wrapped functions, each charged exclusively: a wrapped
    function called inside another is taken out of the outer one's share."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self._stack: list[str] = [REST]
        self._since = time.thread_time()

    def _switch(self, to: str | None) -> None:
        now = time.thread_time()
        self.spent[self._stack[-1]] += now - self._since
        self._since = now
        if to is None:
            self._stack.pop()
        else:
            self._stack.append(to)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self._switch(name)
            try:
                return function(*args, **kwargs)
            finally:
                self._switch(None)

        return wrapped

    def take(self) -> dict[str, float]:
        """The milliseconds charged since the last take, per component."""
        self._switch(REST)
        self._stack.pop()
        spent = {name: seconds * 1e3 for name, seconds in self.spent.items() if seconds}
        self.spent.clear()
        return spent


def instrument(components: Components, enrich: Any) -> None:
    """Charge the clean stage's parts and each enricher to ``components`` (this process only)."""
    extraction.parse_page = components.wrap("parse", extraction.parse_page)
    trafilatura.bare_extraction = components.wrap("trafilatura", trafilatura.bare_extraction)
    extraction._recall_retry = components.wrap("recall retry", extraction._recall_retry)
    extraction._second_opinion = components.wrap("readability", extraction._second_opinion)
    enrich.enrichers = [_Charged(e, components.wrap(e.name, e)) for e in enrich.enrichers]


class _Charged:
    """An enricher whose calls are charged to its component (Python looks ``__call__`` up
    on the type, so the instance is wrapped, not patched)."""

    def __init__(self, enricher: Any, call: Callable[..., Any]) -> None:
        self._enricher = enricher
        self._call = call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._enricher, name)

    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        return self._call(article)


def measure(data: Path) -> list[dict[str, Any]]:
    settings = Settings(dedup_backend="memory", boilerplate_backend="off")
    stages = {name: STAGES[name].create(settings) for name in ("clean", "enrich")}
    for name, stage in stages.items():
        warm_up(name, stage, settings)
    components = Components()
    instrument(components, stages["enrich"])
    pages = load_pages(data)
    rows = []
    for number, (key, value, _) in enumerate(raw_messages(pages, len(pages), 0)):
        row: dict[str, Any] = {"page": number}
        message = InputMessage(value, key=key)
        for name, stage in stages.items():
            components.take()
            started = time.thread_time()
            try:
                record = stage(message)
            except StageError:
                break
            finally:
                row[name] = (time.thread_time() - started) * 1e3
                row[f"{name} parts"] = components.take()
            message = carried(record)
        rows.append(row)
    return rows


def report(rows: list[dict[str, Any]], slowest: int) -> str:
    lines = [
        f"{len(rows)} pages, one process, CPU ms of the calling thread per page\n",
        "| stage | pages | mean | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for stage in ("clean", "enrich"):
        values = [r[stage] for r in rows if stage in r]
        cells = [sum(values) / len(values)] + [percentile(values, q) for q in (50, 95, 99)]
        lines.append(
            f"| {stage} | {len(values)} | "
            + " | ".join(f"{v:.1f}" for v in [*cells, max(values)])
            + " |"
        )
    for stage in ("clean", "enrich"):
        ranked = sorted((r for r in rows if stage in r), key=lambda r: -r[stage])[:slowest]
        share: Counter[str] = Counter()
        for row in ranked:
            share.update(row[f"{stage} parts"])
        total = sum(share.values()) or 1.0
        lines += [
            f"\n{stage}: the {len(ranked)} slowest pages, ms (components, ms)\n",
            "| page | ms | components |",
            "|---:|---:|---|",
            *(
                f"| {r['page']} | {r[stage]:.0f} | "
                + ", ".join(
                    f"{n} {v:.0f}"
                    for n, v in sorted(r[f"{stage} parts"].items(), key=lambda kv: -kv[1])[:4]
                )
                + " |"
                for r in ranked
            ),
            "\nshare of their CPU: "
            + ", ".join(f"{n} {v / total:.0%}" for n, v in share.most_common(6)),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = os.environ.get("NEWSFLOW_SHARED_DATA")
    default = Path(shared) / DEFAULT_DATA.name if shared else DEFAULT_DATA
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--slowest", type=int, default=8)
    arguments = parser.parse_args()
    print(report(measure(arguments.data), arguments.slowest))
