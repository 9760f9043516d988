"""A page that kills the worker process on every try (in the worker's own process, the
default) ends as one ``worker_died`` dead letter after NEWSFLOW_MAX_PROCESS_DEATHS deaths, and
its partition moves on. The deaths are real: the clean worker SIGKILLs itself on the page
(tests/support/crash_hook, loaded only into this test's worker), and each replacement is a
new process that knows of the earlier deaths only through the marker in Redis."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import orjson
import pytest
import redis

from tests.support.delivery import (
    assert_documents,
    caught_up,
    committed_offsets,
    pages,
    read_topic,
    wait_for_keys,
)
from tests.support.paths import REPO
from tests.support.waiting import eventually_async
from workers.kafka.lag import log_ends
from workers.kafka.produce import encode_raw, produce
from workers.runtime.crash_guard import KEY_PREFIX
from workers.settings import Settings

pytestmark = pytest.mark.broker


def source_key(letter: dict) -> str:
    source = letter["source"]
    return f"{source['topic']}:{source['partition']}:{source['offset']}"


HOOK = REPO / "tests" / "support" / "crash_hook"
MAX_DEATHS = 2


@pytest.fixture
def settings(pipeline: Settings) -> Iterator[Settings]:
    """The pipeline's settings; the markers its group leaves in Redis are deleted after."""
    yield pipeline.model_copy(update={"max_process_deaths": MAX_DEATHS})
    client = redis.Redis.from_url(pipeline.redis_url)
    for key in client.scan_iter(match=f"{KEY_PREFIX}{pipeline.clean_group}:*"):
        client.delete(key)
    client.close()


@pytest.mark.timeout(600)
async def test_page_that_kills_the_worker_becomes_a_dead_letter(
    settings: Settings, start_worker, monkeypatch
) -> None:
    marker = f"die-here-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NEWSFLOW_TEST_DIE_ON", marker)
    monkeypatch.setenv("PYTHONPATH", f"{HOOK}{os.pathsep}{os.environ.get('PYTHONPATH', REPO)}")
    good = pages(24, "crash-loop")
    poison = pages(1, marker)[0]
    assert marker.encode() in encode_raw(poison)[1]
    # Good pages before and after it on every partition, the poison in the middle.
    await produce(settings, good[:12])
    await produce(settings, [poison])
    await produce(settings, good[12:])
    good_keys = {encode_raw(r)[0] for r in good}

    start_worker("enrich", settings)  # stays up: the sink gets every good page
    clean = {settings.clean_group: settings.topic_raw}
    deaths = 0
    while True:
        worker = start_worker("clean", settings)

        async def died_or_done(worker=worker) -> bool:
            return worker.process.poll() is not None or await caught_up(settings, clean)

        await eventually_async(died_or_done, 240, "the clean worker to die or catch up")
        if worker.process.poll() is None:
            break
        assert worker.process.returncode == -signal.SIGKILL, worker.process.returncode
        deaths += 1
        assert deaths <= MAX_DEATHS, f"the worker died {deaths} times on the page"
    assert deaths == MAX_DEATHS
    assert len(worker.events("the worker died on this message too often; dead-lettering it")) == 1

    sink = await wait_for_keys(settings, settings.topic_enriched, good_keys, timeout_s=300)
    assert_documents(sink, good_keys)
    dead = [orjson.loads(m.value) for m in await read_topic(settings, settings.topic_dead_letter)]
    assert len(dead) == 1, dead
    letter = dead[0]
    assert letter["reason"] == "worker_died"
    assert letter["stage"] == "clean"
    assert letter["attempts"] == MAX_DEATHS
    assert f"died {MAX_DEATHS} times" in letter["error"]["message"]
    assert letter["url"] == poison["url"]
    marker_key = f"{KEY_PREFIX}{settings.clean_group}:{source_key(letter)}"
    assert redis.Redis.from_url(settings.redis_url).get(marker_key) == str(MAX_DEATHS).encode()
    assert letter["error"]["class"] == "WorkerDied"
    source = letter["source"]
    assert source["topic"] == settings.topic_raw
    # The poisoned page's partition moved past it: committed up to its log end.
    committed = await committed_offsets(settings, settings.clean_group, settings.topic_raw)
    ends = await log_ends(settings, settings.topic_raw)
    assert committed[source["partition"]] == ends[source["partition"]] > source["offset"]
