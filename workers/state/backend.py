"""Where a store of shared state lives, as the settings ask, and the start-up check on it.

A store lives in Redis (``redis``: shared by every replica) or in this process only
(``memory``: the embedded demo). A store a stage can do without may also be ``off``; the
stage then opens none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

from workers.settings import Settings
from workers.state.connection import RedisConnection, connect

Store = TypeVar("Store")


def open_store(
    backend: Literal["redis", "memory"],
    settings: Settings,
    *,
    in_process: Callable[[], Store],
    in_redis: Callable[[RedisConnection], Store],
) -> Store:
    """The store ``backend`` names: ``in_process()`` for memory, else ``in_redis`` on a
    connection to NEWSFLOW_REDIS_URL with NEWSFLOW_REDIS_TIMEOUT_S."""
    if backend == "memory":
        return in_process()
    return in_redis(connect(settings.redis_url, settings.redis_timeout_s))


def check_stage_processes(backend: str, stage_processes: int) -> None:
    """In-process memories would split between stage processes; refuse, do not degrade."""
    if stage_processes >= 2 and backend == "memory":
        raise ValueError(
            f"NEWSFLOW_STAGE_PROCESSES={stage_processes} with an in-process memory "
            "backend would give each stage process its own memory; use the redis backend "
            "(NEWSFLOW_DEDUP_BACKEND / NEWSFLOW_BOILERPLATE_BACKEND) or one stage process"
        )
