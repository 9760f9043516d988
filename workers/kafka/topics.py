"""Creating and listing the pipeline's topics (admin API).

Topics are made for the cluster they live on: ``NEWSFLOW_REPLICATION_FACTOR`` replicas (3 by
default) and ``min.insync.replicas`` (replication factor - 1 by default), checked against the
brokers the cluster reports before anything is created. ``create_topics`` returns once every
partition has a leader: Kafka answers CreateTopics before its partitions are ready, and a
client that writes at once would see no topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from workers.kafka import clients
from workers.settings import Settings


class TopicSettingsError(ValueError):
    """The replication settings cannot be met on this cluster (nothing was created)."""


def topic_configs(settings: Settings, topic: str) -> dict[str, str]:
    """Per-topic configs: raw pages and dead letters carry whole pages, so they may be big."""
    configs = {
        "compression.type": "producer",
        "min.insync.replicas": str(settings.topic_min_insync_replicas),
    }
    if topic in (settings.topic_raw, settings.topic_dead_letter):
        configs["max.message.bytes"] = str(clients.max_record_bytes(settings))
    return configs


def check_replication(settings: Settings, brokers: int) -> list[str]:
    """Raise ``TopicSettingsError`` when the settings cannot work on ``brokers`` brokers;
    return warnings for settings that work but give up a guarantee."""
    replicas, insync = settings.replication_factor, settings.topic_min_insync_replicas
    if replicas > brokers:
        raise TopicSettingsError(
            f"replication factor {replicas} needs {replicas} brokers, and the cluster at "
            f"{settings.bootstrap_servers} has {brokers}: set NEWSFLOW_REPLICATION_FACTOR "
            f"(or --replication-factor) to at most {brokers}"
        )
    warnings = []
    if replicas > 1 and insync == replicas:
        warnings.append(
            f"min.insync.replicas {insync} = replication factor: writes stop while any one "
            f"broker is down (NEWSFLOW_MIN_INSYNC_REPLICAS={replicas - 1} tolerates one)"
        )
    if replicas > 1 and insync == 1:
        warnings.append(
            "min.insync.replicas 1: an acknowledged output may live on one broker only and "
            "be lost with it (NEWSFLOW_MIN_INSYNC_REPLICAS=2 keeps two copies)"
        )
    if replicas == 1 and brokers > 1:
        warnings.append(
            f"replication factor 1 on a cluster of {brokers} brokers: losing one broker "
            "loses its partitions"
        )
    return warnings


async def create_topics(
    settings: Settings,
    partitions: int | None = None,
    topics: list[str] | None = None,
    ready_timeout_s: float = 60.0,
    warn: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Create the pipeline's topics; returns {topic: 'created' | 'exists' | 'exists (…)'}
    where the parenthesis says how an existing topic differs from the settings. ``warn`` gets
    the warnings of :func:`check_replication` before anything is created."""
    names = topics or settings.all_topics()
    result: dict[str, str] = {}
    async with clients.admin(settings) as admin:
        brokers = len((await admin.describe_cluster())["brokers"])
        for warning in check_replication(settings, brokers):
            if warn is not None:
                warn(warning)
        existing = set(await admin.list_topics())
        for topic in names:
            if topic in existing:
                continue
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            topic,
                            num_partitions=partitions or settings.partitions,
                            replication_factor=settings.replication_factor,
                            topic_configs=topic_configs(settings, topic),
                        )
                    ]
                )
                result[topic] = "created"
            except TopicAlreadyExistsError:
                existing.add(topic)  # another process made it meanwhile
        if existing & set(names):
            result.update(await _describe_existing(admin, settings, existing & set(names)))
        await _wait_for_leaders(admin, names, ready_timeout_s)
    return {topic: result[topic] for topic in names}


async def _describe_existing(
    admin: AIOKafkaAdminClient, settings: Settings, topics: set[str]
) -> dict[str, str]:
    """'exists', or 'exists (replication factor 1, settings say 3)' for each topic."""
    described = {t["topic"]: t for t in await admin.describe_topics(sorted(topics))}
    insync = await _min_insync(admin, sorted(topics))
    states = {}
    for topic in topics:
        differences = []
        partitions = described.get(topic, {}).get("partitions", [])
        replicas = min((len(p["replicas"]) for p in partitions), default=0)
        if partitions and replicas != settings.replication_factor:
            differences.append(
                f"replication factor {replicas}, settings say {settings.replication_factor}"
            )
        wanted = settings.topic_min_insync_replicas
        if topic in insync and insync[topic] != wanted:
            differences.append(f"min.insync.replicas {insync[topic]}, settings say {wanted}")
        states[topic] = f"exists ({'; '.join(differences)})" if differences else "exists"
    return states


async def _min_insync(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, int]:
    # Every config of each topic: naming the one wanted makes Tansu drop the connection.
    resources = [ConfigResource(ConfigResourceType.TOPIC, t, None) for t in topics]
    found = {}
    for response in await admin.describe_configs(resources):
        for _code, _message, _type, name, entries in response.resources:
            for entry in entries:
                if entry[0] == "min.insync.replicas" and entry[1] is not None:
                    found[name] = int(entry[1])
    return found


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[str], timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while True:
        described = await admin.describe_topics(topics)
        leaderless = [
            f"{t['topic']}[{p['partition']}]" if t["error_code"] == 0 else t["topic"]
            for t in described
            for p in (t["partitions"] if t["error_code"] == 0 else [{"partition": "*"}])
            if t["error_code"] != 0 or p["error_code"] != 0 or p["leader"] < 0
        ]
        if not leaderless:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"partitions without a leader after {timeout_s:.0f} s: {leaderless}")
        await asyncio.sleep(0.2)


async def list_topics(settings: Settings) -> list[str]:
    async with clients.admin(settings) as admin:
        return sorted(await admin.list_topics())
