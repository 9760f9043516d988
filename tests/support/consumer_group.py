"""A classic consumer group as the broker holds it: its generation, leader and members (member
id, group.instance.id, assigned partitions), read from the coordinator's own records; and its
live state as DescribeGroups answers.

DescribeGroups (what the admin client and `kafka-consumer-groups` use) shows neither the
generation nor, in the versions aiokafka sends, the instance ids. The coordinator writes the
group's state to ``__consumer_offsets`` at the end of every rebalance and whenever a static
member's member id is replaced: the last such record is the group as the broker knows it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.coordinator.protocol import ConsumerProtocol
from aiokafka.protocol.types import Array, Bytes, Int16, Int32, Int64, Schema, String

from workers.kafka import clients
from workers.kafka.lag import log_ends
from workers.settings import Settings

OFFSETS_TOPIC = "__consumer_offsets"
_GROUP_METADATA_KEY = 2  # key versions 0 and 1 are offset commits
_TEXT = String("utf-8")
_KEY = Schema(("group", _TEXT))
# GroupMetadataValue version 3, what brokers write since protocol version 2.3 (static
# membership): Kafka's group-coordinator GroupMetadataValue.json.
_VALUE_V3 = Schema(
    ("protocol_type", _TEXT),
    ("generation", Int32),
    ("protocol", _TEXT),
    ("leader", _TEXT),
    ("current_state_timestamp", Int64),
    (
        "members",
        Array(
            ("member_id", _TEXT),
            ("group_instance_id", _TEXT),
            ("client_id", _TEXT),
            ("client_host", _TEXT),
            ("rebalance_timeout", Int32),
            ("session_timeout", Int32),
            ("subscription", Bytes),
            ("assignment", Bytes),
        ),
    ),
)


@dataclass(frozen=True)
class Member:
    member_id: str
    instance_id: str | None
    partitions: frozenset[tuple[str, int]]


@dataclass(frozen=True)
class GroupState:
    generation: int
    leader: str | None
    members: tuple[Member, ...]

    def by_instance(self) -> dict[str | None, Member]:
        return {member.instance_id: member for member in self.members}


def _partitions(assignment: bytes) -> frozenset[tuple[str, int]]:
    if not assignment:
        return frozenset()
    decoded = ConsumerProtocol.ASSIGNMENT.decode(assignment)
    return frozenset((topic, p) for topic, parts in decoded.assignment for p in parts)


def decode_group_metadata(value: bytes) -> GroupState:
    data = io.BytesIO(value)
    version = Int16.decode(data)
    if version != 3:
        raise NotImplementedError(f"GroupMetadataValue version {version}: only 3 is decoded")
    _, generation, _, leader, _, members = _VALUE_V3.decode(data)
    assert not data.read(), "bytes left after a GroupMetadataValue: the schema is wrong"
    return GroupState(
        generation=generation,
        leader=leader,
        members=tuple(
            Member(member_id, instance_id, _partitions(assignment))
            for member_id, instance_id, *_, assignment in members
        ),
    )


async def group_history(settings: Settings, group: str) -> list[GroupState]:
    """Every state of ``group`` the coordinator recorded, oldest first."""
    ends = await log_ends(settings, OFFSETS_TOPIC)
    history = []
    async with clients.consumer(settings) as consumer:
        for partition, end in sorted(ends.items()):
            tp = TopicPartition(OFFSETS_TOPIC, partition)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, ()):
                    if record.key is None or record.value is None:  # a tombstone
                        continue
                    key = io.BytesIO(record.key)
                    if Int16.decode(key) != _GROUP_METADATA_KEY or _KEY.decode(key)[0] != group:
                        continue
                    history.append(decode_group_metadata(record.value))
    return history


async def group_state(settings: Settings, group: str) -> GroupState | None:
    """The group as the broker holds it now (None before its first rebalance completed)."""
    history = await group_history(settings, group)
    return history[-1] if history else None


async def described(settings: Settings, group: str) -> tuple[str, dict[str, frozenset]]:
    """DescribeGroups through the admin client: the group's state (Stable, ...) and each
    member id's assigned partitions."""
    async with clients.admin(settings) as admin:
        (response,) = await admin.describe_consumer_groups([group])
    (answer,) = response.groups
    error_code, _, state, _, _, members = answer[:6]
    assert error_code == 0, f"DescribeGroups {group}: error {error_code}"
    return state, {member[0]: _partitions(member[-1]) for member in members}
