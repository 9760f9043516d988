"""Kafka headers after the CloudEvents Kafka protocol binding (binary mode) plus W3C trace context.

Any consumer can route on ``ce_type`` and trace on ``traceparent`` without parsing the value.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable

from workers.records.clock import now_rfc3339
from workers.records.message import Headers

SPEC_VERSION = "1.0"
TYPE_PREFIX = "dev.newsflow."
SCHEMA_URI = "https://newsflow.dev/schemas/{name}.json"
# Deterministic event ids: a redelivered input yields the same ce_id, so consumers can dedupe.
EVENT_NAMESPACE = uuid.UUID("6f1f3c4e-2f0e-4d7a-9a57-1e0c2b9d8a11")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def event_id(*parts: object) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, "/".join(map(str, parts))))


def header(headers: Iterable[tuple[str, bytes]] | None, name: str) -> str | None:
    for key, value in headers or ():
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return None


def child_traceparent(parent: str | None) -> str:
    """Continue the caller's trace with a new span, or start a new trace."""
    match = _TRACEPARENT.match(parent or "")
    if match and (set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}):
        match = None  # all-zero ids are invalid (W3C Trace Context): start a new trace
    trace_id = match.group(1) if match else os.urandom(16).hex()
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{os.urandom(8).hex()}-{flags}"


def make_headers(
    *,
    schema: str,
    source: str,
    event_id: str,
    subject: str | None,
    parent: Headers | None = None,
) -> list[tuple[str, bytes]]:
    """Headers of one outgoing record; ``parent`` are the input's headers (trace continues)."""
    fields = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": event_id,
        "ce_source": source,
        "ce_type": TYPE_PREFIX + schema,
        "ce_time": now_rfc3339(),
        "ce_dataschema": SCHEMA_URI.format(name=schema),
        "content-type": "application/json",
        "traceparent": child_traceparent(header(parent, "traceparent")),
    }
    if subject:
        fields["ce_subject"] = subject
    return [(k, v.encode("utf-8")) for k, v in fields.items()]
