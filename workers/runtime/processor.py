"""One message through one stage: the record for the output topic or a dead letter.

This is everything a worker does per message except talking to Kafka, so the faust agent
(:mod:`workers.runtime.app`) stays a thin loop: read, ``process``, send, wait for the broker, ack.
It runs in the worker's process or in a stage process (:mod:`workers.runtime.runner`); either way
what the worker counts comes back on :class:`~workers.records.outgoing.Outgoing`, built by
:class:`~workers.records.outgoing.OutgoingBuilder` for an output and a dead letter alike.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from workers.errors import StageError, TransientError
from workers.pipeline import STAGES, StageSpec, warm_up
from workers.records import contracts
from workers.records.message import InputMessage
from workers.records.outgoing import Outgoing, OutgoingBuilder
from workers.settings import Settings

log = logging.getLogger("newsflow.processor")


def outgoing_builder(stage: str, settings: Settings) -> OutgoingBuilder:
    """The builder of every record ``stage`` sends, from its facts and the settings."""
    spec = STAGES[stage]
    return OutgoingBuilder(
        stage=stage,
        output_topic=spec.output_topic(settings),
        output_schema=spec.output_schema,
        dead_letter_topic=settings.topic_dead_letter,
        input_has_lineage=spec.input_has_lineage,
        max_original_bytes=settings.dead_letter_max_original_bytes,
        max_parse_bytes=settings.max_message_bytes,
    )


class StageProcessor:
    """Runs one stage's function on input messages and routes the result."""

    def __init__(self, stage: str, settings: Settings):
        self.spec: StageSpec = STAGES[stage]
        self.stage = stage
        self.settings = settings
        self.output_schema = self.spec.output_schema
        self.outgoing = outgoing_builder(stage, settings)
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
        return self.outgoing.output(
            message,
            record,
            elapsed_ms=(time.perf_counter() - started) * 1000,
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
        return self.outgoing.dead_letter(
            message,
            error,
            attempts=attempts,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            # Attempts before this one failed unexpectedly; so did this one if it gave up.
            internal_failures=attempts if error.reason == "internal_error" else attempts - 1,
            part_seconds=dict(self.run_stage.part_seconds) or None,
        )
