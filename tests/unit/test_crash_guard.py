"""The process-death count (workers/runtime/crash_guard.py) on the real Redis, and the rule
that a wait for Redis is no stall (workers/ops/health.py). The real process deaths are in
tests/integration/test_crash_looping_page.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import orjson
import pytest
import redis

from tests.support.delivery import pages
from workers.local.broker import free_port
from workers.ops.health import WorkerHealth
from workers.records.message import InputMessage
from workers.runtime.crash_guard import KEY_PREFIX, CrashGuard
from workers.runtime.runner import InlineRunner
from workers.settings import Settings
from workers.state.connection import connect


@pytest.fixture
def group() -> Iterator[str]:
    group = f"test-guard-{uuid.uuid4().hex[:8]}"
    yield group
    client = redis.Redis.from_url(Settings().redis_url)
    for key in client.scan_iter(match=f"{KEY_PREFIX}{group}:*"):
        client.delete(key)


def guard(group: str, url: str | None = None) -> CrashGuard:
    """A guard on its own connection, as a new worker process would have."""
    return CrashGuard(connect(url or Settings().redis_url, 0.5), group, max_deaths=2, ttl_s=60)


MESSAGE = InputMessage(value=b"{}", topic="raw", partition=1, offset=7)


def test_starts_that_never_finished_are_counted_across_processes(group: str) -> None:
    assert guard(group).deaths_before(MESSAGE) == 0  # this process dies on it
    assert guard(group).deaths_before(MESSAGE) == 1  # and the next one
    survivor = guard(group)
    assert survivor.deaths_before(MESSAGE) == 2
    survivor.finished(MESSAGE)
    assert guard(group).deaths_before(MESSAGE) == 0
    other = InputMessage(value=b"{}", topic="raw", partition=1, offset=8)
    assert guard(group).deaths_before(other) == 0


def test_the_marker_expires(group: str) -> None:
    first = guard(group)
    first.deaths_before(MESSAGE)
    assert 0 < first.client.ttl(first.key(MESSAGE)) <= 60


def test_an_unreachable_redis_leaves_messages_unguarded_without_waiting(group: str) -> None:
    away = guard(group, f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    assert away.deaths_before(MESSAGE) is None
    away.finished(MESSAGE)
    assert away.deaths_before(MESSAGE) is None  # paused: not even tried
    assert time.monotonic() - started < 2


async def test_the_runner_dead_letters_a_message_it_died_on_too_often(group: str) -> None:
    settings = Settings(
        clean_group=group, max_process_deaths=2, boilerplate_backend="off", log_level="WARNING"
    )
    runner = InlineRunner("clean", settings)
    assert runner.guard is not None
    value = orjson.dumps(pages(1, "guard")[0])
    message = InputMessage(value=value, topic="raw", partition=0, offset=3)
    for _ in range(2):  # two starts that never finished: two deaths
        runner.guard.deaths_before(message)
    for _ in range(2):  # and a redelivery of the dead letter before its commit
        outgoing = await runner.submit(message)
        assert outgoing.outcome == "worker_died"
        record = orjson.loads(outgoing.value)
        assert record["attempts"] == 2
        assert record["error"]["message"].startswith("the worker process died 2 times")
    runner.guard.finished(message)
    assert (await runner.submit(message)).outcome == "ok"
    assert runner.guard.deaths_before(message) == 0  # the start that returned is no death


def test_a_wait_for_redis_is_no_stall() -> None:
    health = WorkerHealth("enrich", stall_after_s=0.2)
    health.on_assigned({("raw", 0)})
    health.partitions[("raw", 0)].lag = 3
    time.sleep(0.3)
    health.tick()  # the loop turns; only the partition stands still
    assert health.healthy() == (False, ["no progress for 0.2 s on raw/0"])
    health.on_redis("Redis at redis:6379 does not answer")
    assert health.healthy() == (True, [])
    assert not health.ready()[0]
    health.on_redis(None)  # back: its messages get stall_after_s to move again
    assert health.healthy() == (True, [])
    time.sleep(0.3)
    health.tick()
    assert not health.healthy()[0]
