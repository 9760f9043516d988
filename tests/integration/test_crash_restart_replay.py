"""The design's guarantees under crashes, restarts, hostile traffic and replays, against a
real broker with workers as real processes."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from tests.support.brokers import TEST_BROKER
from tests.support.delivery import (
    all_committed,
    assert_documents,
    committed_offsets,
    no_dead_letters,
    pages,
    processed_offsets,
    read_all,
    record_count,
    wait_for_keys,
)
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import WorkerProcess, http_get
from tests.unit.test_hostile_input import HOSTILE
from workers.kafka.produce import encode_raw, produce
from workers.kafka.replay import REPLAY_HEADER
from workers.kafka.tail import tail
from workers.local.broker import free_port, wait_for_port
from workers.local.processes import descendants, stop_process
from workers.ops import monitor
from workers.pipeline import STAGES
from workers.records import contracts
from workers.records.cloudevents import event_id, header
from workers.records.identity import page_sha256
from workers.settings import Settings

pytestmark = pytest.mark.broker


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "newsflow"), *args],
        env={
            **settings.as_env(),
            "PATH": str(Path(sys.executable).parent),
            # The same code as this test process (a checkout on PYTHONPATH, or the install).
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize("stage_processes", [0, 2], ids=["in-worker", "stage-processes"])
async def test_sigkill_at_random_moments_loses_nothing(
    pipeline: Settings, start_worker, stage_processes: int
) -> None:
    # Commits every 5 s: between two, a worker at work holds processed, uncommitted inputs.
    pipeline = pipeline.model_copy(
        update={"stage_processes": stage_processes, "commit_interval_s": 5.0}
    )
    rng = random.Random(20261123)
    # Pages come in one wave a round, so each stage has work left at each of its kills
    # however fast the other stage's replacements start (each kill lands once the new
    # worker is at work).
    records = pages(1200, "sigkill")
    keys = {encode_raw(r)[0] for r in records}
    waves = [records[i::3] for i in range(3)]

    inputs = {"clean": pipeline.topic_raw, "enrich": pipeline.topic_clean}
    history: dict[str, list[WorkerProcess]] = {stage: [] for stage in inputs}

    def replace(stage: str) -> WorkerProcess:
        history[stage].append(start_worker(stage, pipeline))
        return history[stage][-1]

    workers = {stage: replace(stage) for stage in inputs}

    async def holds_uncommitted(worker: WorkerProcess, stage: str) -> bool:
        committed = await committed_offsets(pipeline, STAGES[stage].group(pipeline), inputs[stage])
        return any(o >= committed[p] for p, o in processed_offsets(worker))

    orphans: set[int] = set()
    # Per stage, the inputs each kill caught processed (output acknowledged) but not yet
    # committed: at-least-once means they are processed again after the kill.
    interrupted: dict[str, list[set[tuple[int, int]]]] = {stage: [] for stage in inputs}
    for wave in waves:  # rounds
        summary = await produce(pipeline, wave)
        assert summary.sent == len(wave)
        for stage in inputs:
            worker = workers[stage]
            # A kill counts once the worker is at work: assigned, with outputs acknowledged.
            await eventually(lambda w=worker: w.events("processed"), 240, f"{stage} at work")
            await asyncio.sleep(rng.uniform(0.5, 3))
            await eventually_async(
                lambda w=worker, s=stage: holds_uncommitted(w, s), 240, f"{stage} mid-work"
            )
            children = descendants(worker.process.pid)
            worker.kill()
            orphans |= children
            group = STAGES[stage].group(pipeline)
            committed = await committed_offsets(pipeline, group, inputs[stage])
            interrupted[stage].append(
                {(p, o) for p, o in processed_offsets(worker) if o >= committed[p]}
            )
            workers[stage] = replace(stage)

    sink = await wait_for_keys(pipeline, pipeline.topic_enriched, keys, timeout_s=600)
    assert_documents(sink, keys)
    hashes: dict[bytes, set[str]] = defaultdict(set)
    for message in sink:
        hashes[message.key].add(
            orjson.loads(message.value)["enrichment"]["fingerprint"]["content_hash"]
        )
    assert all(len(h) == 1 for h in hashes.values()), "a redelivery changed a document's content"
    await no_dead_letters(pipeline)
    for stage, kills in interrupted.items():
        assert all(kills), f"{stage}: a kill caught no uncommitted work: {list(map(len, kills))}"
        # Each interrupted input was processed again by a later worker of its stage.
        for n, caught in enumerate(kills):
            again = set().union(*(processed_offsets(w) for w in history[stage][n + 1 :]))
            assert caught <= again, f"{stage} kill {n}: {len(caught - again)} never redone"
        print(f"{stage}: redeliveries per kill {[len(k) for k in kills]}")
    # A killed worker's stage processes do not outlive it.
    assert bool(orphans) == bool(stage_processes), orphans
    await eventually(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in orphans), 30, "orphans to exit"
    )


async def test_rolling_restart_with_sigterm_loses_nothing(pipeline: Settings, start_worker) -> None:
    first = start_worker("clean", pipeline)
    second = start_worker("clean", pipeline)
    enrich = start_worker("enrich", pipeline)
    records = pages(300, "rolling")
    keys = {encode_raw(r)[0] for r in records}
    await eventually(
        lambda: first.assignment() and second.assignment(), 60, "both replicas in the group"
    )
    await produce(pipeline, records[:150])
    # Replace each clean replica in turn while input keeps coming.
    assert first.stop() == 0
    third = start_worker("clean", pipeline)
    await produce(pipeline, records[150:])
    assert second.stop() == 0
    await eventually(lambda: third.assignment() != set(), 60, "the new replica to take over")

    sink = await wait_for_keys(pipeline, pipeline.topic_enriched, keys, timeout_s=240)
    assert_documents(sink, keys)
    await no_dead_letters(pipeline)
    for stopped in (first, second):
        assert any(e["event"] == "starting worker" for e in stopped.events())
    assert enrich.process.poll() is None and third.process.poll() is None


async def test_a_thousand_hostile_inputs_among_good_ones(pipeline: Settings, start_worker) -> None:
    clean = start_worker("clean", pipeline)
    enrich = start_worker("enrich", pipeline)
    hostile = [value for value, _ in HOSTILE.values()]
    bad = [hostile[n % len(hostile)] for n in range(1050)]

    def huge(megabytes: float) -> bytes:
        return orjson.dumps(
            {"url": "https://x.example/huge", "fetched_at": "2024-06-19T10:00:00Z",
             "html": "<p>" + "x" * int(megabytes * 1024 * 1024) + "</p>"}
        )  # fmt: skip

    # Past the worker's limit (8 MB) but within the raw topic's (+1 MB): the worker's to
    # refuse. 20 MB: Kafka refuses it at the topic (Tansu enforces no limit).
    bad[500], bad[1000] = huge(8.5), huge(20)
    refused = 0
    good = pages(60, "among-hostile")
    producer = AIOKafkaProducer(
        **pipeline.kafka_client_kwargs(), acks="all", max_request_size=32 * 1024 * 1024
    )
    await producer.start()
    sent_bad: list = []
    try:
        for n, value in enumerate(bad):
            try:
                meta = await producer.send_and_wait(
                    pipeline.topic_raw, value, key=f"bad-{n}".encode()
                )
            except MessageSizeTooLargeError:
                refused += 1
                continue
            sent_bad.append((meta.partition, meta.offset))
            if n % 17 == 0 and good:
                key, value_bytes, headers = encode_raw(good.pop())
                await producer.send_and_wait(
                    pipeline.topic_raw, value_bytes, key=key, headers=headers
                )
    finally:
        await producer.stop()
    # Kafka's own batch compression: 64 MiB that gzip makes about 64 KiB. The broker bounds
    # the batch compressed only, so it takes it; the worker inflates it (aiokafka has no cap)
    # and refuses the record by its inflated size: an oversize dead letter, the worker alive.
    bomb_mib = 64
    bomb = b'{"url": "https://x.example/batch-bomb", "html": "' + b" " * (bomb_mib << 20) + b'"}'
    compressing = AIOKafkaProducer(
        **pipeline.kafka_client_kwargs(),
        acks="all",
        compression_type="gzip",
        max_request_size=(bomb_mib + 1) << 20,  # the client checks the size before compression
    )
    await compressing.start()
    try:
        meta = await compressing.send_and_wait(pipeline.topic_raw, bomb, key=b"bad-batch-bomb")
        sent_bad.append((meta.partition, meta.offset))
    finally:
        await compressing.stop()
    bomb_at, bomb_bytes = (meta.partition, meta.offset), len(bomb)
    del bomb
    assert not good  # all 60 good pages went out between the bad ones
    assert refused == (1 if TEST_BROKER == "kafka" else 0)

    good_keys = {
        m.key for m in await read_all(pipeline, pipeline.topic_raw) if not m.key.startswith(b"bad-")
    }
    assert len(good_keys) == 60
    sink = await wait_for_keys(pipeline, pipeline.topic_enriched, good_keys, timeout_s=240)
    assert_documents(sink, good_keys)
    await eventually_async(lambda: all_committed(pipeline), 120, "every input committed")
    assert await record_count(pipeline, pipeline.topic_dead_letter) == len(sent_bad)
    dead = [orjson.loads(m.value) for m in await read_all(pipeline, pipeline.topic_dead_letter)]
    positions = [(d["source"]["partition"], d["source"]["offset"]) for d in dead]
    assert sorted(positions) == sorted(sent_bad), "each bad input: exactly one dead letter"
    [inflated] = [d for d in dead if (d["source"]["partition"], d["source"]["offset"]) == bomb_at]
    assert inflated["reason"] == "oversize"
    assert inflated["error"]["message"] == (
        f"raw message is {bomb_bytes} bytes; limit is {pipeline.max_message_bytes} "
        "(NEWSFLOW_MAX_MESSAGE_BYTES)"
    )
    for record in dead:
        assert contracts.schema_errors(record, "dead-letter.v1") == []
        assert record["reason"] not in {"internal_error", "output_contract_violation"}
    assert clean.process.poll() is None and enrich.process.poll() is None, "a worker crashed"
    assert clean.peak_rss_mb() < 1024, f"clean worker peaked at {clean.peak_rss_mb():.0f} MB"


async def test_dead_letters_replayed_after_a_fix_succeed(pipeline: Settings, start_worker) -> None:
    strict = pipeline.model_copy(update={"max_html_bytes": 2000})  # every sample is bigger
    clean = start_worker("clean", strict)
    start_worker("enrich", pipeline)
    records = pages(3, "replay")
    await produce(pipeline, records)
    producer = AIOKafkaProducer(**pipeline.kafka_client_kwargs())
    await producer.start()
    await producer.send_and_wait(pipeline.topic_raw, b"{broken", key=b"broken")
    await producer.stop()

    dead = [
        m
        async for m in tail(pipeline, pipeline.topic_dead_letter, idle_timeout_s=60, max_messages=4)
    ]
    reasons = sorted(orjson.loads(m.value)["reason"] for m in dead)
    assert reasons == ["invalid_json", "oversize", "oversize", "oversize"]

    # The fix: a clean worker with the default limit replaces the strict one.
    assert clean.stop() == 0
    start_worker("clean", pipeline)

    preview = cli(pipeline, "dlq", "replay", "--reason", "oversize", "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "selected 3, would replay 3, skipped 0" in preview.stderr
    listed = cli(pipeline, "dlq", "list", "--reason", "invalid_json")
    assert [orjson.loads(line)["reason"] for line in listed.stdout.splitlines()] == ["invalid_json"]

    result = cli(pipeline, "dlq", "replay", "--reason", "oversize")
    assert result.returncode == 0, result.stderr
    assert "selected 3, replayed 3, skipped 0" in result.stderr

    keys = {encode_raw(r)[0] for r in records}
    sink = await wait_for_keys(pipeline, pipeline.topic_enriched, keys, timeout_s=120)
    assert_documents(sink, keys)
    replayed = [
        m for m in await read_all(pipeline, pipeline.topic_raw) if header(m.headers, REPLAY_HEADER)
    ]
    assert len(replayed) == 3
    dead_ids = {orjson.loads(m.value)["id"] for m in dead}
    assert {header(m.headers, REPLAY_HEADER) for m in replayed} <= dead_ids
    originals = {base64.b64decode(orjson.loads(m.value)["original"]["value_base64"]) for m in dead}
    assert {m.value for m in replayed} <= originals  # byte for byte what failed
    # A replay carries the page's own bytes: same key and document id, and the ce_id the page
    # would have had the first time (document id and page hash), whatever its new offset.
    by_key = {m.key: m for m in sink}
    for message in replayed:
        failed = next(
            orjson.loads(m.value)
            for m in dead
            if orjson.loads(m.value)["id"] == header(message.headers, REPLAY_HEADER)
        )
        assert base64.b64decode(failed["source"]["key_base64"]) == message.key
        enriched = by_key[message.key]
        assert orjson.loads(enriched.value)["document_id"].encode() == message.key
        assert failed["source"]["offset"] != message.offset
        page = page_sha256(orjson.loads(message.value))
        assert page is not None
        assert header(enriched.headers, "ce_id") == event_id("enrich", failed["document_id"], page)


def health(worker: WorkerProcess) -> int:
    return http_get(worker.web_port, "/healthz")[0]


def ready(worker: WorkerProcess) -> int:
    return http_get(worker.web_port, "/readyz")[0]


async def test_no_secret_reaches_the_logs(pipeline: Settings, start_worker) -> None:
    secret = "s3cr3t-Pa55w0rd-never-log"
    with_sasl = pipeline.model_copy(
        update={
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "newsflow",
            "sasl_password": secret,
        }
    )
    assert secret not in repr(with_sasl)
    worker = start_worker("clean", with_sasl)
    # The broker speaks no SASL: the worker's start-up check fails to log in and says so
    # at each attempt, with the settings (and the password) in hand.
    await eventually(lambda: len(worker.events()) >= 2, 60, "the worker to log its attempts")
    await asyncio.sleep(5)
    worker.kill()
    log = worker.log_path.read_text()
    assert "Kafka not reachable yet" in log
    assert secret not in log


async def test_redis_away_briefly_is_retried_not_dead_lettered(
    pipeline: Settings, start_worker, tmp_path: Path
) -> None:
    port = free_port()

    def start_redis() -> subprocess.Popen:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port("127.0.0.1", port, 10)
        return server

    server = start_redis()
    health_interval_s = 1.0
    # The longest a worker takes to see Redis gone (a probe every _PROBE_EVERY_S, waiting up
    # to _PROBE_TIMEOUT_S, read on the next health refresh); a stall bound above it, so that
    # without the rule "waiting for Redis is no stall" /healthz would fail within the outage.
    noticed_within_s = monitor._PROBE_EVERY_S + monitor._PROBE_TIMEOUT_S + health_interval_s
    settings = pipeline.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{port}/0",
            "retry_backoff_s": 0.2,
            "retry_backoff_max_s": 1.0,
            "health_interval_s": health_interval_s,
            "stall_after_s": noticed_within_s + 1,
        }
    )
    try:
        start_worker("clean", settings)
        enrich = start_worker("enrich", settings)
        records = pages(5, "redis-away")
        keys = [encode_raw(r)[0] for r in records]
        await produce(settings, records[:2])
        sink = await wait_for_keys(settings, settings.topic_enriched, set(keys[:2]), timeout_s=120)
        assert_documents(sink, set(keys[:2]))

        stop_process(server, timeout_s=5)
        await produce(settings, records[2:])
        await eventually(
            lambda: enrich.events("transient failure; retrying"), 60, "the worker to retry"
        )
        # Waiting for Redis: not ready (saying why), but alive: a restart would not bring
        # Redis back, and failing liveness would restart every replica at once.
        await eventually(lambda: ready(enrich) == 503, 60, "/readyz to report Redis away")
        assert b"Redis at 127.0.0.1" in http_get(enrich.web_port, "/readyz")[1]
        outage = time.monotonic()
        while time.monotonic() - outage < 3 * settings.stall_after_s:
            assert health(enrich) == 200, http_get(enrich.web_port, "/healthz")[1]
            await asyncio.sleep(0.5)
        assert await record_count(settings, settings.topic_dead_letter) == 0
        assert enrich.process.poll() is None

        server = start_redis()
        sink = await wait_for_keys(settings, settings.topic_enriched, set(keys), timeout_s=120)
        assert_documents(sink, set(keys))
        await no_dead_letters(settings)
        await eventually(lambda: ready(enrich) == 200, 60, "/readyz to recover")
        assert health(enrich) == 200
    finally:
        stop_process(server, timeout_s=5)
