"""Dead-letter records (dead-letter.v1): the failed message, why, and where it came from."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
from typing import Any

import ijson
import orjson

from workers import __version__
from workers.errors import StageError
from workers.records.clock import now_rfc3339
from workers.records.identity import dead_letter_event_id
from workers.records.ids import document_id
from workers.records.message import InputMessage

MAX_ERROR_MESSAGE = 2000
HOST = socket.gethostname()
# A value too large to parse is searched for its URL in this prefix only.
URL_SCAN_BYTES = 64 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parsed(value: bytes, max_parse_bytes: int) -> object:
    """The failed value as JSON when it is no larger than the stage parses, else None."""
    if len(value) > max_parse_bytes:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def _url_of(value: bytes, parsed: object, max_parse_bytes: int) -> str | None:
    """The document URL the failed value names: from the whole value when it is no larger
    than the stage parses, else from a top-level ``url`` key in its first
    :data:`URL_SCAN_BYTES` (producers usually write it before the page)."""
    if len(value) <= max_parse_bytes:
        url = parsed.get("url") if isinstance(parsed, dict) else None
    else:
        url = _leading_url(value[:URL_SCAN_BYTES])
    return url if isinstance(url, str) and url else None


def _leading_url(prefix: bytes) -> str | None:
    """The top-level ``url`` string of a JSON object, read incrementally from ``prefix``
    (cut anywhere), or None when the prefix does not reach it."""
    try:
        for path, event, value in ijson.parse(io.BytesIO(prefix)):
            if path == "url" and event == "string":
                return value
    except ijson.JSONError:  # cut short or not JSON
        return None
    return None


def build_dead_letter(
    stage: str,
    message: InputMessage,
    error: StageError,
    *,
    attempts: int,
    max_original_bytes: int,
    max_parse_bytes: int,
    input_has_lineage: bool = False,
) -> dict[str, Any]:
    value = message.value or b""
    parsed = _parsed(value, max_parse_bytes)
    url = _url_of(value, parsed, max_parse_bytes)
    document = document_id(url) if url else None
    return {
        # Stable across redeliveries and copies of the page: see workers.records.identity.
        "id": dead_letter_event_id(
            stage, error.reason, message, parsed, document, input_has_lineage=input_has_lineage
        ),
        "stage": stage,
        "reason": error.reason,
        "error": {"class": error.error_class, "message": error.message[:MAX_ERROR_MESSAGE]},
        "attempts": attempts,
        "failed_at": now_rfc3339(),
        "document_id": document,
        "url": url,
        "source": {
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "timestamp": message.timestamp_rfc3339,
            "key_base64": _b64(message.key) if message.key is not None else None,
        },
        "original": {
            "value_base64": _b64(value[:max_original_bytes]),
            "size": len(value),
            "sha256": hashlib.sha256(value).hexdigest(),
            "truncated": len(value) > max_original_bytes,
            "headers": [{"key": k, "value_base64": _b64(v or b"")} for k, v in message.headers],
        },
        "worker": {"host": HOST, "newsflow": __version__},
    }


def dead_letter_key(record: dict[str, Any], message: InputMessage) -> bytes:
    """The document id when known, else the original key, else the original value's hash."""
    if record["document_id"]:
        return record["document_id"].encode("ascii")
    if message.key:
        return message.key
    return record["original"]["sha256"].encode("ascii")
