"""Fixtures: one real broker per test session, unique topics and groups per test, and
workers started as real processes (``python -m workers worker STAGE``).

``NEWSFLOW_TEST_BROKER`` picks the broker of the whole integration suite: ``kafka`` (the
default: Apache Kafka from Maven Central's jars, workers/local/kafka.py) or ``tansu`` (the
embedded broker of the demo). The demo test and one pipeline smoke test run on Tansu always.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from workers.kafka.topics import create_topics
from workers.local.broker import LocalBroker, free_port, isolated_settings, wait_for_port
from workers.local.kafka import KafkaCluster
from workers.local.processes import spawn_worker, stop_process
from workers.settings import Settings

REPO = Path(__file__).resolve().parent.parent
# The per-site boilerplate memory learns across pages: tests that clean many pages of one
# made-up site would change each other's output through it. It is off unless a test turns
# it on (tests/test_site_boilerplate.py does, with its own Redis key prefix).
os.environ.setdefault("NEWSFLOW_BOILERPLATE_BACKEND", "off")

TEST_BROKER = os.environ.get("NEWSFLOW_TEST_BROKER", "kafka")
if TEST_BROKER not in {"kafka", "tansu"}:
    raise pytest.UsageError(f"NEWSFLOW_TEST_BROKER={TEST_BROKER!r}: use kafka or tansu")
Broker = KafkaCluster | LocalBroker


@pytest.fixture(scope="session")
def tansu_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """The embedded broker (Tansu, memory storage), whichever broker the suite runs on."""
    log_path = tmp_path_factory.mktemp("broker") / "tansu.log"
    with LocalBroker(log_path=log_path) as local:
        yield local


@pytest.fixture(scope="session")
def broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Broker]:
    """The session's broker, as NEWSFLOW_TEST_BROKER says (Apache Kafka by default)."""
    if TEST_BROKER == "tansu":
        yield request.getfixturevalue("tansu_broker")
        return
    with KafkaCluster(folder=tmp_path_factory.mktemp("kafka")) as kafka:
        yield kafka


@pytest.fixture
def restartable_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own whose topics, records and offsets survive a SIGKILL and a
    restart (``kill_broker``, then ``.start()``): Kafka on its data dir, or Tansu on S3."""
    if TEST_BROKER == "tansu":
        s3 = request.getfixturevalue("s3_store")
        local = LocalBroker(storage="s3://tansu/", env=s3, log_path=tmp_path / "tansu.log")
        with local:
            yield local
        return
    with KafkaCluster(folder=tmp_path / "kafka") as kafka:
        yield kafka


@pytest.fixture
def s3_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A local S3 (moto) with bucket 'tansu': broker storage that survives a broker restart.
    Yields the environment the broker needs to use it."""
    import boto3

    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("ab")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port("127.0.0.1", port, 30)
        env = {
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT": f"http://127.0.0.1:{port}",
            "AWS_ALLOW_HTTP": "true",
        }
        boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT"],
            aws_access_key_id="x",
            aws_secret_access_key="x",
            region_name="us-east-1",
        ).create_bucket(Bucket="tansu")
        yield env
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def kill_broker(broker: Broker) -> None:
    """SIGKILL the broker: no controlled shutdown; its stored data stays as it was."""
    if isinstance(broker, KafkaCluster):
        broker.kill()
    elif broker.process is not None:
        broker.process.kill()
        broker.process.wait()


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


def pipeline_settings(
    bootstrap: str, redis_prefix: str, *, kafka: bool = TEST_BROKER == "kafka"
) -> Settings:
    """Settings naming a test's own topics (3 partitions), consumer groups and
    near-duplicate index keys; idempotent producers on Kafka (Tansu has none)."""
    return isolated_settings(
        bootstrap,
        tag="t",
        partitions=3,
        dedup_key_prefix=redis_prefix,
        commit_interval_s=0.5,
        idempotent_producer=kafka,
    )


@pytest.fixture
async def pipeline(broker: Broker, redis_prefix: str) -> Settings:
    """Settings naming this test's own topics (created) and consumer groups."""
    settings = pipeline_settings(broker.bootstrap, redis_prefix)
    await create_topics(settings)
    return settings


@pytest.fixture
async def tansu_pipeline(tansu_broker: LocalBroker, redis_prefix: str) -> Settings:
    """Like ``pipeline``, on the embedded broker whichever broker the suite runs on."""
    settings = pipeline_settings(tansu_broker.bootstrap, redis_prefix, kafka=False)
    await create_topics(settings)
    return settings


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


async def eventually_async(
    check: Callable[[], Awaitable[bool]], timeout_s: float, what: str
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(1)
