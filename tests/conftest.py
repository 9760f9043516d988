"""Fixtures: one real broker per test session, unique topics and groups per test, and
workers started as real processes (``python -m workers worker STAGE``).

``NEWSFLOW_TEST_BROKER`` picks the broker of the whole integration suite (tests/support/
brokers.py). The demo test and one pipeline smoke test run on Tansu always.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.support.brokers import TEST_BROKER, Broker, pipeline_settings
from tests.support.kafka import KafkaCluster
from tests.support.worker_process import WorkerProcess
from workers.kafka.topics import create_topics
from workers.local.broker import LocalBroker, free_port, wait_for_port
from workers.settings import Settings

# The per-site boilerplate memory learns across pages: tests that clean many pages of one
# made-up site would change each other's output through it. It is off unless a test turns
# it on with its own Redis key prefix (the site-memory unit tests, the redelivery test).
os.environ.setdefault("NEWSFLOW_BOILERPLATE_BACKEND", "off")


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
