"""The bundled sample pages (workers/samples) as the tests use them: manifest entries, raw
records and input messages built from them, their clean records, and a page too slow to clean."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import orjson

from tests.support.paths import SAMPLES
from workers.cleaning.stage import clean_message
from workers.kafka.produce import raw_record
from workers.records.message import InputMessage
from workers.settings import Settings

RAW_TOPIC = "newsflow.raw-html.v1"

# 1 MB of short linked paragraphs: over ten seconds of extraction here, far past the time
# limits the tests set (and, repeated as it is, not an article once trafilatura drops the
# repeats).
SLOW_PAGE = (
    b"<html><body><article><h1>Budget</h1>"
    + b"<div><p>The council met again on Tuesday to discuss the budget <a href='/x'>more</a>."
    b"</p></div>\n" * 10_000 + b"</article></body></html>"
)


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
