"""The worker's periodic self-check: lag gauges, broker connectivity, Redis availability.

Runs as a faust timer every ``NEWSFLOW_HEALTH_INTERVAL_S``. The broker check is a metadata
request on a small client of its own, so it tells "connected" even while the consumer waits
in a rebalance; when the broker will not let it in (a rotated password, a revoked
certificate), ``/readyz`` says why. On a cluster, the probe also connects to the leader of
each partition the worker reads or writes: a cluster that lost its controller quorum keeps
naming dead nodes as leaders, and any node left answers the metadata request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import faust
from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaConnectionError

from workers.kafka.access import explain, login_problem
from workers.ops import metrics
from workers.ops.health import WorkerHealth
from workers.pipeline import STAGES
from workers.settings import Settings
from workers.state.connection import RedisProbe

log = logging.getLogger("newsflow.monitor")
_PROBE_EVERY_S = 5.0
_PROBE_TIMEOUT_S = 3.0


class Monitor:
    def __init__(
        self,
        app: faust.App,
        health: WorkerHealth,
        settings: Settings,
        committed_offsets: Callable[[], Mapping[TopicPartition, int]],
        output_topics: tuple[str, ...] = (),
    ):
        self.app = app
        # Passed in by the runtime, which owns every reach into faust's private parts.
        self.committed_offsets = committed_offsets
        self.output_topics = output_topics
        self.health = health
        self.settings = settings
        self._client: AIOKafkaClient | None = None
        self._redis = RedisProbe(settings.redis_url, _PROBE_TIMEOUT_S)
        # Only a stage whose shared state lives in Redis waits for it (not ready meanwhile).
        self._needs_redis = STAGES[health.stage].state_backend(settings) == "redis"
        self._last_probe = 0.0

    async def refresh(self) -> None:
        self.health.tick()
        committed = self.committed_offsets()
        self.health.update_lag(
            highwater=self._highwater, committed=lambda tp: committed.get(TopicPartition(*tp))
        )
        if time.monotonic() - self._last_probe >= _PROBE_EVERY_S:
            self._last_probe = time.monotonic()
            self.health.broker_connected = await self._broker_answers()
            redis_up = await self._redis.answers()
            metrics.REDIS_UP.set(1 if redis_up else 0)
            self._note_redis(redis_up)
        self.health.healthy()
        self.health.ready()

    def _note_redis(self, answers: bool) -> None:
        problem = None
        if self._needs_redis and not answers:
            where = urlsplit(self.settings.redis_url)
            problem = (
                f"Redis at {where.hostname}:{where.port or 6379} does not answer: check "
                "NEWSFLOW_REDIS_URL (messages that need it wait until it does)"
            )
        if problem != self.health.redis_problem:
            # One line when it goes away and one when it is back, not one per probe.
            if problem:
                log.warning(problem, extra={"stage": self.health.stage})
            else:
                log.info("Redis answers again", extra={"stage": self.health.stage})
        self.health.on_redis(problem)

    def _highwater(self, tp: TopicPartition) -> int | None:
        try:
            return self.app.consumer.highwater(TopicPartition(*tp))
        except Exception:  # not fetched yet, or the consumer is between generations
            return None

    async def _broker_answers(self) -> bool:
        try:
            if self._client is None:
                self._client = AIOKafkaClient(**self.settings.kafka_client_kwargs())
                await asyncio.wait_for(self._client.bootstrap(), _PROBE_TIMEOUT_S)
            cluster = await asyncio.wait_for(self._client.fetch_all_metadata(), _PROBE_TIMEOUT_S)
            self.health.access_problem = None
            self.health.unreachable_leaders = await self._unreachable_leaders(cluster)
            return True
        except Exception as exc:
            log.warning("broker probe failed", extra={"error": repr(exc)})
            self.health.access_problem = explain(exc, self.settings)
            if isinstance(exc, KafkaConnectionError):
                self.health.access_problem = await login_problem(self.settings)
            if self._client is not None:
                await self._client.close()
                self._client = None
            return False

    async def _unreachable_leaders(self, cluster: ClusterMetadata) -> list[str]:
        """The partitions the worker reads (its assignment) or writes (every partition of its
        output topics) whose leader, as the fresh metadata names it, takes no connection (or
        that have no leader)."""
        assert self._client is not None
        partitions = set(self.health.partitions)
        for topic in self.output_topics:
            partitions.update((topic, p) for p in cluster.partitions_for_topic(topic) or ())
        leaders: dict[int, list[str]] = {}
        for topic, partition in sorted(partitions):
            leader = cluster.leader_for_partition(TopicPartition(topic, partition))
            if leader is not None:  # None: a topic the metadata does not list (yet)
                leaders.setdefault(leader, []).append(f"{topic}/{partition}")
        unreachable = leaders.pop(-1, [])
        for node, partitions in leaders.items():
            try:
                reached = await asyncio.wait_for(self._client.ready(node), _PROBE_TIMEOUT_S)
            except Exception:
                reached = False
            if not reached:
                unreachable += partitions
        return unreachable
