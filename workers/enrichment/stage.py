"""The enrichment stage: an articles-clean.v1 message to an articles-enriched.v1 record.

The stage runs the configured enrichers (:mod:`workers.enrichment.enrichers`) in order; each
adds one member of ``enrichment`` and its version to ``enrichers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workers.enrichment.enrichers import Enricher
from workers.errors import StageError, TransientError
from workers.records import contracts
from workers.records.cloudevents import now_rfc3339
from workers.records.message import InputMessage
from workers.settings import Settings


def enrich_message(
    message: InputMessage, settings: Settings, enrichers: Sequence[Enricher]
) -> dict[str, Any]:
    value = message.value or b""
    if len(value) > settings.max_message_bytes:
        raise StageError(
            "oversize", f"clean message is {len(value)} bytes; limit {settings.max_message_bytes}"
        )
    article = contracts.decode(message.value, "articles-clean.v1")
    return enrich_article(article, enrichers, message)


def enrich_article(
    article: dict[str, Any], enrichers: Sequence[Enricher], message: InputMessage
) -> dict[str, Any]:
    """The sink record for a clean ``article`` (already validated)."""
    enrichment: dict[str, Any] = {}
    for enricher in enrichers:
        try:
            enrichment[enricher.name] = enricher(article)
        except TransientError:
            raise  # a dependency is away: retry the message, do not dead-letter it
        except Exception as exc:  # one enricher's bug must dead-letter, not kill the worker
            raise StageError(
                "enrichment_failed",
                f"enricher {enricher.name!r} raised {type(exc).__name__}: {exc}",
                error_class=type(exc).__name__,
            ) from exc
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
