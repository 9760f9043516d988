"""Redis restarted mid-stream, run with the options docker-compose.yml and the k8s StatefulSet
give it (append-only file, noeviction): the per-site memory's frozen decisions and the
near-duplicate index come back with it. A page sent again after the restart keeps the text it
got the first time, and an edited copy of a document seen before the restart is found as its
near-duplicate. Without persistence Redis comes back empty, and both fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from tests.support.delivery import no_dead_letters, wait_for_keys
from tests.support.paths import SAMPLES
from tests.support.redis_server import RedisServer, deployed_options
from workers.kafka.produce import encode_raw, produce, raw_record
from workers.records.ids import document_id
from workers.settings import Settings

pytestmark = pytest.mark.broker

MANIFEST = orjson.loads((SAMPLES / "manifest.json").read_bytes())
SITE = "https://www.durable.example/news"
PROBE = MANIFEST[0]  # sent once before the restart, its edited copy after it
OTHERS = MANIFEST[1:]


def copy_of(sample: dict, n: int) -> dict:
    """Copy ``n`` of a sample page on the one site: its short lines recur across copies."""
    body = (SAMPLES / sample["file"]).read_bytes()
    return raw_record(body, f"{SITE}/{sample['file']}/{n}", content_type=sample["content_type"])


def texts(sink: list) -> dict[bytes, set[str]]:
    found: dict[bytes, set[str]] = {}
    for message in sink:
        found.setdefault(message.key, set()).add(orjson.loads(message.value)["text"])
    return found


@pytest.mark.timeout(600)
async def test_state_survives_a_redis_restart(
    pipeline: Settings, redis_prefix: str, start_worker, tmp_path: Path
) -> None:
    with RedisServer(tmp_path, deployed_options()) as server:
        settings = pipeline.model_copy(
            update={
                "redis_url": server.url,
                "boilerplate_backend": "redis",
                "boilerplate_key_prefix": f"{redis_prefix}boilerplate:",
                # A line two other pages of the site carried is dropped from the third copy on.
                "boilerplate_min_pages": 2,
                "retry_backoff_s": 0.2,
                "retry_backoff_max_s": 1.0,
            }
        )
        start_worker("clean", settings)
        start_worker("enrich", settings)
        before = [copy_of(s, n) for n in range(3) for s in OTHERS] + [copy_of(PROBE, 0)]
        # One document a round, so each copy is decided with the earlier ones counted.
        for n in range(3):
            await produce(settings, [copy_of(s, n) for s in OTHERS])
            keys = {encode_raw(copy_of(s, n))[0] for s in OTHERS}
            await wait_for_keys(settings, settings.topic_enriched, keys, timeout_s=240)
        await produce(settings, [copy_of(PROBE, 0)])
        first_keys = {encode_raw(r)[0] for r in before}
        sink = await wait_for_keys(settings, settings.topic_enriched, first_keys, timeout_s=240)
        first = texts(sink)
        first_copies = {encode_raw(copy_of(s, 0))[0] for s in OTHERS}
        # The memory is at work: the third copies lost lines the first copies kept.
        dropped = sum(
            first[encode_raw(copy_of(s, 0))[0]] != first[encode_raw(copy_of(s, 2))[0]]
            for s in OTHERS
        )
        assert dropped >= len(OTHERS) // 2, f"only {dropped} third copies lost lines"

        # The restart, mid-stream: killed (no save on the way out), the next pages sent
        # while it is down wait for it; then it starts again on the same folder.
        await asyncio.sleep(1.5)  # past appendfsync everysec's window
        server.kill()
        later = [copy_of(s, n) for n in range(3, 6) for s in OTHERS]
        await produce(settings, later)
        await asyncio.sleep(3)
        server.start()

        # The first copies again (a redelivery or a replay brings them): the counts now say
        # their lines are the site's boilerplate, but each keeps its first decision.
        again = [copy_of(s, 0) for s in OTHERS]
        await produce(settings, again)
        html = (SAMPLES / PROBE["file"]).read_bytes()
        for old, new in [(b"red carpet", b"crimson carpet"), (b"warm welcome", b"kind welcome")]:
            assert old in html
            html = html.replace(old, new)
        edited_url = "https://mirror.example.org/world/edited"
        edited = raw_record(html, edited_url, content_type=PROBE["content_type"])
        await produce(settings, [edited])
        all_keys = first_keys | {encode_raw(r)[0] for r in [*later, edited]}
        sink = await wait_for_keys(settings, settings.topic_enriched, all_keys, timeout_s=300)

        # Every key of `again` now has two copies at the sink, one from each side of the
        # restart (the second sent after it, so decided after it).
        counts = {key: sum(m.key == key for m in sink) for key in first_copies}
        assert set(counts.values()) == {2}, counts
        after = texts(sink)
        changed = [key for key in first_copies if after[key] != first[key]]
        assert not changed, f"{len(changed)} pages got a new text after the restart"

        records = [orjson.loads(m.value) for m in sink]
        [copy] = [r for r in records if r["document_id"] == document_id(edited["url"])]
        assert copy["enrichment"]["dedup"]["duplicate_of"] == document_id(copy_of(PROBE, 0)["url"])
        await no_dead_letters(settings)
