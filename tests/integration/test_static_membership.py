"""Static membership (NEWSFLOW_INSTANCE_ID) on Apache Kafka.

A clean worker stopped (SIGTERM without NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN: it must not leave
the group; or SIGKILL with it on: a kill sends nothing) and restarted with the same instance
id within the session timeout gets its partitions back with no rebalance. Checked on the
broker: the group's generation does not change, the other member keeps its member id and
partitions and goes on processing while the first is away; and every page reaches the sink.

With NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN a worker asked to stop (SIGTERM: a pod removed by
scale-in or a rollout) leaves explicitly (LeaveGroup v3), and the other member owns every
partition long before the session timeout would have freed them. A broker that refuses the
leave (the embedded one answers UNKNOWN_MEMBER_ID) costs one warning line, not the stop."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.support.brokers import TEST_BROKER
from tests.support.consumer_group import GroupState, described, group_state
from tests.support.delivery import pages, wait_for_keys
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import WorkerProcess
from workers.kafka.produce import encode_raw, produce
from workers.settings import Settings

pytestmark = pytest.mark.broker
on_kafka = pytest.mark.skipif(TEST_BROKER != "kafka", reason="group.instance.id needs Apache Kafka")
# Long enough for a worker process to start again on a busy machine; the test checks the
# restart came back within it.
SESSION_S = 45.0


def logged_at(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


def partitions(worker: WorkerProcess) -> frozenset[tuple[str, int]]:
    return frozenset(
        (topic, int(p)) for topic, p in (tp.rsplit("/", 1) for tp in worker.assignment())
    )


async def settled(settings: Settings, a: WorkerProcess, b: WorkerProcess) -> GroupState:
    """The group once the broker holds both workers, each with the partitions it logged."""
    group = settings.clean_group
    found: list[GroupState] = []

    async def both_members() -> bool:
        state = await group_state(settings, group)
        if state is None or len(state.members) != 2:
            return False
        found[:] = [state]
        logged = {partitions(a), partitions(b)}
        return {m.partitions for m in state.members} == logged and all(logged)

    await eventually_async(both_members, 120, "both workers in the group")
    return found[0]


@on_kafka
@pytest.mark.timeout(600)
@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
async def test_a_restart_within_the_session_timeout_rebalances_nobody(
    pipeline: Settings, start_worker, stop: str
) -> None:
    # A SIGTERM leaves the group only with the setting on, so it is off there; a SIGKILL
    # runs with it on, as deployed (k8s, compose): a crash must keep the static benefit.
    settings = pipeline.model_copy(
        update={
            "session_timeout_s": SESSION_S,
            "heartbeat_interval_s": 1.0,
            "leave_group_on_shutdown": stop == "sigkill",
        }
    )
    as_a = settings.model_copy(update={"instance_id": "clean-a"})
    as_b = settings.model_copy(update={"instance_id": "clean-b"})
    group, source = settings.clean_group, settings.topic_raw
    a = start_worker("clean", as_a)
    await eventually(lambda: a.assignment(), 240, "the first worker assigned")
    b = start_worker("clean", as_b)
    await eventually(
        lambda: partitions(b) and not partitions(a) & partitions(b), 240, "both assigned"
    )
    before = await settled(settings, a, b)
    assert {m.instance_id for m in before.members} == {"clean-a", "clean-b"}
    a_parts, b_parts = partitions(a), partitions(b)
    records = pages(90, f"static-{stop}")
    keys = [encode_raw(r)[0] for r in records]
    await produce(settings, records[:30])
    await wait_for_keys(settings, settings.topic_clean, set(keys[:30]), timeout_s=240)

    stopped_at = time.time()
    if stop == "sigterm":
        assert a.stop() == 0
    else:
        a.kill()
    await produce(settings, records[30:60])

    def b_processing() -> list[dict]:
        return [e for e in b.events("processed") if logged_at(e) > stopped_at]

    # The other member goes on with its own partitions while the first is away.
    await eventually(b_processing, 120, "the other worker processing on its own")
    restarted = start_worker("clean", as_a)
    await eventually(lambda: restarted.assignment(), 240, "the restarted worker assigned")
    back_s = logged_at(restarted.events("partitions assigned")[0]) - stopped_at
    assert back_s < SESSION_S, f"the restart took {back_s:.1f} s: not a test of static membership"
    await produce(settings, records[60:])
    sink = await wait_for_keys(settings, settings.topic_clean, set(keys), timeout_s=240)
    assert {m.key for m in sink} == set(keys), "every page at the sink, and nothing else"

    after = await group_state(settings, group)
    assert after is not None
    # No rebalance: the broker kept the generation, and the other member its member id and
    # partitions; the restarted one has a new member id under its instance id, same partitions.
    assert after.generation == before.generation, (
        f"generation {before.generation} -> {after.generation}: the group rebalanced"
    )
    kept, back = after.by_instance()["clean-b"], after.by_instance()["clean-a"]
    assert kept == before.by_instance()["clean-b"]
    assert back.member_id != before.by_instance()["clean-a"].member_id
    assert (back.partitions, kept.partitions) == (a_parts, b_parts)
    state, live = await described(settings, group)
    assert state == "Stable"
    assert live == {back.member_id: a_parts, kept.member_id: b_parts}
    # The workers' own view agrees: the other one was never reassigned, and it never took
    # a record of the first one's partitions.
    assert [e for e in b.events("partitions assigned") if logged_at(e) > stopped_at] == []
    assert partitions(restarted) == a_parts
    taken = {
        (source, int(e["tpo"].rsplit("/", 2)[1]))
        for e in b.events("processed")
        if logged_at(e) > stopped_at
    }
    assert taken <= b_parts
    print(f"{stop}: back with its partitions after {back_s:.1f} s, generation {after.generation}")


# The other member hears of the rebalance at its next heartbeat, rejoins, and the broker
# completes the join at once (it is the only member left), then the sync: within two
# heartbeat intervals of the leave. faust then hands it the partitions (revoke, assign).
HEARTBEAT_S = 1.0
TAKEOVER_BOUND_S = 2 * HEARTBEAT_S


@on_kafka
@pytest.mark.timeout(600)
async def test_a_static_member_asked_to_stop_leaves_and_the_other_takes_over_at_once(
    pipeline: Settings, start_worker
) -> None:
    settings = pipeline.model_copy(
        update={
            "session_timeout_s": SESSION_S,
            "heartbeat_interval_s": HEARTBEAT_S,
            "leave_group_on_shutdown": True,
        }
    )
    group = settings.clean_group
    a = start_worker("clean", settings.model_copy(update={"instance_id": "clean-a"}))
    await eventually(lambda: a.assignment(), 240, "the first worker assigned")
    b = start_worker("clean", settings.model_copy(update={"instance_id": "clean-b"}))
    await eventually(
        lambda: partitions(b) and not partitions(a) & partitions(b), 240, "both assigned"
    )
    before = await settled(settings, a, b)
    a_parts, every = partitions(a), partitions(a) | partitions(b)
    records = pages(60, "static-leave")
    keys = [encode_raw(r)[0] for r in records]
    await produce(settings, records[:30])
    await wait_for_keys(settings, settings.topic_clean, set(keys[:30]), timeout_s=240)

    stopped_at = time.time()
    assert a.stop() == 0
    (left,) = a.events("left the group")
    assert (left["instance_id"], left["group"]) == ("clean-a", group)
    assert a.events("could not leave the group") == []
    await eventually(lambda: partitions(b) == every, 60, "the other worker owns every partition")
    taken_at = logged_at(b.events("partitions assigned")[-1])
    takeover_s = taken_at - logged_at(left)
    print(
        f"left {logged_at(left) - stopped_at:.2f} s after SIGTERM; the other worker owned "
        f"every partition {takeover_s:.2f} s later (session timeout {SESSION_S:.0f} s)"
    )
    assert takeover_s <= TAKEOVER_BOUND_S, (
        f"the other worker took over {takeover_s:.2f} s after the leave "
        f"(bound {TAKEOVER_BOUND_S} s: two heartbeat intervals)"
    )
    # It goes on processing, now on the first worker's partitions too; nothing is lost.
    await produce(settings, records[30:])
    sink = await wait_for_keys(settings, settings.topic_clean, set(keys), timeout_s=240)
    assert {m.key for m in sink} == set(keys), "every page at the sink, and nothing else"
    source = settings.topic_raw
    taken = {
        (source, int(e["tpo"].rsplit("/", 2)[1]))
        for e in b.events("processed")
        if logged_at(e) > taken_at
    }
    assert taken & a_parts, "the other worker processed pages of the partitions it took over"
    # The broker agrees: one member left, under the other instance id, with every partition.
    after = await group_state(settings, group)
    assert after is not None and after.generation > before.generation
    assert [(m.instance_id, m.partitions) for m in after.members] == [("clean-b", every)]
    state, live = await described(settings, group)
    assert (state, list(live.values())) == ("Stable", [every])


@pytest.mark.timeout(300)
async def test_a_refused_leave_is_one_line_and_the_stop_goes_on(
    tansu_pipeline: Settings, start_worker
) -> None:
    settings = tansu_pipeline.model_copy(
        update={"instance_id": "clean-t", "leave_group_on_shutdown": True}
    )
    worker = start_worker("clean", settings)
    await eventually(lambda: worker.assignment(), 120, "the worker assigned")
    began = time.monotonic()
    assert worker.stop() == 0
    took = time.monotonic() - began
    # The embedded broker refuses the member (UNKNOWN_MEMBER_ID): the stop goes on as without
    # the setting, within its budget.
    (refused,) = worker.events(
        "could not leave the group; its partitions move when the session expires"
    )
    assert refused["members"] == {"clean-t": 25} and worker.events("left the group") == []
    assert took < settings.shutdown_timeout_s, f"the stop took {took:.1f} s"
