"""Shared helpers of the tests: the bundled sample pages, raw messages built from them, and
HTTP GETs to a worker's web port."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from aiokafka.errors import GroupCoordinatorNotAvailableError

import workers
from workers.cleaning.stage import clean_message
from workers.kafka.lag import consumer_lag, log_ends
from workers.kafka.produce import raw_record
from workers.kafka.tail import tail
from workers.records.message import InputMessage
from workers.settings import Settings

SAMPLES = Path(workers.__file__).resolve().parent / "samples"
REPO = Path(workers.__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
RAW_TOPIC = "newsflow.raw-html.v1"


@cache
def _manifest() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8")))


def manifest() -> list[dict[str, Any]]:
    """The entries of workers/samples/manifest.json (fresh copies: tests may change them)."""
    return copy.deepcopy(list(_manifest()))


def entry(prefix: str) -> dict[str, Any]:
    """The manifest entry whose file name starts with ``prefix`` (e.g. "01")."""
    (found,) = [e for e in manifest() if e["file"].startswith(prefix)]
    return found


def sample_bytes(item: dict[str, Any]) -> bytes:
    return (SAMPLES / item["file"]).read_bytes()


def raw_for(item: dict[str, Any], body: bytes | None = None, **overrides: Any) -> dict[str, Any]:
    """The raw-html.v1 record of a manifest entry, built by the producer's own raw_record."""
    kwargs: dict[str, Any] = {
        "fetched_at": item["fetched_at"],
        "content_type": item["content_type"],
    }
    kwargs.update(overrides)
    return raw_record(sample_bytes(item) if body is None else body, item["url"], **kwargs)


def raw_for_sample(file_name: str, **overrides: Any) -> dict[str, Any]:
    """The raw-html.v1 record of the sample page ``file_name``."""
    return raw_for(entry(file_name), **overrides)


def message(record: dict[str, Any] | bytes | None, **fields: Any) -> InputMessage:
    """An InputMessage whose value is ``record`` (a dict is JSON-encoded)."""
    value = orjson.dumps(record) if isinstance(record, dict) else record
    return InputMessage(value, **fields)


@cache
def _clean(prefix: str) -> bytes:
    item = entry(prefix)
    return orjson.dumps(clean_message(message(raw_for(item)), Settings()))


def clean_sample(prefix: str) -> dict[str, Any]:
    """The articles-clean.v1 record of sample ``prefix`` (cached; each call a fresh copy)."""
    return orjson.loads(_clean(prefix))


def http_get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


async def record_count(settings: Settings, topic: str) -> int:
    """How many records ``topic`` holds, from its log-end offsets (test topics are never
    truncated, so each partition's log starts at 0)."""
    return sum((await log_ends(settings, topic)).values())


async def caught_up(settings: Settings, groups: dict[str, str]) -> bool:
    """Whether each consumer group has committed its input topic up to the log end: the
    workers commit an input only once its output or dead letter is in the log, so from
    then on nothing more comes of those inputs."""
    try:
        rows = await consumer_lag(settings, groups)
    except GroupCoordinatorNotAvailableError:
        return False  # Kafka creates its offsets topic at the first group lookup
    return all(row.end is not None and row.lag == 0 for row in rows)


async def read_topic(settings: Settings, topic: str) -> list:
    """Every record ``topic`` holds now: as many as its log-end offsets say, not what a read
    finds before some seconds of silence."""
    count = await record_count(settings, topic)
    records = [m async for m in tail(settings, topic, idle_timeout_s=60, max_messages=count)]
    assert len(records) == count, f"{topic}: read {len(records)} of {count} records"
    return records
