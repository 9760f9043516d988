"""The failures a stage reports, each with a reason from a small fixed set.

A reason is what ops route, count and replay by; it is a label value of the dead-letter
metrics, so the set stays bounded (it is the ``reason`` enum of ``dead-letter.v1``).
"""

from __future__ import annotations

from typing import Literal

Reason = Literal[
    "invalid_json",
    "schema_violation",
    "oversize",
    "http_error",
    "not_html",
    "empty_content",
    "not_an_article",
    "extraction_failed",
    "extraction_timeout",
    "enrichment_failed",
    "output_contract_violation",
    "internal_error",
    "worker_died",
]


class StageError(Exception):
    """A message this stage cannot turn into output; it becomes a dead letter."""

    def __init__(self, reason: Reason, message: str, *, error_class: str | None = None):
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
        # The class of the underlying error when this wraps one (e.g. lxml's ParserError).
        self.error_class = error_class or type(self).__name__


class TransientError(Exception):
    """A failure that may pass by itself (a dependency such as Redis briefly away).

    The worker retries the message with backoff, without limit and without a dead letter:
    dead-lettering it would drop good input because of our own outage. While it retries,
    the partition waits and /healthz reports it stalled once NEWSFLOW_STALL_AFTER_S passes.
    """
