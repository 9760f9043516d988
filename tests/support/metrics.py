"""What ops sees of running workers, read as ops reads it: a worker's /metrics as numbers,
``newsflow lag --json`` rows, and the alert rules of deploy/prometheus/alerts.yml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import REPO
from tests.support.worker_process import WorkerProcess, http_get
from workers.settings import Settings

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"


def alert_rules() -> list[dict]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def scrape(worker: WorkerProcess) -> dict[tuple[str, tuple], float]:
    status, body = http_get(worker.web_port, "/metrics")
    assert status == 200, f"/metrics answered {status}"
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def lag_rows(settings: Settings) -> list[dict]:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "newsflow"), "lag", "--json"],
        env={**settings.as_env(), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
