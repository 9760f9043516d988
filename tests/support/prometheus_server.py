"""A real Prometheus for the tests: Debian's ``prometheus`` binary on loopback, scraping
given workers with the job names of deploy/prometheus/prometheus.yml and evaluating
deploy/prometheus/alerts.yml, queried through its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO
from workers.local.broker import free_port, wait_for_port

COMPOSE_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"


def test_config(targets: dict[str, list[str]], interval_s: int) -> dict[str, Any]:
    """The compose config with static targets per job instead of Docker's DNS, a shorter
    scrape and evaluation interval, and the repository's rule file."""
    config = yaml.safe_load(COMPOSE_CONFIG.read_text())
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = f"{interval_s}s"
    config["rule_files"] = [str(ALERTS)]
    for job in config["scrape_configs"]:
        job.pop("dns_sd_configs")
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    return config


class PrometheusServer:
    """``prometheus`` started on a free loopback port with its data in ``workdir``."""

    def __init__(self, workdir: Path, targets: dict[str, list[str]], interval_s: int):
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is missing: `make services` installs Debian's package")
        self.interval_s = interval_s
        self.port = free_port()
        config = workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(test_config(targets, interval_s), sort_keys=False))
        self.log_path = workdir / "prometheus.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started_at = time.time()
        wait_for_port("127.0.0.1", self.port, 30)
        self._wait_ready(60)

    def _wait_ready(self, timeout_s: float) -> None:
        """Until ``/-/ready`` answers 200 (the port opens before the TSDB is loaded)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=5):
                    return
            except OSError as error:  # HTTPError 503 included
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"Prometheus not ready; see {self.log_path}") from error
            time.sleep(0.2)

    def api(self, path: str, **params: Any) -> Any:
        """The ``data`` of a successful answer of the HTTP API (``/api/v1/<path>``)."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=30) as answer:
            body = json.loads(answer.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant vector of ``expr``: one ``{"metric": labels, "value": [t, "v"]}`` a series."""
        data = self.api("query", query=expr, time=at if at is not None else time.time())
        assert data["resultType"] == "vector", (expr, data["resultType"])
        return data["result"]

    def values(self, expr: str, *labels: str, at: float | None = None) -> dict[tuple, float]:
        """``expr``'s values keyed by the given labels' values."""
        return {
            tuple(series["metric"].get(label) for label in labels): float(series["value"][1])
            for series in self.query(expr, at)
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
