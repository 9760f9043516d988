"""A rolling restart with the production consumer-group timings (session 30 s, heartbeat
3 s, rebalance 60 s): from one worker's SIGTERM to its partitions flowing again on the
survivor, within the bound README states (bench/RESULTS.md quotes the measured times)."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.support.delivery import assert_documents, no_dead_letters, pages, wait_for_keys
from tests.support.waiting import eventually
from workers.kafka.produce import encode_raw, produce
from workers.settings import Settings

pytestmark = pytest.mark.broker
PRODUCTION = {
    name: Settings.model_fields[name].default
    for name in ("session_timeout_s", "heartbeat_interval_s", "rebalance_timeout_s")
}


def logged_at(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


@pytest.mark.timeout(600)
async def test_sigterm_hands_partitions_to_the_survivor_with_production_timings(
    pipeline: Settings, start_worker
) -> None:
    settings = pipeline.model_copy(update=PRODUCTION)
    assert settings.session_timeout_s == 30 and settings.rebalance_timeout_s == 60
    leaving, survivor = start_worker("clean", settings), start_worker("clean", settings)
    start_worker("enrich", settings)
    await eventually(
        lambda: leaving.assignment() and survivor.assignment(), 240, "both in the group"
    )
    handed_over = {int(tp.rsplit("/", 1)[1]) for tp in leaving.assignment()}
    records = pages(90, "handover")
    keys = {encode_raw(r)[0] for r in records}
    await produce(settings, records[:45])
    await eventually(lambda: len(leaving.events("processed")) > 0, 240, "work on both")

    sigterm_at = time.time()
    assert leaving.stop() == 0
    await produce(settings, records[45:])

    def flowing_on_survivor() -> list[dict]:
        return [
            e
            for e in survivor.events("processed")
            if logged_at(e) > sigterm_at and int(e["tpo"].rsplit("/", 2)[1]) in handed_over
        ]

    await eventually(flowing_on_survivor, 240, "the survivor to process the handed-over partitions")
    reassigned = [e for e in survivor.events("partitions assigned") if logged_at(e) > sigterm_at]
    assert reassigned and len(reassigned[-1]["partitions"]) == settings.partitions
    sink = await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=240)
    assert_documents(sink, keys)
    await no_dead_letters(settings)
    assigned_s = logged_at(reassigned[0]) - sigterm_at
    flowing_s = logged_at(flowing_on_survivor()[0]) - sigterm_at
    # The leaving worker sends LeaveGroup as its last shutdown step (within the shutdown
    # timeout); the survivor hears of the rebalance at its next heartbeat and, the only
    # member left, is assigned at once: no session timeout is waited out. Then one fetch
    # round and one page's extraction (its time limit) until its first output is acked.
    assigned_bound = settings.shutdown_timeout_s + settings.heartbeat_interval_s
    flowing_bound = (
        assigned_bound + settings.fetch_max_wait_ms / 1000 + settings.extraction_timeout_s
    )
    print(f"SIGTERM -> survivor assigned {assigned_s:.1f} s -> flowing {flowing_s:.1f} s")
    assert assigned_s <= assigned_bound, f"assigned {assigned_s:.1f} s (bound {assigned_bound})"
    assert flowing_s <= flowing_bound, f"flowing {flowing_s:.1f} s (bound {flowing_bound})"
