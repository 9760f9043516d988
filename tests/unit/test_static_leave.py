"""A static member's explicit leave (NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN): LeaveGroup v3 on the
wire as Kafka's protocol defines it, sent in place of aiokafka's skipped leave, and a broker
that refuses it costs one log line, not the stop. (On Apache Kafka:
tests/integration/test_static_membership.py.)"""

from __future__ import annotations

import logging
import struct

import pytest

from workers.kafka import leave_group
from workers.runtime import faust_overrides


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def test_the_request_is_kafkas_leave_group_v3() -> None:
    # LeaveGroupRequest.json, version 3: GroupId string, Members [MemberId string,
    # GroupInstanceId nullable string]; not flexible (that starts at version 4).
    request = leave_group.RemoveMembers("newsflow-enrich", [("m-1", "enrich-7f")])
    built = request.prepare({leave_group.API_KEY: (0, 5)})
    assert (built.API_KEY, built.API_VERSION, built.FLEXIBLE_VERSION) == (13, 3, False)
    expected = (
        _string("newsflow-enrich") + struct.pack(">i", 1) + _string("m-1") + _string("enrich-7f")
    )
    assert built.encode() == expected


def test_the_answer_is_read_per_member() -> None:
    # LeaveGroupResponse.json, version 3: ThrottleTimeMs, ErrorCode, Members [MemberId,
    # GroupInstanceId, ErrorCode].
    wire = (
        struct.pack(">ih", 0, 0)
        + struct.pack(">i", 1)
        + _string("m-1")
        + _string("enrich-7f")
        + struct.pack(">h", 25)  # UNKNOWN_MEMBER_ID
    )
    answer = leave_group.outcome(leave_group.LeaveGroupResponse_v3.decode(wire))
    assert answer == leave_group.Outcome(0, {"enrich-7f": 25})
    assert not answer.ok
    assert leave_group.Outcome(0, {"enrich-7f": 0}).ok


class FakeCoordinator:
    """What the leave uses of aiokafka's GroupCoordinator; ``_send_req`` prepares the request
    for the broker's LeaveGroup versions as aiokafka's connection does."""

    def __init__(self, instance_id: str | None, versions: tuple[int, int], error: int = 0):
        self.group_id, self.member_id, self.generation = "newsflow-clean", "m-1", 4
        self._group_instance_id = instance_id
        self.versions, self.error = versions, error
        self.sent: list[bytes] = []
        self.skipped_leave = self._maybe_leave_group  # aiokafka's own (no leave when static)

    async def _maybe_leave_group(self) -> None:
        self.reset_generation()

    def reset_generation(self) -> None:
        self.member_id, self.generation = "", -1

    async def _send_req(self, request: leave_group.RemoveMembers) -> object:
        built = request.prepare({leave_group.API_KEY: self.versions})
        self.sent.append(built.encode())
        (member_id, instance_id), *_ = request._members
        return built.RESPONSE_TYPE(0, 0, [(member_id, instance_id, self.error)])


def leave_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if "the group" in r.getMessage()]


async def test_a_static_member_leaves_when_closed(caplog: pytest.LogCaptureFixture) -> None:
    coordinator = FakeCoordinator("clean-a", versions=(0, 5))
    faust_overrides._leave_when_closed(coordinator)
    with caplog.at_level(logging.INFO, "newsflow.worker"):
        await coordinator._maybe_leave_group()
    assert coordinator.sent == [
        _string("newsflow-clean") + struct.pack(">i", 1) + _string("m-1") + _string("clean-a")
    ]
    assert leave_lines(caplog) == [(logging.INFO, "left the group")]
    assert (coordinator.member_id, coordinator.generation) == ("", -1)


@pytest.mark.parametrize(
    ("versions", "error"),
    [((0, 2), 0), ((0, 5), 25)],
    ids=["no LeaveGroup v3 at the broker", "the broker answers UNKNOWN_MEMBER_ID"],
)
async def test_a_refused_leave_is_one_line_and_the_stop_goes_on(
    caplog: pytest.LogCaptureFixture, versions: tuple[int, int], error: int
) -> None:
    coordinator = FakeCoordinator("clean-a", versions=versions, error=error)
    faust_overrides._leave_when_closed(coordinator)
    with caplog.at_level(logging.INFO, "newsflow.worker"):
        await coordinator._maybe_leave_group()  # raises nothing
    assert leave_lines(caplog) == [
        (logging.WARNING, "could not leave the group; its partitions move when the session expires")
    ]
    assert (coordinator.member_id, coordinator.generation) == ("", -1)


async def test_a_member_that_never_joined_sends_nothing() -> None:
    coordinator = FakeCoordinator("clean-a", versions=(0, 5))
    coordinator.reset_generation()
    faust_overrides._leave_when_closed(coordinator)
    await coordinator._maybe_leave_group()
    assert coordinator.sent == []


def test_a_dynamic_member_keeps_aiokafkas_leave() -> None:
    coordinator = FakeCoordinator(None, versions=(0, 5))
    faust_overrides._leave_when_closed(coordinator)
    assert coordinator._maybe_leave_group == coordinator.skipped_leave
