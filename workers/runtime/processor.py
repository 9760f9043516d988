"""One message through one stage: the record for the output topic or a dead letter.

This is everything a worker does per message except talking to Kafka, so the faust agent
(:mod:`workers.runtime.app`) stays a thin loop: read, ``process``, send, wait for the broker, ack.
It runs in the worker's process or in a stage process (:mod:`workers.runtime.runner`); either way
what the worker counts comes back on :class:`Outgoing`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

from workers.errors import Reason, StageError, TransientError
from workers.pipeline import STAGES, StageSpec, warm_up
from workers.records import contracts
from workers.records.cloudevents import event_id, make_headers
from workers.records.deadletter import build_dead_letter, dead_letter_key
from workers.records.message import InputMessage, origin_of
from workers.settings import Settings

log = logging.getLogger("newsflow.processor")


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


class DeadLetterRouter:
    """One stage's dead letters as records ready to send to the dead-letter topic."""

    def __init__(self, stage: str, settings: Settings):
        self.stage = stage
        self.topic = settings.topic_dead_letter
        self.source = f"/newsflow/{stage}"
        self.input_has_lineage = STAGES[stage].input_has_lineage
        self.max_original_bytes = settings.dead_letter_max_original_bytes
        self.max_parse_bytes = settings.max_message_bytes

    def route(
        self,
        message: InputMessage,
        error: StageError,
        *,
        attempts: int,
        elapsed_ms: float,
        internal_failures: int = 0,
    ) -> Outgoing:
        record = build_dead_letter(
            self.stage,
            message,
            error,
            attempts=attempts,
            max_original_bytes=self.max_original_bytes,
            max_parse_bytes=self.max_parse_bytes,
            input_has_lineage=self.input_has_lineage,
        )
        headers = make_headers(
            schema="dead-letter.v1",
            source=self.source,
            event_id=record["id"],
            subject=record["document_id"],
            parent=message.headers,
        )
        return Outgoing(
            topic=self.topic,
            key=dead_letter_key(record, message),
            value=contracts.encode(record),
            headers=headers,
            outcome=error.reason,
            document_id=record["document_id"],
            elapsed_ms=elapsed_ms,
            internal_failures=internal_failures,
        )


class StageProcessor:
    """Runs one stage's function on input messages and routes the result."""

    def __init__(self, stage: str, settings: Settings):
        self.spec: StageSpec = STAGES[stage]
        self.stage = stage
        self.settings = settings
        self.output_topic = self.spec.output_topic(settings)
        self.output_schema = self.spec.output_schema
        self.source = f"/newsflow/{stage}"
        self.dead_letters = DeadLetterRouter(stage, settings)
        self.run_stage = self.spec.create(settings)

    def warm_up(self) -> None:
        """Load models and fill caches before the first message (seconds, once)."""
        warm_up(self.stage, self.run_stage, self.settings)

    def process(self, message: InputMessage) -> Outgoing:
        """The output record for ``message``, or its dead letter.

        A StageError is deterministic: one attempt. An unexpected exception gets
        ``max_attempts`` quick attempts, then an internal_error dead letter. A
        TransientError propagates: the caller retries the message with backoff.
        """
        started = time.perf_counter()
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                record = self._checked_record(message)
                break
            except StageError as error:
                return self._dead_letter(message, error, attempt, started)
            except TransientError:
                raise
            except Exception as exc:  # a bug: never kill the worker or lose the message
                log.warning(
                    "unexpected error in stage",
                    extra={"stage": self.stage, "attempt": attempt},
                    exc_info=exc,
                )
                if attempt == self.settings.max_attempts:
                    error = StageError(
                        "internal_error",
                        f"{type(exc).__name__}: {exc}",
                        error_class=type(exc).__name__,
                    )
                    return self._dead_letter(message, error, attempt, started)
        doc_id = record["document_id"]
        headers = make_headers(
            schema=self.output_schema,
            source=self.source,
            # From the raw message the record descends from, not from this input's position:
            # a page the previous stage redid (a new input offset) keeps its event id.
            event_id=event_id(self.stage, *origin_of(record, message)),
            subject=doc_id,
            parent=message.headers,
        )
        return Outgoing(
            topic=self.output_topic,
            key=doc_id.encode("ascii"),
            value=contracts.encode(record),
            headers=headers,
            outcome="ok",
            document_id=doc_id,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            timestamps=record["timestamps"],
            extraction_path=(record.get("extractor") or {}).get("path"),
            internal_failures=attempt - 1,
            part_seconds=dict(self.run_stage.part_seconds) or None,
        )

    def _checked_record(self, message: InputMessage) -> dict[str, Any]:
        record = self.run_stage(message)
        if self.settings.validate_output and not contracts.is_valid(record, self.output_schema):
            errors = contracts.schema_errors(record, self.output_schema)
            if errors:
                raise StageError(
                    "output_contract_violation",
                    f"{self.output_schema}: " + "; ".join(errors[:5]),
                )
        return record

    def _dead_letter(
        self, message: InputMessage, error: StageError, attempts: int, started: float
    ) -> Outgoing:
        outgoing = self.dead_letters.route(
            message,
            error,
            attempts=attempts,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            # Attempts before this one failed unexpectedly; so did this one if it gave up.
            internal_failures=attempts if error.reason == "internal_error" else attempts - 1,
        )
        return replace(outgoing, part_seconds=dict(self.run_stage.part_seconds) or None)
