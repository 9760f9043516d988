"""The enrichment stage: an articles-clean.v1 message to an articles-enriched.v1 record.

The stage runs the configured enrichers (:mod:`workers.enrichment.enrichers`) in order; each
adds one member of ``enrichment`` and its version to ``enrichers``. An enricher that cannot
read the article's language gets ``{"skipped": reason}`` instead of being called.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from workers.enrichment.enrichers import Enricher, build_enrichers, skip_reason
from workers.errors import StageError, TransientError
from workers.nlp import pipelines
from workers.records import contracts
from workers.records.clock import now_rfc3339
from workers.records.message import InputMessage
from workers.settings import Settings

# A worker that reads nothing for this long after its warm-up loads the other languages'
# pipelines anyway, so an idle replica is ready for every language before its traffic comes.
LOAD_LATER_AFTER_S = 10.0


class EnrichStage:
    """The enrich stage as the runtime runs it (:data:`workers.pipeline.STAGES`).

    ``part_seconds`` holds the time of each enricher in the last call: the worker observes
    ``newsflow_enricher_duration_seconds`` from it wherever the stage ran (its own process or
    a stage process).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.enrichers = build_enrichers(settings)
        self.part_seconds: dict[str, float] = {}

    def warm_up(self, sample: InputMessage) -> dict[str, Any]:
        """Load the enrichers' models on ``sample`` (a clean record of the built-in page).
        The NER pipelines of the other languages start loading in the background after the
        first record (or :data:`LOAD_LATER_AFTER_S` after this, with none): their load holds
        the interpreter for seconds (French compiles its tokenizer's patterns), and the
        first records of a replacement worker should not wait behind it."""
        # An enricher with shared state (the near-duplicate index) must neither index a
        # synthetic page nor need Redis to start.
        record = enrich_message(
            sample, self.settings, [e for e in self.enrichers if not e.shared_state]
        )
        timer = threading.Timer(LOAD_LATER_AFTER_S, pipelines.load_later)
        timer.daemon = True
        timer.start()
        return record

    def sample_record(self, sample: InputMessage) -> dict[str, Any]:
        """``sample``'s record, for a stage after this one (none today)."""
        return self.warm_up(sample)

    def __call__(self, message: InputMessage) -> dict[str, Any]:
        self.part_seconds.clear()
        record = enrich_message(message, self.settings, self.enrichers, self.part_seconds)
        pipelines.load_later()  # after the first record; nothing to do once started
        return record


def enrich_message(
    message: InputMessage,
    settings: Settings,
    enrichers: Sequence[Enricher],
    part_seconds: dict[str, float] | None = None,
) -> dict[str, Any]:
    value = message.value or b""
    if len(value) > settings.max_message_bytes:
        raise StageError(
            "oversize", f"clean message is {len(value)} bytes; limit {settings.max_message_bytes}"
        )
    article = contracts.decode(message.value, "articles-clean.v1")
    return enrich_article(article, enrichers, message, part_seconds)


def enrich_article(
    article: dict[str, Any],
    enrichers: Sequence[Enricher],
    message: InputMessage,
    part_seconds: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The sink record for a clean ``article`` (already validated); each enricher's time
    goes to ``part_seconds`` when given."""
    enrichment: dict[str, Any] = {}
    for enricher in enrichers:
        started = time.perf_counter()
        try:
            if reason := skip_reason(enricher, article):
                enrichment[enricher.name] = {"skipped": reason}
            else:
                enrichment[enricher.name] = enricher(article)
        except TransientError:
            raise  # a dependency is away: retry the message, do not dead-letter it
        except Exception as exc:  # one enricher's bug must dead-letter, not kill the worker
            raise StageError(
                "enrichment_failed",
                f"enricher {enricher.name!r} raised {type(exc).__name__}: {exc}",
                error_class=type(exc).__name__,
            ) from exc
        finally:
            if part_seconds is not None:
                part_seconds[enricher.name] = time.perf_counter() - started
    return {
        **article,
        "timestamps": {**article["timestamps"], "enriched": now_rfc3339()},
        "lineage": [
            *article["lineage"],
            {
                "stage": "enrich",
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
            },
        ],
        "enrichment": enrichment,
        "enrichers": {enricher.name: enricher.version for enricher in enrichers},
    }
