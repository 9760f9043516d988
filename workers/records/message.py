"""What every stage function receives: the input message and where it was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class InputMessage:
    """One Kafka record as a stage sees it (the runtime builds it from a faust event)."""

    value: bytes | None
    topic: str = "local"
    partition: int = 0
    offset: int = 0
    timestamp_ms: int | None = None
    key: bytes | None = None
    headers: Headers = field(default_factory=tuple)

    @property
    def timestamp_rfc3339(self) -> str | None:
        if self.timestamp_ms is None or self.timestamp_ms < 0:
            return None
        moment = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
