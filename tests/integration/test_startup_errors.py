"""Start-up failures a user can cause, through the real ``newsflow worker`` command: each is
one line on stderr naming the setting to change, and a non-zero exit; Redis away is waited
for, not ready, with that line."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.support.paths import REPO
from tests.support.waiting import eventually
from tests.support.worker_process import http_get, spawn_command
from workers.local.broker import free_port
from workers.settings import Settings


def newsflow_worker(stage: str, env: dict[str, str], timeout_s: float = 60) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "workers", "worker", stage],
        env={**os.environ, "NEWSFLOW_LOG_FORMAT": "json", **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    return result.returncode, result.stdout, result.stderr


def one_line(stderr: str, stdout: str) -> str:
    """The error line: the whole of stderr, with no traceback anywhere."""
    assert "Traceback" not in stderr + stdout, stderr + stdout
    (line,) = stderr.strip().splitlines()
    assert line.startswith("Error: ")
    return line


def test_an_unparsable_setting_names_it() -> None:
    code, out, err = newsflow_worker("clean", {"NEWSFLOW_WEB_PORT": "six"})
    assert code == 1
    assert "NEWSFLOW_WEB_PORT" in one_line(err, out) and "'six'" in err


def test_the_web_port_in_use_names_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = newsflow_worker("enrich", {"NEWSFLOW_WEB_PORT": str(port)})
    assert code == 1
    line = one_line(err, out)
    assert f"port {port}" in line and f"NEWSFLOW_WEB_PORT={port + 1} newsflow worker" in line


def test_kafka_unreachable_past_the_stated_wait_names_the_setting() -> None:
    started = time.monotonic()
    code, out, err = newsflow_worker(
        "clean",
        {
            "NEWSFLOW_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "NEWSFLOW_WEB_PORT": str(free_port()),
            "NEWSFLOW_STARTUP_WAIT_S": "3",
        },
    )
    assert code == 1
    line = one_line(err, out)
    assert "after 3 s" in line and "NEWSFLOW_BOOTSTRAP_SERVERS" in line
    assert time.monotonic() - started >= 3


@pytest.mark.broker
def test_a_missing_topic_names_its_setting(pipeline: Settings) -> None:
    env = {
        **pipeline.as_env(),
        "NEWSFLOW_TOPIC_ENRICHED": f"{pipeline.topic_enriched}-missing",
        "NEWSFLOW_WEB_PORT": str(free_port()),
    }
    code, out, err = newsflow_worker("enrich", env)
    assert code == 1
    line = one_line(err, out)
    assert f"{pipeline.topic_enriched}-missing (NEWSFLOW_TOPIC_ENRICHED)" in line
    assert "newsflow topics create" in line


@pytest.mark.broker
async def test_redis_away_leaves_the_worker_waiting_not_ready_with_the_setting(
    pipeline: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **pipeline.as_env(),
        "NEWSFLOW_LOG_FORMAT": "json",
        "NEWSFLOW_WEB_PORT": str(port),
        "NEWSFLOW_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    log_path = tmp_path / "enrich.log"
    with log_path.open("ab") as log:
        worker = spawn_command(["worker", "enrich"], env, log)
    try:
        answer: list = []

        def not_ready_for_redis() -> bool:
            answer[:] = http_get(port, "/readyz")
            return answer[0] == 503 and "NEWSFLOW_REDIS_URL" in answer[1].decode()

        await eventually(not_ready_for_redis, 90, "/readyz naming NEWSFLOW_REDIS_URL")
        await asyncio.sleep(1)
        assert worker.poll() is None, "the worker must wait for Redis, not exit"
        events = [orjson.loads(line) for line in log_path.read_bytes().splitlines()]
        told = [e for e in events if "NEWSFLOW_REDIS_URL" in e.get("event", "")]
        assert len(told) == 1, "one line when Redis goes away, not one per probe"
    finally:
        worker.terminate()
        worker.wait(30)


@pytest.mark.broker
def test_exactly_once_on_a_broker_without_transactions_names_the_setting(
    tansu_pipeline: Settings,
) -> None:
    # The embedded broker refuses transactional producers (InitProducerId): the worker says
    # so at start-up instead of failing at its first output.
    env = {
        **tansu_pipeline.model_copy(update={"idempotent_producer": True}).as_env(),
        "NEWSFLOW_PROCESSING_GUARANTEE": "exactly_once",
        "NEWSFLOW_WEB_PORT": str(free_port()),
    }
    started = time.monotonic()
    code, out, err = newsflow_worker("clean", env, timeout_s=120)
    assert code == 1
    line = one_line(err, out)
    assert "does not support Kafka transactions" in line
    assert "NEWSFLOW_PROCESSING_GUARANTEE=at_least_once" in line
    print(f"failed at start-up in {time.monotonic() - started:.1f} s")
