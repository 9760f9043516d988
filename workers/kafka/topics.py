"""Creating and listing the pipeline's topics (admin API)."""

from __future__ import annotations

from aiokafka.admin import NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from workers.kafka import clients
from workers.settings import Settings


def topic_configs(settings: Settings, topic: str) -> dict[str, str]:
    """Per-topic configs: raw pages and dead letters carry whole pages, so they may be big."""
    configs = {"compression.type": "producer"}
    if topic in (settings.topic_raw, settings.topic_dead_letter):
        configs["max.message.bytes"] = str(clients.max_record_bytes(settings))
    return configs


async def create_topics(
    settings: Settings, partitions: int | None = None, topics: list[str] | None = None
) -> dict[str, str]:
    """Create the pipeline's topics; returns {topic: 'created' | 'exists'}."""
    result: dict[str, str] = {}
    async with clients.admin(settings) as admin:
        existing = set(await admin.list_topics())
        wanted = [t for t in (topics or settings.all_topics()) if t not in existing]
        result.update({t: "exists" for t in (topics or settings.all_topics()) if t in existing})
        for topic in wanted:
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
                result[topic] = "exists"
    return result


async def list_topics(settings: Settings) -> list[str]:
    async with clients.admin(settings) as admin:
        return sorted(await admin.list_topics())
