"""What every stage function receives: the input message and where it was read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from workers.records.clock import unix_ms_to_rfc3339

# Kafka record headers, in order, as every part of newsflow passes them around.
Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class InputMessage:
    """One Kafka record as a stage sees it (the runtime builds it from a faust event)."""

    value: bytes | None
    topic: str = "local"
    partition: int = 0
    offset: int = 0
    timestamp_ms: int | None = None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)

    @property
    def timestamp_rfc3339(self) -> str | None:
        return unix_ms_to_rfc3339(self.timestamp_ms)

    @property
    def tpo(self) -> str:
        """``topic/partition/offset``: where the message sits, as the logs name it."""
        return f"{self.topic}/{self.partition}/{self.offset}"


def origin_of(record: object, message: InputMessage) -> tuple[str, int, int]:
    """Topic, partition and offset of the raw message a record descends from: the first
    entry of its ``lineage`` (written by the first stage), else ``message``'s own position
    (a raw message, or a value that is not a record)."""
    lineage = record.get("lineage") if isinstance(record, dict) else None
    first = lineage[0] if isinstance(lineage, list) and lineage else None
    if isinstance(first, dict):
        topic, partition, offset = (first.get(k) for k in ("topic", "partition", "offset"))
        if isinstance(topic, str) and isinstance(partition, int) and isinstance(offset, int):
            return topic, partition, offset
    return message.topic, message.partition, message.offset
