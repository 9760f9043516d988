"""Fixtures: one real local broker per test session, unique topics and groups per test, and
workers started as real processes (``python -m workers worker STAGE``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from workers.localbroker import TEST_GROUP_TIMING, LocalBroker, free_port
from workers.settings import Settings
from workers.topics import create_topics

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    log_path = tmp_path_factory.mktemp("broker") / "tansu.log"
    with LocalBroker(log_path=log_path) as local:
        yield local


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the real Redis (settings.redis_url); its keys are
    deleted afterwards. Fails, rather than skips, when Redis is not running."""
    client = redis.Redis.from_url(Settings().redis_url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"these tests need Redis at {Settings().redis_url}: {exc}")
    prefix = f"newsflow-test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
async def pipeline(broker: LocalBroker, redis_prefix: str) -> Settings:
    """Settings naming this test's own topics (created, 3 partitions), consumer groups and
    near-duplicate index keys."""
    uid = uuid.uuid4().hex[:8]
    settings = Settings(
        dedup_key_prefix=redis_prefix,
        bootstrap_servers=broker.bootstrap,
        topic_raw=f"t{uid}.raw-html.v1",
        topic_clean=f"t{uid}.articles-clean.v1",
        topic_enriched=f"t{uid}.articles-enriched.v1",
        topic_dead_letter=f"t{uid}.dead-letter.v1",
        clean_group=f"g{uid}-clean",
        enrich_group=f"g{uid}-enrich",
        partitions=3,
        session_timeout_s=float(TEST_GROUP_TIMING["NEWSFLOW_SESSION_TIMEOUT_S"]),
        heartbeat_interval_s=float(TEST_GROUP_TIMING["NEWSFLOW_HEARTBEAT_INTERVAL_S"]),
        rebalance_timeout_s=float(TEST_GROUP_TIMING["NEWSFLOW_REBALANCE_TIMEOUT_S"]),
        commit_interval_s=0.5,
    )
    await create_topics(settings)
    return settings


class WorkerProcess:
    """A worker process and its JSON log (one event per line)."""

    def __init__(self, stage: str, settings: Settings, log_path: Path):
        self.stage = stage
        self.log_path = log_path
        env = {**os.environ, **settings.as_env(), "NEWSFLOW_WEB_PORT": str(free_port())}
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workers", "worker", stage],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

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

    def stop(self, timeout_s: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __repr__(self) -> str:
        return f"<worker {self.stage} pid={self.process.pid} log={self.log_path}>"


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[str, Settings], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(stage: str, settings: Settings) -> WorkerProcess:
        log_path = tmp_path / f"{stage}-{len(started)}.log"
        started.append(WorkerProcess(stage, settings, log_path))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


async def eventually(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.2)
