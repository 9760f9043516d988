"""Outgoing records: what a stage sends (its output or a dead letter), built in one place.

Every record a stage sends gets its value, key and CloudEvents headers here, so an output
and a dead letter differ only in what the rules below say:

- an output goes to the stage's output topic, keyed by its document id; its event id derives
  from the document and the page bytes it descends from (:mod:`workers.records.identity`),
  not from any position, so a page the previous stage redid (a new input offset) or a page
  sent again to the raw topic keeps its event id;
- a dead letter goes to the dead-letter topic, keyed by the document id when known, else by
  the failed message's key, else by the hash of its value; its event id is the dead letter's
  own id.

Both continue the input's trace and carry what the worker counts (:class:`Outgoing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from workers.errors import Reason, StageError
from workers.records import contracts
from workers.records.cloudevents import make_headers
from workers.records.contracts import SchemaName
from workers.records.deadletter import build_dead_letter, dead_letter_key
from workers.records.identity import output_event_id
from workers.records.message import InputMessage


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record ready to send, and what became of the input ("ok" or a dead-letter reason)."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    outcome: Literal["ok"] | Reason
    document_id: str | None
    elapsed_ms: float
    timestamps: dict[str, Any] | None = None  # the record's per-stage times (ok outputs)
    internal_failures: int = 0  # unexpected errors retried on the way (a bug's footprint)
    part_seconds: dict[str, float] | None = None  # time in each part (the enrichers)
    # Which path of the extraction chain produced the text (clean stage, ok outputs).
    extraction_path: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingBuilder:
    """Builds every record one stage sends: its outputs and its dead letters."""

    stage: str
    output_topic: str
    output_schema: SchemaName
    dead_letter_topic: str
    # The stage's inputs carry ``lineage``: a dead letter's id takes the page hash from there.
    input_has_lineage: bool
    # How much of a failed value a dead letter keeps, and up to what size it is parsed.
    max_original_bytes: int
    max_parse_bytes: int

    def output(
        self,
        message: InputMessage,
        record: dict[str, Any],
        *,
        elapsed_ms: float,
        internal_failures: int = 0,
        part_seconds: dict[str, float] | None = None,
    ) -> Outgoing:
        """The stage's output ``record`` for ``message``, ready for the output topic."""
        return self._outgoing(
            message,
            record,
            schema=self.output_schema,
            topic=self.output_topic,
            event_id=output_event_id(self.stage, record, message),
            key=record["document_id"].encode("ascii"),
            outcome="ok",
            elapsed_ms=elapsed_ms,
            internal_failures=internal_failures,
            part_seconds=part_seconds,
        )

    def dead_letter(
        self,
        message: InputMessage,
        error: StageError,
        *,
        attempts: int,
        elapsed_ms: float,
        internal_failures: int = 0,
        part_seconds: dict[str, float] | None = None,
    ) -> Outgoing:
        """The dead letter of ``message``, which failed with ``error`` after ``attempts``."""
        record = build_dead_letter(
            self.stage,
            message,
            error,
            attempts=attempts,
            max_original_bytes=self.max_original_bytes,
            max_parse_bytes=self.max_parse_bytes,
            input_has_lineage=self.input_has_lineage,
        )
        return self._outgoing(
            message,
            record,
            schema="dead-letter.v1",
            topic=self.dead_letter_topic,
            event_id=record["id"],
            key=dead_letter_key(record, message),
            outcome=error.reason,
            elapsed_ms=elapsed_ms,
            internal_failures=internal_failures,
            part_seconds=part_seconds,
        )

    def _outgoing(
        self,
        message: InputMessage,
        record: dict[str, Any],
        *,
        schema: SchemaName,
        topic: str,
        event_id: str,
        key: bytes,
        outcome: Literal["ok"] | Reason,
        elapsed_ms: float,
        internal_failures: int,
        part_seconds: dict[str, float] | None,
    ) -> Outgoing:
        headers = make_headers(
            schema=schema,
            source=f"/newsflow/{self.stage}",
            event_id=event_id,
            subject=record["document_id"],
            parent=message.headers,
        )
        return Outgoing(
            topic=topic,
            key=key,
            value=contracts.encode(record),
            headers=headers,
            outcome=outcome,
            document_id=record["document_id"],
            elapsed_ms=elapsed_ms,
            # A dead letter has neither: it tells what failed, not what the stage made.
            timestamps=record.get("timestamps"),
            extraction_path=(record.get("extractor") or {}).get("path"),
            internal_failures=internal_failures,
            part_seconds=part_seconds,
        )
