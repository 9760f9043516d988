"""What a worker's /metrics weighs before any traffic: series and bytes per stage, with the
stage's label sets published at 0 (``metrics.announce_worker``) and without (only the
identity, as before 2026-11-30). Each case runs in a fresh interpreter, since the metrics
live in prometheus-client's global registry.

    .venv/bin/python bench/scrape_size.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CASE = """
import json, sys
from prometheus_client import REGISTRY, generate_latest
from workers.ops import metrics
from workers.pipeline import STAGES
from workers.settings import Settings
stage, announce = sys.argv[1], sys.argv[2] == "1"
labels = {"stage": stage, "version": "bench", "group": "newsflow-" + stage}
if announce:
    enrichers = Settings().enrichers if stage == "enrich" else ()
    metrics.announce_worker(STAGES[stage], labels, enrichers=enrichers)
else:
    metrics.WORKER.info(labels)
body = generate_latest(REGISTRY)
samples = [l for l in body.decode().splitlines() if l and not l.startswith("#")]
print(json.dumps({"series": len(samples), "bytes": len(body)}))
"""


def measure(stage: str, announce: bool) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", CASE, stage, "1" if announce else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    print("| stage | series before | series now | bytes before | bytes now |")
    print("|---|---|---|---|---|")
    for stage in ("clean", "enrich"):
        before, now = measure(stage, False), measure(stage, True)
        print(
            f"| {stage} | {before['series']} | {now['series']} "
            f"| {before['bytes']} | {now['bytes']} |"
        )


if __name__ == "__main__":
    main()
