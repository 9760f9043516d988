"""Where a worker runs its stage: in its own process, or in a pool of stage processes.

Cleaning costs tens to hundreds of milliseconds of CPU per page (seconds on a hostile one).
Run in the worker's own process (``NEWSFLOW_STAGE_PROCESSES=0``, :class:`InlineRunner`), it
holds the event loop meanwhile: finished outputs wait to be sent and probes wait to be
answered, and a time limit can only be a signal that C code (lxml's parser) does not see.

With ``NEWSFLOW_STAGE_PROCESSES=N`` (:class:`ProcessRunner`) the stage runs in N child
processes (pebble's process pool) that each load the models once:

- the event loop only moves bytes, so outputs go out as soon as they are ready;
- N children use N cores, with the consumer, producer, offsets and metrics still shared;
- a call running past ``NEWSFLOW_STAGE_TIMEOUT_S`` is killed with its process, which is
  replaced, and the message becomes a dead letter: a hard limit whatever the code is doing;
- a child that dies (out of memory, a crash in C code) costs that message a dead letter,
  not the worker.

Either way the worker sees the same thing: :meth:`submit` gives a future of the message's
:class:`~workers.records.outgoing.Outgoing` (or of the :class:`~workers.errors.TransientError` to
retry on), and the worker sends outputs in the order it read the inputs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import time

import pebble

from workers.errors import StageError
from workers.ops import logs
from workers.pipeline import STAGES
from workers.records.message import InputMessage
from workers.records.outgoing import Outgoing
from workers.runtime.crash_guard import CrashGuard
from workers.runtime.processor import StageProcessor, outgoing_builder
from workers.settings import Settings
from workers.state.backend import check_stage_processes
from workers.state.connection import connect

log = logging.getLogger("newsflow.runner")

# How long a new stage process may take to load its models before the worker gives up.
_WARM_UP_TIMEOUT_S = 300.0
_PR_SET_PDEATHSIG = 1


class InlineRunner:
    """The stage in the worker's own process: each call blocks the event loop.

    A message the process died on too often (:mod:`workers.runtime.crash_guard`) becomes a
    dead letter instead of another try.
    """

    blocking = True
    capacity = 1  # messages submitted and not yet sent

    def __init__(self, stage: str, settings: Settings):
        self.processor = StageProcessor(stage, settings)
        self.guard = _crash_guard(stage, settings)

    def warm_up(self) -> None:
        self.processor.warm_up()

    def submit(self, message: InputMessage) -> asyncio.Future[Outgoing]:
        future: asyncio.Future[Outgoing] = asyncio.get_running_loop().create_future()
        guard = self.guard
        deaths = guard.deaths_before(message) if guard else None
        if guard and deaths is not None and deaths >= guard.max_deaths:
            guard.not_started(message)
            log.error(
                "the worker died on this message too often; dead-lettering it",
                extra={"stage": self.processor.stage, "tpo": message.tpo, "deaths": deaths},
            )
            future.set_result(
                self.processor.outgoing.dead_letter(
                    message, guard.error(deaths), attempts=deaths, elapsed_ms=0.0
                )
            )
            return future
        try:
            future.set_result(self.processor.process(message))
        except Exception as exc:  # TransientError: the worker retries it
            future.set_exception(exc)
        finally:
            # Reached only if the process survived: this start was no death.
            if guard:
                guard.finished(message)
        return future

    def close(self) -> None:
        pass


class ProcessRunner:
    """The stage in ``settings.stage_processes`` child processes, with a hard time limit."""

    blocking = False

    def __init__(self, stage: str, settings: Settings):
        check_stage_processes(STAGES[stage].state_backend(settings), settings.stage_processes)
        self.stage: str = stage
        self.settings = settings
        self.outgoing = outgoing_builder(stage, settings)
        # Each child works on one message and has the next one waiting: no idle gap.
        self.capacity = 2 * settings.stage_processes
        # forkserver: children start from a small single-threaded server, never from this
        # process with its Kafka client threads. No preloading: children that inherited the
        # stage's modules from the server spent ~10 % more CPU per page (measured, see
        # bench/RESULTS.md) than children that import them themselves.
        context = multiprocessing.get_context("forkserver")
        self.pool = pebble.ProcessPool(
            max_workers=settings.stage_processes,
            max_tasks=settings.stage_process_max_tasks,
            initializer=_start_child,
            initargs=(stage, settings),
            context=context,
        )

    def warm_up(self) -> None:
        """Block until a stage process has loaded its models and answers."""
        self.pool.schedule(os.getpid).result(timeout=_WARM_UP_TIMEOUT_S)

    def submit(self, message: InputMessage) -> asyncio.Future[Outgoing]:
        started = time.perf_counter()
        future = self.pool.schedule(
            _process_in_child, args=(message,), timeout=self.settings.stage_timeout_s
        )
        return asyncio.ensure_future(self._outcome(message, future, started))

    async def _outcome(
        self, message: InputMessage, future: concurrent.futures.Future, started: float
    ) -> Outgoing:
        try:
            return await asyncio.wrap_future(future)
        except concurrent.futures.TimeoutError:
            error = StageError(
                STAGES[self.stage].timeout_reason,
                f"the {self.stage} stage took longer than {self.settings.stage_timeout_s} s "
                "(NEWSFLOW_STAGE_TIMEOUT_S); its process was killed",
                error_class="StageTimeout",
            )
        except pebble.ProcessExpired as exc:
            error = StageError(
                "internal_error",
                f"the stage process died on this message (exit code {exc.exitcode})",
                error_class="ProcessExpired",
            )
        log.warning(
            "stage process lost",
            extra={
                "stage": self.stage,
                "tpo": message.tpo,
                "error": error.message,
            },
        )
        return self.outgoing.dead_letter(
            message, error, attempts=1, elapsed_ms=(time.perf_counter() - started) * 1000
        )

    def close(self) -> None:
        self.pool.stop()
        self.pool.join(timeout=10)


def _crash_guard(stage: str, settings: Settings) -> CrashGuard | None:
    """The process-death count, in Redis; none when the stage keeps its state in this process
    (the embedded demo: no Redis) or NEWSFLOW_MAX_PROCESS_DEATHS is 0."""
    spec = STAGES[stage]
    if settings.max_process_deaths == 0 or spec.state_backend(settings) == "memory":
        return None
    return CrashGuard(
        connect(settings.redis_url, settings.redis_timeout_s),
        group=spec.group(settings),
        max_deaths=settings.max_process_deaths,
        ttl_s=settings.process_deaths_ttl_s,
    )


def create_runner(stage: str, settings: Settings) -> InlineRunner | ProcessRunner:
    if settings.stage_processes == 0:
        return InlineRunner(stage, settings)
    return ProcessRunner(stage, settings)


# --- inside a stage process ----------------------------------------------------------------

_processor: StageProcessor | None = None


def _start_child(stage: str, settings: Settings) -> None:
    global _processor
    if sys.platform == "linux":
        # Die with the parent (the forkserver, which exits with the worker), even if the
        # worker was SIGKILLed and could not stop its pool.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    logs.configure(settings.log_level, settings.log_format)
    _processor = StageProcessor(stage, settings)
    _processor.warm_up()


def _process_in_child(message: InputMessage) -> Outgoing:
    assert _processor is not None, "stage process started without its initializer"
    return _processor.process(message)
