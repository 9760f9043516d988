"""LeaveGroup version 3 (KIP-345): a static member's explicit leave, as Kafka's admin
``removeMembersFromConsumerGroup`` and Kafka Streams' ``close(leaveGroup=true)`` (KIP-812)
send it.

A static member (``group.instance.id``) sends no LeaveGroup when it stops, so a restart keeps
its partitions; the price is that a member that never comes back holds them until its session
expires. Version 3 names the members to remove by member id and instance id; aiokafka 0.14
defines versions 0 and 1 only (member id alone, which the broker refuses for a static member),
so the request is written here with aiokafka's protocol types. The connection negotiates the
version: a broker without version 3 makes :meth:`Request.prepare` raise, before anything is
sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Int16, Int32, Schema, String

API_KEY = 13
_TEXT = String("utf-8")


class LeaveGroupResponse_v3(Response):
    API_KEY = API_KEY
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        (
            "members",
            Array(("member_id", _TEXT), ("group_instance_id", _TEXT), ("error_code", Int16)),
        ),
    )


class LeaveGroupRequest_v3(RequestStruct):
    API_KEY = API_KEY
    API_VERSION = 3
    RESPONSE_TYPE = LeaveGroupResponse_v3
    SCHEMA = Schema(
        ("group_id", _TEXT),
        ("members", Array(("member_id", _TEXT), ("group_instance_id", _TEXT))),
    )


class RemoveMembers(Request[LeaveGroupRequest_v3]):
    """Remove ``members`` ((member id, instance id) pairs) from ``group``. With its member id
    the broker removes the instance only while that id is still the instance's: a newer
    member under the same instance id is left alone (fenced, not removed)."""

    API_KEY = API_KEY

    def __init__(self, group: str, members: list[tuple[str, str]]):
        self._group = group
        self._members = members

    def build(self, request_struct_class: type[LeaveGroupRequest_v3]) -> LeaveGroupRequest_v3:
        return request_struct_class(self._group, self._members)


@dataclass(frozen=True)
class Outcome:
    """The broker's answer: its error code, and each member's."""

    error_code: int
    members: dict[str, int]  # instance id -> error code

    @property
    def ok(self) -> bool:
        return self.error_code == 0 and all(code == 0 for code in self.members.values())


def outcome(response: LeaveGroupResponse_v3) -> Outcome:
    members = {instance: code for _, instance, code in response.members}
    return Outcome(response.error_code, members)
