"""A redelivered page gives the same record: workers of both stages are SIGKILLed again and
again while pages of several multi-page sites flow with the per-site boilerplate memory on;
every document that reaches the sink more than once has one ce_id, one content hash and one
text across its copies (real broker, real Redis, workers as real processes)."""

from __future__ import annotations

import asyncio
import difflib
import random
import time
from collections import defaultdict

import orjson
import pytest

from tests.support.delivery import committed_offsets, processed_offsets, sink_copies
from tests.support.paths import SAMPLES
from tests.support.worker_process import WorkerProcess
from workers.kafka.lag import log_ends
from workers.kafka.produce import encode_raw, produce, raw_record
from workers.kafka.tail import tail
from workers.pipeline import STAGES
from workers.settings import Settings

pytestmark = pytest.mark.broker

MANIFEST = orjson.loads((SAMPLES / "manifest.json").read_bytes())
SITES = 4
PAGES_PER_SITE = 60


def site_pages() -> list[dict]:
    """Pages of a few sites: each site publishes every sample page under several URLs, so its
    short lines recur across its pages and the memory drops them from later ones."""
    records = []
    for site in range(SITES):
        for n in range(PAGES_PER_SITE):
            sample = MANIFEST[n % len(MANIFEST)]
            body = (SAMPLES / sample["file"]).read_bytes()
            url = f"https://www.site{site}.example/news/{n}"
            records.append(raw_record(body, url, content_type=sample["content_type"]))
    return records


async def sink_until(settings: Settings, keys: set[bytes], timeout_s: float) -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        sink = [m async for m in tail(settings, settings.topic_enriched, idle_timeout_s=1.0)]
        if keys <= {m.key for m in sink}:
            return sink
        if time.monotonic() > deadline:
            missing = len(keys - {m.key for m in sink})
            raise AssertionError(f"{missing} of {len(keys)} documents never reached the sink")
        await asyncio.sleep(2)


@pytest.mark.timeout(1200)  # six waves (each may wait a minute for its victim), then the sink
async def test_copies_at_the_sink_are_one_event_with_one_content(
    pipeline: Settings, redis_prefix: str, start_worker
) -> None:
    # Commits every 5 s: between two, a worker at work holds processed, uncommitted inputs.
    settings = pipeline.model_copy(
        update={
            "boilerplate_backend": "redis",
            "boilerplate_key_prefix": f"{redis_prefix}boilerplate:",
            "boilerplate_min_pages": 2,
            "commit_interval_s": 5.0,
        }
    )
    records = site_pages()
    keys = {encode_raw(r)[0] for r in records}
    assert len(keys) == SITES * PAGES_PER_SITE
    inputs = {"clean": settings.topic_raw, "enrich": settings.topic_clean}
    workers = {(stage, n): start_worker(stage, settings) for stage in inputs for n in (0, 1)}

    async def holds_uncommitted(worker: WorkerProcess) -> bool:
        if not (processed := processed_offsets(worker)):  # not at work yet: no group to ask
            return False
        group = STAGES[worker.stage].group(settings)
        committed = await committed_offsets(settings, group, inputs[worker.stage])
        return any(o >= committed[p] for p, o in processed)

    rng = random.Random(20261130)
    kills = caught = 0
    waves = 6  # pages arrive in waves, and a SIGKILL lands in each while the wave flows
    for wave in range(waves):
        summary = await produce(settings, records[wave::waves])
        assert summary.sent == len(records[wave::waves])
        victim = rng.choice(sorted(workers))
        worker = workers[victim]
        await asyncio.sleep(rng.uniform(0.5, 2))
        # The kill waits (a while) for the victim to hold acknowledged, uncommitted outputs:
        # a kill then is certain to redeliver them, where a random moment may catch none.
        deadline = time.monotonic() + 60
        while not await holds_uncommitted(worker) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        caught += await holds_uncommitted(worker)
        worker.kill()
        workers[victim] = start_worker(victim[0], settings)
        kills += 1
    assert caught, "no kill caught a worker holding uncommitted work"

    # As the SIGKILL test: the last kill's replacement loads its models, joins, and redoes
    # what the victim held (a loaded machine took over 240 s once).
    sink = await sink_until(settings, keys, timeout_s=600)
    copies = sink_copies(sink)
    event_ids, hashes, texts = copies.event_ids, copies.hashes, copies.texts
    assert len(event_ids) == len(keys) and set(event_ids) == keys
    copied = [key for key in keys if sum(m.key == key for m in sink) > 1]
    print(
        f"{kills} kills ({caught} mid-work); {len(sink)} sink records"
        f" for {len(keys)} documents; {len(copied)} copied"
    )
    assert copied, "no kill caused a redelivery: the test proved nothing"
    assert all(len(event_ids[key]) == 1 for key in copied), "a copy got another ce_id"
    differing = [key for key in copied if len(texts[key]) > 1]
    assert not differing, "a copy got another text:\n" + "\n".join(
        difflib.unified_diff(*(t.split("\n\n") for t in sorted(texts[differing[0]])[:2]))
    )
    assert all(len(hashes[key]) == 1 for key in copied), "a copy got another content hash"
    # The memory did drop lines (later pages of a site lost its repeated short lines).
    lengths = defaultdict(set)
    for key, text in texts.items():
        lengths[len(next(iter(text)))].add(key)
    assert len(lengths) > len(MANIFEST), "the per-site memory dropped nothing"
    assert sum((await log_ends(settings, settings.topic_dead_letter)).values()) == 0
