"""What a worker knows about its own health, for ``/healthz``, ``/readyz`` and the lag gauges.

Healthy means the event loop turns and no assigned partition with waiting messages has gone
without progress for ``stall_after_s``: a worker that holds partitions but does not move them
must be restarted, not trusted; unless they wait for Redis, which a restart does not fix.
Ready means connected to the broker and let in (else the reason, naming the setting to fix:
see :mod:`workers.kafka.access`), a member of the group
with a completed assignment (possibly empty: a replica beyond the partition count is an idle
standby, and it must not block a rolling update), the leaders of its partitions reachable,
and no output waiting longer than ``ready_max_ack_wait_s`` for the broker's acknowledgement:
on a cluster that lost too many brokers, the ones left still answer metadata requests, yet
inputs cannot be fetched or outputs acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from workers.ops import metrics


@dataclass
class PartitionProgress:
    next_offset: int | None = None  # offset after the last message this worker finished
    last_message_ts: float | None = None  # broker timestamp (unix s) of that message
    last_progress: float = field(default_factory=time.monotonic)
    lag: int | None = None


class WorkerHealth:
    def __init__(self, stage: str, stall_after_s: float, ready_max_ack_wait_s: float = 15.0):
        self.stage = stage
        self.stall_after_s = stall_after_s
        self.ready_max_ack_wait_s = ready_max_ack_wait_s
        # Partitions read or written whose leader the broker probe could not reach.
        self.unreachable_leaders: list[str] = []
        # When each output handed to the producer and not yet acknowledged was sent.
        self.outputs_waiting: dict[int, float] = {}
        self.partitions: dict[TopicPartition, PartitionProgress] = {}
        self.assigned_once = False
        self.broker_connected = False
        # Why the broker will not let this worker in (login, TLS, ACL), naming the setting.
        self.access_problem: str | None = None
        # Why the shared state this stage needs is unavailable, naming the setting.
        self.redis_problem: str | None = None
        # When that state last answered again after an outage (monotonic): stalls count
        # from then, since the messages that waited for it are retried with backoff.
        self.redis_back_at = 0.0
        self.loop_tick = time.monotonic()

    # --- events ----------------------------------------------------------------------

    def on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assigned = set(assigned)
        for tp in set(self.partitions) - assigned:
            del self.partitions[tp]
            for gauge in (metrics.LAG_MESSAGES, metrics.LAG_SECONDS, metrics.LAST_PROGRESS):
                # Drop the series of partitions this worker no longer owns.
                gauge.remove(self.stage, tp[0], str(tp[1]))
        for tp in assigned - set(self.partitions):
            self.partitions[tp] = PartitionProgress()
            metrics.LAST_PROGRESS.labels(self.stage, tp[0], str(tp[1])).set(time.time())
        self.assigned_once = True
        metrics.ASSIGNED_PARTITIONS.labels(self.stage).set(len(self.partitions))

    def on_processed(self, tp: TopicPartition, offset: int, timestamp_s: float | None) -> None:
        progress = self.partitions.setdefault(tp, PartitionProgress())
        progress.next_offset = offset + 1
        progress.last_message_ts = timestamp_s
        progress.last_progress = time.monotonic()
        metrics.LAST_PROGRESS.labels(self.stage, tp[0], str(tp[1])).set(time.time())

    def on_output_sent(self, output: int) -> None:
        self.outputs_waiting[output] = time.monotonic()

    def on_output_done(self, output: int) -> None:
        self.outputs_waiting.pop(output, None)

    def on_redis(self, problem: str | None) -> None:
        """Redis away (``problem``) or answering (None), as the monitor's probe found it."""
        if self.redis_problem and not problem:
            self.redis_back_at = time.monotonic()
        self.redis_problem = problem

    def tick(self) -> None:
        self.loop_tick = time.monotonic()

    # --- lag -------------------------------------------------------------------------

    def update_lag(
        self,
        highwater: Callable[[TopicPartition], int | None],
        committed: Callable[[TopicPartition], int | None],
    ) -> None:
        """Refresh lag gauges from the fetcher's high-watermarks (right on every broker,
        unlike ListOffsets-based end offsets)."""
        now = time.time()
        for tp, progress in self.partitions.items():
            end = highwater(tp)
            position = progress.next_offset
            if position is None:
                # Never committed: the group starts at the earliest offset, 0 without retention.
                position = committed(tp) or 0
            if end is None or end < 0:
                continue
            progress.lag = max(0, end - position)
            labels = (self.stage, tp[0], str(tp[1]))
            metrics.LAG_MESSAGES.labels(*labels).set(progress.lag)
            # The oldest waiting message is not older than the last finished one.
            waiting_since = progress.last_message_ts
            lag_s = 0.0
            if progress.lag and waiting_since is not None:
                lag_s = max(0.0, now - waiting_since)
            elif progress.lag:
                lag_s = time.monotonic() - progress.last_progress
            metrics.LAG_SECONDS.labels(*labels).set(lag_s)

    # --- verdicts --------------------------------------------------------------------

    def stalled_partitions(self) -> list[str]:
        """Partitions with waiting messages and no progress for ``stall_after_s``. While the
        shared state the stage needs is away, none: its messages wait for Redis on purpose,
        a restart would not bring it back, and liveness failing on every pod at once would
        restart them all (readiness says it instead)."""
        if self.redis_problem:
            return []
        now = time.monotonic()
        return [
            f"{tp[0]}/{tp[1]}"
            for tp, progress in self.partitions.items()
            if progress.lag
            and now - max(progress.last_progress, self.redis_back_at) > self.stall_after_s
        ]

    def healthy(self) -> tuple[bool, list[str]]:
        problems = [
            f"no progress for {self.stall_after_s:g} s on {tp}" for tp in self.stalled_partitions()
        ]
        if time.monotonic() - self.loop_tick > self.stall_after_s:
            problems.append("the event loop has not ticked")
        metrics.HEALTHY.labels(self.stage).set(0 if problems else 1)
        return not problems, problems

    def ready(self) -> tuple[bool, list[str]]:
        problems = []
        if self.access_problem:
            problems.append(self.access_problem)
        elif not self.broker_connected:
            problems.append("not connected to the broker")
        if not self.assigned_once:
            problems.append("no partition assignment yet")
        if self.redis_problem:
            problems.append(self.redis_problem)
        if self.unreachable_leaders:
            problems.append("no connection to the leader of " + ", ".join(self.unreachable_leaders))
        if self.outputs_waiting:
            waited = time.monotonic() - min(self.outputs_waiting.values())
            if waited > self.ready_max_ack_wait_s:
                problems.append(
                    f"an output has waited {waited:.0f} s for the broker's acknowledgement "
                    "(a partition without a reachable leader, or fewer in-sync replicas "
                    "than min.insync.replicas)"
                )
        metrics.READY.labels(self.stage).set(0 if problems else 1)
        return not problems, problems

    def report(self) -> dict[str, Any]:
        healthy, health_problems = self.healthy()
        ready, ready_problems = self.ready()
        return {
            "stage": self.stage,
            "healthy": healthy,
            "ready": ready,
            "problems": health_problems + ready_problems,
            "partitions": {
                f"{tp[0]}/{tp[1]}": {
                    "next_offset": p.next_offset,
                    "lag": p.lag,
                    "idle_s": round(time.monotonic() - p.last_progress, 1),
                }
                for tp, p in sorted(self.partitions.items())
            },
        }
