"""Pages that kill the worker process: counted across processes, dead-lettered after a few.

In the worker's own process (``NEWSFLOW_STAGE_PROCESSES=0``) a page that makes the process die
(a crash in C code, the kernel's OOM killer) cannot be caught: nothing runs after it. Its
input is not committed, so the replacement reads it again and dies the same way, and the
partition would never move. So the count has to outlive the process: before a message goes
into the stage, the worker increments a marker in Redis keyed by its group and the message's
topic, partition and offset (one round trip, with a TTL), and deletes it once the stage
returned or raised. A marker found at ``n`` means ``n`` earlier tries started and never
finished: the process died in each. Past ``NEWSFLOW_MAX_PROCESS_DEATHS`` the message is not
tried again and becomes a ``worker_died`` dead letter; the partition moves on.

Redis, not a local file: a replacement may start in another pod or on another host (a
rebalance), and Redis is where replicas already share state. The marker is a safety net, not
a condition of processing: when Redis does not answer the message is processed unguarded (a
warning, and no new try of Redis for ``_PAUSE_S``, so a Redis that hangs costs no timeout per
message), and the count resumes once it answers. A worker killed from outside mid-page (an
operator's SIGKILL, a node lost) also counts one death against that page; hence a limit of a
few deaths, not one.
"""

from __future__ import annotations

import logging
import time

import redis

from workers.errors import StageError
from workers.records.message import InputMessage
from workers.state.connection import RedisConnection

log = logging.getLogger("newsflow.crash_guard")
# After Redis failed to answer, how long messages go unguarded before it is tried again.
_PAUSE_S = 10.0
KEY_PREFIX = "newsflow:process-deaths:"


class CrashGuard:
    """Counts the starts of each message that never finished, in Redis."""

    def __init__(
        self, connection: RedisConnection, group: str, max_deaths: int, ttl_s: int
    ) -> None:
        self.client = connection.client
        self.where = connection.where
        self.group = group
        self.max_deaths = max_deaths
        self.ttl_s = ttl_s
        self._paused_until = 0.0

    def key(self, message: InputMessage) -> str:
        return f"{KEY_PREFIX}{self.group}:{message.topic}:{message.partition}:{message.offset}"

    def deaths_before(self, message: InputMessage) -> int | None:
        """Mark ``message`` as started; the deaths its earlier starts ended in (None when
        Redis does not answer: the message goes unguarded)."""
        if time.monotonic() < self._paused_until:
            return None
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(self.key(message))
                pipe.expire(self.key(message), self.ttl_s)
                starts, _ = pipe.execute()
        except redis.RedisError as exc:
            self._unavailable(exc)
            return None
        return int(starts) - 1

    def finished(self, message: InputMessage) -> None:
        """The stage returned (or raised) on ``message``: the process survived it."""
        if time.monotonic() < self._paused_until:
            return
        try:
            self.client.delete(self.key(message))
        except redis.RedisError as exc:
            # The marker expires by itself; a later death would then count one too many.
            self._unavailable(exc)

    def not_started(self, message: InputMessage) -> None:
        """Take back the start :meth:`deaths_before` counted: ``message`` is dead-lettered
        without going into the stage, and its marker stays (until its TTL) so that a
        redelivery before the commit is dead-lettered again at once, with the same count."""
        try:
            self.client.decr(self.key(message))
        except redis.RedisError as exc:
            self._unavailable(exc)

    def error(self, deaths: int) -> StageError:
        return StageError(
            "worker_died",
            f"the worker process died {deaths} times processing this message (a crash in C "
            f"code or the OOM killer; NEWSFLOW_MAX_PROCESS_DEATHS={self.max_deaths}); "
            "it is not tried again",
            error_class="WorkerDied",
        )

    def _unavailable(self, exc: redis.RedisError) -> None:
        self._paused_until = time.monotonic() + _PAUSE_S
        log.warning(
            "process-death markers unavailable; messages go unguarded meanwhile",
            extra={"redis": self.where, "error": f"{type(exc).__name__}: {exc}"},
        )
