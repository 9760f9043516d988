"""The Redis connection behind the state replicas share: bounded timeouts, so an unreachable
Redis fails fast and the worker retries the message (a transient failure) instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import redis
import redis.asyncio

from workers.errors import TransientError


class StateUnavailable(TransientError):
    """Shared state in Redis cannot be reached; the message cannot be handled now (the
    worker retries it with backoff until Redis is back)."""


class RedisConnection(NamedTuple):
    client: redis.Redis
    where: str  # the host it talks to, for error messages


def connect(url: str, timeout_s: float) -> RedisConnection:
    """A client for ``url`` whose connects and reads give up after ``timeout_s``."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    return RedisConnection(client, client.connection_pool.connection_kwargs.get("host", url))


@contextmanager
def unavailable_as(what: str, where: str) -> Iterator[None]:
    """Any Redis failure inside becomes :class:`StateUnavailable`, a transient failure naming
    ``what`` and the host: the worker retries the message with backoff until Redis is back."""
    try:
        yield
    except redis.RedisError as exc:
        raise StateUnavailable(
            f"{what} in Redis ({where}) unavailable: {type(exc).__name__}: {exc}"
        ) from exc


class RedisProbe:
    """Whether Redis answers a PING (the worker's newsflow_redis_up), without holding the
    event loop while it is away."""

    def __init__(self, url: str, timeout_s: float):
        self.timeout_s = timeout_s
        self._client = redis.asyncio.from_url(url, socket_timeout=timeout_s)

    async def answers(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._client.ping(), self.timeout_s))
        except Exception:
            return False
