"""`newsflow tail`'s partition look-up rides out a broker that is down (a node restarting)."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import NodeNotReadyError, TopicAuthorizationFailedError

from workers.kafka import tail

METADATA = [{"topic": "raw", "partitions": [{"partition": 1}, {"partition": 0}]}]


class Admin:
    """An admin client whose first ``failures`` answers come from a node that is down."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def describe_topics(self, topics=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return METADATA


async def test_a_node_that_is_down_is_asked_again() -> None:
    admin = Admin(2, NodeNotReadyError("node 2"))
    assert await tail.topic_partitions(admin, "raw") == [
        TopicPartition("raw", 0),
        TopicPartition("raw", 1),
    ]
    assert admin.calls == 3


async def test_a_refusal_is_not_retried() -> None:
    admin = Admin(5, TopicAuthorizationFailedError("raw"))
    with pytest.raises(TopicAuthorizationFailedError):
        await tail.topic_partitions(admin, "raw")
    assert admin.calls == 1
