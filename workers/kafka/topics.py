"""Creating and listing the pipeline's topics (admin API)."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from workers.settings import Settings

# Room for the JSON envelope (base64 grows a page by a third) around the largest page.
_ENVELOPE_SLACK = 1024 * 1024


def topic_configs(settings: Settings, topic: str) -> dict[str, str]:
    """Per-topic configs: raw pages and dead letters carry whole pages, so they may be big."""
    configs = {"compression.type": "producer"}
    if topic in (settings.topic_raw, settings.topic_dead_letter):
        configs["max.message.bytes"] = str(settings.max_message_bytes + _ENVELOPE_SLACK)
    return configs


async def create_topics(
    settings: Settings, partitions: int | None = None, topics: list[str] | None = None
) -> dict[str, str]:
    """Create the pipeline's topics; returns {topic: 'created' | 'exists'}."""
    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    result: dict[str, str] = {}
    try:
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
    finally:
        await admin.close()
    return result


async def list_topics(settings: Settings) -> list[str]:
    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()
