"""The Redis connection behind the state replicas share (near-duplicate index, per-site
boilerplate memory): bounded timeouts, so an unreachable Redis fails fast and the worker
retries the message (a transient failure) instead of hanging."""

from __future__ import annotations

import redis


def connect(url: str, timeout_s: float) -> tuple[redis.Redis, str]:
    """A client for ``url`` and the host it talks to (for error messages)."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    return client, client.connection_pool.connection_kwargs.get("host", url)
