"""workers.runtime.runner: the stage in stage processes (real child processes, no broker)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import orjson
import pytest

from tests.support.samples import SLOW_PAGE, clean_sample, entry, message, raw_for
from workers.errors import TransientError
from workers.local.broker import free_port
from workers.runtime.runner import InlineRunner, ProcessRunner, create_runner
from workers.settings import Settings


def _settings(**overrides: object) -> Settings:
    return Settings(boilerplate_backend="off", dedup_backend="memory", **overrides)


@pytest.fixture
def runner_factory() -> Iterator:
    runners: list[ProcessRunner] = []

    def make(stage: str, settings: Settings) -> ProcessRunner:
        runner = ProcessRunner(stage, settings)
        runners.append(runner)
        runner.warm_up()
        return runner

    yield make
    for runner in runners:
        runner.close()


def _raw(prefix: str = "01", body: bytes | None = None):
    return message(raw_for(entry(prefix), body), topic="raw", partition=0, offset=7)


async def test_outputs_match_the_stage_in_this_process(runner_factory) -> None:
    settings = _settings(stage_processes=2)
    runner = runner_factory("clean", settings)
    inline = InlineRunner("clean", settings)
    for prefix in ("01", "02", "03"):
        remote = await runner.submit(_raw(prefix))
        local = await inline.submit(_raw(prefix))
        assert remote.outcome == local.outcome == "ok"
        assert remote.key == local.key and remote.topic == local.topic
        strip = ("timestamps",)  # the stage stamps the time it ran
        assert {k: v for k, v in orjson.loads(remote.value).items() if k not in strip} == {
            k: v for k, v in orjson.loads(local.value).items() if k not in strip
        }


def pid_after(seconds: float) -> int:
    """Runs in a stage process: which one took the task."""
    time.sleep(seconds)
    return os.getpid()


async def test_several_messages_run_at_once(runner_factory) -> None:
    runner = runner_factory("clean", _settings(stage_processes=2))
    pids: set[int] = set()
    for _ in range(30):  # the second process may still be loading its models
        tasks = [runner.pool.schedule(pid_after, args=(0.5,)) for _ in range(2)]
        pids = {task.result(timeout=60) for task in tasks}
        if len(pids) == 2:
            break
    assert len(pids) == 2, "two stage processes, each taking a task while the other works"
    outcomes = await asyncio.gather(*(runner.submit(_raw(p)) for p in ("01", "02", "03", "04")))
    assert [o.outcome for o in outcomes] == ["ok"] * 4


async def test_a_call_past_the_hard_limit_is_killed_and_dead_lettered(runner_factory) -> None:
    # The soft limit (SIGALRM inside extraction) is set out of reach: only the kill can stop it.
    settings = _settings(stage_processes=1, stage_timeout_s=3.0, extraction_timeout_s=120.0)
    runner = runner_factory("clean", settings)
    before = runner.pool.schedule(os.getpid).result(timeout=60)

    slow = await runner.submit(_raw(body=SLOW_PAGE))

    assert slow.outcome == "extraction_timeout"
    assert slow.topic == settings.topic_dead_letter
    dead = orjson.loads(slow.value)
    assert dead["error"]["class"] == "StageTimeout"
    assert "NEWSFLOW_STAGE_TIMEOUT_S" in dead["error"]["message"]
    assert 3.0 <= slow.elapsed_ms / 1000 < 60
    # The process was replaced, and the replacement works.
    assert runner.pool.schedule(os.getpid).result(timeout=120) != before
    assert (await runner.submit(_raw("02"))).outcome == "ok"


async def test_a_stage_process_that_dies_costs_one_dead_letter(runner_factory) -> None:
    settings = _settings(stage_processes=1, extraction_timeout_s=120.0)
    runner = runner_factory("clean", settings)
    pid = runner.pool.schedule(os.getpid).result(timeout=60)
    outcome = runner.submit(_raw(body=SLOW_PAGE))
    await asyncio.sleep(0.5)
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would

    dead = await outcome
    assert dead.outcome == "internal_error"
    assert orjson.loads(dead.value)["error"]["class"] == "ProcessExpired"
    assert (await runner.submit(_raw("02"))).outcome == "ok"


async def test_transient_errors_cross_back_to_the_worker(runner_factory) -> None:
    # Redis away: the enrich stage raises TransientError in the stage process; the worker
    # must get that error (to retry with backoff), not a dead letter.
    settings = Settings(
        stage_processes=1,
        dedup_backend="redis",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        redis_timeout_s=0.5,
    )
    runner = runner_factory("enrich", settings)
    clean = orjson.dumps(clean_sample("01"))
    with pytest.raises(TransientError):
        await runner.submit(message(clean, topic="clean", partition=0, offset=1))


def test_enricher_times_come_back_with_the_output() -> None:
    runner = create_runner("enrich", _settings())
    assert isinstance(runner, InlineRunner)
    outgoing = runner.processor.process(message(orjson.dumps(clean_sample("01"))))
    assert outgoing.outcome == "ok"
    assert set(outgoing.part_seconds or {}) == set(_settings().enrichers)


@pytest.mark.parametrize(
    ("stage", "backend"),
    [("enrich", {"dedup_backend": "memory"}), ("clean", {"boilerplate_backend": "memory"})],
)
def test_in_process_memories_refuse_several_stage_processes(stage: str, backend: dict) -> None:
    settings = Settings(**{"stage_processes": 2, **backend})
    with pytest.raises(ValueError, match="NEWSFLOW_STAGE_PROCESSES=2"):
        create_runner(stage, settings)
