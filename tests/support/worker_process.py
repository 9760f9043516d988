"""A worker started as a real process (``python -m workers worker STAGE``): its JSON log,
its assignment, its memory, and HTTP GETs to its web port."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from tests.support.paths import REPO
from workers.local.broker import free_port
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings


class WorkerProcess:
    """A worker process and its JSON log (one event per line)."""

    def __init__(self, stage: str, settings: Settings, log_path: Path):
        self.stage = stage
        self.log_path = log_path
        self.web_port = free_port()
        env = {**os.environ, **settings.as_env(), "NEWSFLOW_WEB_PORT": str(self.web_port)}
        self.process = spawn_worker(stage, env, log_path, cwd=REPO)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_bytes().splitlines():
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a traceback or a library's plain print
            if isinstance(event, dict) and (name is None or event.get("event") == name):
                events.append(event)
        return events

    def assignment(self) -> set[str]:
        """Partitions of the latest assignment this worker logged."""
        assigned = self.events("partitions assigned")
        return set(assigned[-1]["partitions"]) if assigned else set()

    def kill(self) -> None:
        """SIGKILL: no goodbye, no commit, no leave-group."""
        self.process.kill()
        self.process.wait()

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise LookupError("VmHWM not in /proc status")

    def stop(self, timeout_s: float = 20.0) -> int:
        return stop_process(self.process, timeout_s)

    def __repr__(self) -> str:
        return f"<worker {self.stage} pid={self.process.pid} log={self.log_path}>"


def http_get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


class LagExporterProcess:
    """``newsflow lag --serve PORT`` as a real process, on a free port, logging to a file."""

    def __init__(self, settings: Settings, log_path: Path, interval_s: float = 2.0):
        self.port = free_port()
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = spawn_command(
                ["lag", "--serve", str(self.port), "--interval", str(interval_s)],
                {**os.environ, **settings.as_env(), "NEWSFLOW_LOG_FORMAT": "json"},
                log,
            )

    @property
    def web_port(self) -> int:  # as a worker's, for the scrape helpers
        return self.port

    def stop(self, timeout_s: float = 15.0) -> int:
        return stop_process(self.process, timeout_s)


def spawn_command(args: list[str], env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    """``python -m workers ARGS...`` (the `newsflow` command) from the repository."""
    return subprocess.Popen(
        [sys.executable, "-m", "workers", *args],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
