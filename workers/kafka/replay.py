"""Re-publishing dead letters to the topic they came from, after the cause was fixed.

Selection is by reason, stage, failure time and dead-letter id; every selected record's
original value, key and headers go back to its source topic unchanged, plus a
``newsflow-replay-of`` header naming the dead letter (so a replay can be traced and told
apart). Dead letters whose original was truncated (oversize inputs) cannot be replayed and
are reported.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from workers.kafka.tail import tail
from workers.ops.metrics import iso_to_unix
from workers.settings import Settings

REPLAY_HEADER = "newsflow-replay-of"


@dataclass(frozen=True)
class Selection:
    reasons: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, record: dict[str, Any]) -> bool:
        failed_at = iso_to_unix(record.get("failed_at"))
        return (
            (not self.reasons or record["reason"] in self.reasons)
            and (not self.stages or record["stage"] in self.stages)
            and (not self.ids or record["id"] in self.ids)
            and (self.since is None or (failed_at or 0) >= self.since.timestamp())
            and (self.until is None or (failed_at or 0) < self.until.timestamp())
        )


@dataclass
class ReplaySummary:
    selected: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    skipped: list[str] = field(default_factory=list)  # "id: why"


def original_message(record: dict[str, Any]) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of the message that failed, exactly as it was read."""
    source, original = record["source"], record["original"]
    key = base64.b64decode(source["key_base64"]) if source["key_base64"] is not None else None
    headers = [(h["key"], base64.b64decode(h["value_base64"])) for h in original["headers"]]
    headers = [(k, v) for k, v in headers if k != REPLAY_HEADER]
    headers.append((REPLAY_HEADER, record["id"].encode("ascii")))
    return key, base64.b64decode(original["value_base64"]), headers


async def select(settings: Settings, selection: Selection) -> list[dict[str, Any]]:
    """Matching dead letters, one per id (a redelivered failure is written again with the
    same id), in topic order."""
    chosen: dict[str, dict[str, Any]] = {}
    async for message in tail(settings, settings.topic_dead_letter, idle_timeout_s=2.0):
        record = orjson.loads(message.value)
        if selection.matches(record):
            chosen.setdefault(record["id"], record)
    return list(chosen.values())


async def replay(
    settings: Settings, records: Iterable[dict[str, Any]], *, dry_run: bool = False
) -> ReplaySummary:
    summary = ReplaySummary(selected=list(records))
    sendable = []
    for record in summary.selected:
        if record["original"]["truncated"]:
            summary.skipped.append(f"{record['id']}: original truncated (oversize input)")
        else:
            sendable.append(record)
    if dry_run or not sendable:
        return summary
    producer = AIOKafkaProducer(
        **settings.kafka_client_kwargs(),
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        max_request_size=settings.max_message_bytes + 1024 * 1024,
    )
    try:
        await producer.start()
        for record in sendable:
            key, value, headers = original_message(record)
            await producer.send_and_wait(
                record["source"]["topic"], value=value, key=key, headers=headers
            )
            summary.replayed += 1
    finally:
        await producer.stop()
    return summary
