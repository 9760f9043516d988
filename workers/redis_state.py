"""The Redis connection behind the state replicas share (near-duplicate index, per-site
boilerplate memory): bounded timeouts, so an unreachable Redis fails fast and the worker
retries the message (a transient failure) instead of hanging."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from workers.errors import TransientError


def connect(url: str, timeout_s: float) -> tuple[redis.Redis, str]:
    """A client for ``url`` and the host it talks to (for error messages)."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    return client, client.connection_pool.connection_kwargs.get("host", url)


@contextmanager
def unavailable_as(error: type[TransientError], what: str, where: str) -> Iterator[None]:
    """Any Redis failure inside becomes ``error``, a transient failure naming ``what`` and the
    host: the worker retries the message with backoff until Redis is back."""
    try:
        yield
    except redis.RedisError as exc:
        raise error(f"{what} in Redis ({where}) unavailable: {type(exc).__name__}: {exc}") from exc
