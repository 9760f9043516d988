"""Timestamps as the records carry them: RFC 3339 in UTC with milliseconds and a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unix_ms_to_rfc3339(timestamp_ms: int | None) -> str | None:
    """A Kafka record timestamp (ms since the epoch) as RFC 3339; None when absent (-1)."""
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339_to_unix(value: str | None) -> float | None:
    """Unix time of an RFC 3339 timestamp, or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
