"""Publishing pages to the raw topic: the producer side of the raw-html.v1 contract.

Sources: HTML files, folders of them (recursively; a folder's ``manifest.json`` may give each
file's URL, content-type and fetch time, as ``workers/samples/`` does), JSON-lines files whose
lines are raw-html.v1 records, and WARC files (:mod:`workers.kafka.warc`; in folders too).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from workers.errors import StageError
from workers.kafka import clients
from workers.kafka.warc import DEFAULT_MAX_BODY_BYTES, Skipped, is_warc, iter_warc
from workers.records import contracts
from workers.records.clock import now_rfc3339
from workers.records.cloudevents import event_id, make_headers
from workers.records.ids import document_id
from workers.settings import Settings

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}


def raw_record(
    body: bytes,
    url: str,
    *,
    fetched_at: str | None = None,
    content_type: str | None = None,
    status: int = 200,
    crawler: str | None = None,
) -> dict[str, Any]:
    """A raw-html.v1 record carrying ``body`` exactly as fetched."""
    record: dict[str, Any] = {
        "url": url,
        "fetched_at": fetched_at or now_rfc3339(),
        "status": status,
        "headers": {"content-type": content_type or "text/html"},
        "html_base64": base64.b64encode(body).decode("ascii"),
    }
    if crawler:
        record["crawler"] = crawler
    return record


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    return {entry["file"]: entry for entry in orjson.loads(path.read_bytes())}


def _html_file_record(path: Path, entry: dict[str, Any] | None, url_prefix: str | None) -> dict:
    entry = entry or {}
    if "url" in entry:
        url = entry["url"]
    elif url_prefix:
        url = url_prefix.rstrip("/") + "/" + path.name
    else:
        url = path.resolve().as_uri()
    return raw_record(
        path.read_bytes(),
        url,
        fetched_at=entry.get("fetched_at"),
        content_type=entry.get("content_type"),
        crawler="newsflow-produce",
    )


def _is_source(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in HTML_SUFFIXES or suffix in JSONL_SUFFIXES or is_warc(path)


def input_files(paths: Iterable[Path]) -> list[Path]:
    """The files that ``iter_records`` reads, in its order: files as given, and inside
    folders (recursively, sorted) every HTML, JSON-lines and WARC file."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and _is_source(p)))
        else:
            files.append(path)
    return files


Item = dict[str, Any] | Skipped | ValueError


def iter_records(
    paths: Iterable[Path],
    url_prefix: str | None = None,
    progress: Callable[[int], None] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Iterator[Item]:
    """Raw records from files and folders, in path order. A bad JSON line, a damaged WARC or
    a WARC body beyond ``max_body_bytes`` yields a ValueError, a WARC response that is not a
    page a Skipped marker. ``progress``, if given, is called with the number of input bytes
    consumed as reading goes on."""
    for path in input_files(paths):
        if is_warc(path):
            yield from iter_warc(path, progress, max_body_bytes)
        elif path.suffix.lower() in JSONL_SUFFIXES:
            with path.open("rb") as lines:
                for number, line in enumerate(lines, 1):
                    if progress is not None:
                        progress(len(line))
                    if not line.strip():
                        continue
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError as exc:
                        yield ValueError(f"{path}:{number}: not JSON: {exc}")
        else:
            manifest = _manifest(path.parent)
            yield _html_file_record(path, manifest.get(path.name), url_prefix)
            if progress is not None:
                progress(path.stat().st_size)


@dataclass
class ProduceSummary:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    bytes: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    skip_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def encode_raw(record: dict[str, Any], *, validate: bool = True) -> tuple[bytes, bytes, list]:
    """(key, value, headers) of a raw record; raises StageError if it breaks the contract."""
    if validate:
        contracts.validate(record, "raw-html.v1")
    key = document_id(record["url"])
    value = contracts.encode(record)
    headers = make_headers(
        schema="raw-html.v1",
        source="/newsflow/produce",
        event_id=event_id("raw", key, record.get("fetched_at", "")),
        subject=key,
    )
    return key.encode("ascii"), value, headers


async def produce(
    settings: Settings,
    records: Iterable[Item],
    *,
    topic: str | None = None,
    validate: bool = True,
) -> ProduceSummary:
    """Send records to the raw topic (or ``topic``) and wait for every acknowledgement.

    The producer batches per partition (``NEWSFLOW_PRODUCE_LINGER_MS``,
    ``NEWSFLOW_PRODUCE_BATCH_BYTES``) and compresses batches (``NEWSFLOW_COMPRESSION``)."""
    summary = ProduceSummary()
    started = time.perf_counter()
    try:
        async with clients.producer(
            settings,
            linger_ms=settings.produce_linger_ms,
            max_batch_size=settings.produce_batch_bytes,
        ) as producer:
            await _send_all(producer, records, topic or settings.topic_raw, validate, summary)
    finally:
        summary.seconds = time.perf_counter() - started
    return summary


async def _send_all(
    producer: AIOKafkaProducer,
    records: Iterable[Item],
    topic: str,
    validate: bool,
    summary: ProduceSummary,
) -> None:
    """Send every record, then wait for every acknowledgement and count the outcomes."""
    pending = []
    for record in records:
        if isinstance(record, Skipped):
            summary.skipped += 1
            summary.skip_reasons[record.reason] = summary.skip_reasons.get(record.reason, 0) + 1
            continue
        if isinstance(record, ValueError):
            summary.failed += 1
            summary.errors.append(str(record))
            continue
        try:
            key, value, headers = encode_raw(record, validate=validate)
        except StageError as exc:
            summary.failed += 1
            summary.errors.append(f"{record.get('url', '?')}: {exc.message}")
            continue
        future = await producer.send(topic, value=value, key=key, headers=headers)
        pending.append((key, len(value), future))
    outcomes = await asyncio.gather(*(f for _, _, f in pending), return_exceptions=True)
    for (key, size, _), outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            summary.failed += 1
            summary.errors.append(f"{key.decode()}: {outcome!r}")
        else:
            summary.sent += 1
            summary.bytes += size
            summary.keys.append(key.decode())
