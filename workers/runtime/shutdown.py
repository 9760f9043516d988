"""A worker's stop on SIGTERM, bounded by NEWSFLOW_SHUTDOWN_TIMEOUT_S whatever the brokers do.

A graceful stop waits for the outputs in flight to be acknowledged (the drain), commits the
inputs acked meanwhile, and stops the producer. Each of these talks to a broker, and with every
broker down aiokafka retries each for ever (a commit waits for a coordinator, the producer's
stop for its batches to be delivered). The clock gives the drain the first half of the budget
and each later step what is left of it, logs every step with its duration, and ends the
process at the deadline if a library still holds it. Nothing it cuts short was acked, so
nothing past an unacknowledged output is committed: the next worker re-reads those inputs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("newsflow.shutdown")
# The share of the budget for outputs in flight; the rest is for the steps after it.
DRAIN_SHARE = 0.5
# Steps end this long before the deadline, so a stop that can end on its own does.
_MARGIN_S = 0.5
# Exit status of a stop the deadline ended (a clean stop exits 0).
EXIT_TIMED_OUT = 1


class ShutdownClock:
    """The deadline of one worker's stop, counted from its start (:meth:`begin`)."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self.started: float | None = None
        self._backstop: threading.Timer | None = None

    @property
    def stopping(self) -> bool:
        return self.started is not None

    def begin(self) -> None:
        """The stop starts now (once): start counting, and arm the deadline's hard exit."""
        if self.started is not None:
            return
        self.started = time.monotonic()
        log.info("stopping", extra={"shutdown_timeout_s": self.timeout_s})
        self._backstop = threading.Timer(self.timeout_s, self._exit_now)
        self._backstop.daemon = True
        self._backstop.start()

    def drain_left(self) -> float:
        """Seconds left to wait for outputs in flight (the whole share before the stop)."""
        share = self.timeout_s * DRAIN_SHARE
        if self.started is None:
            return share
        return max(0.0, self.started + share - time.monotonic())

    def left(self) -> float:
        """Seconds left for a step of the stop."""
        if self.started is None:
            return max(0.0, self.timeout_s - _MARGIN_S)
        return max(0.0, self.started + self.timeout_s - _MARGIN_S - time.monotonic())

    async def step(self, name: str, work: Awaitable[T], budget_s: float) -> T | None:
        """Run one step of the stop for at most ``budget_s``: its result, None if cut short."""
        began = time.monotonic()
        result = None
        try:
            result = await asyncio.wait_for(work, max(budget_s, 0.0))
            done = True
        except TimeoutError:
            done = False
        level = logging.INFO if done else logging.WARNING
        log.log(
            level,
            "shutdown step done" if done else "shutdown step cut short",
            extra={"step": name, "s": round(time.monotonic() - began, 3), "budget_s": budget_s},
        )
        return result

    def _exit_now(self) -> None:
        # Runs in the timer's thread: the event loop may be the one held.
        log.error(
            "shutdown timed out; exiting now (inputs whose outputs were not acknowledged "
            "stay uncommitted and are re-read)",
            extra={"shutdown_timeout_s": self.timeout_s},
        )
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(EXIT_TIMED_OUT)
