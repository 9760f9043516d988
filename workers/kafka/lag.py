"""Consumer lag per group and partition, in messages and in seconds (``newsflow lag``).

Committed offsets come from the group coordinator (asking for the partitions explicitly).
Log ends come from a fetch's high-watermark rather than ListOffsets, and the age of the
oldest waiting message from the timestamp of the record at the committed offset: both are
plain fetches, right on Apache Kafka and on the embedded broker, whose ListOffsets is not.
On Kafka the table equals what Kafka's own consumer-group command prints
(tests/integration/test_lag_command.py compares them on the same group).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from workers.kafka import clients
from workers.kafka.tail import topic_partitions
from workers.settings import Settings


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed on this partition
    end: int | None  # None: the broker did not answer the fetch in time
    lag: int | None
    lag_seconds: float | None  # age of the oldest unconsumed message; 0 when caught up

    def as_dict(self) -> dict:
        return asdict(self)


async def log_ends(settings: Settings, topic: str, timeout_s: float = 10.0) -> dict[int, int]:
    """{partition: log-end offset} of ``topic``; raises TimeoutError when a partition's
    fetch brings no answer in time."""
    async with clients.admin(settings) as admin:
        partitions = await topic_partitions(admin, topic)
    async with clients.consumer(settings) as consumer:
        ends, _ = await _probe(consumer, {("", tp): None for tp in partitions}, timeout_s)
    if len(ends) < len(partitions):
        raise TimeoutError(f"{topic}: no log end for some partitions within {timeout_s} s")
    return {tp.partition: end for (_, tp), end in ends.items()}


async def consumer_lag(
    settings: Settings, groups: dict[str, str], timeout_s: float = 10.0
) -> list[PartitionLag]:
    async with clients.consumer(settings) as consumer, clients.admin(settings) as admin:
        committed: dict[tuple[str, TopicPartition], int | None] = {}
        for group, topic in groups.items():
            partitions = await topic_partitions(admin, topic)
            offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
            for tp in partitions:
                meta = offsets.get(tp)
                committed[(group, tp)] = meta.offset if meta and meta.offset >= 0 else None
        ends, oldest = await _probe(consumer, committed, timeout_s)

    now = time.time()
    rows = []
    for (group, tp), offset in sorted(committed.items(), key=lambda i: (i[0][0], i[0][1])):
        end = ends.get((group, tp))
        lag = None if end is None else max(0, end - (offset or 0))
        waiting_since = oldest.get((group, tp))
        if lag == 0:
            lag_s = 0.0
        elif waiting_since is not None:
            lag_s = round(max(0.0, now - waiting_since), 3)
        else:
            lag_s = None
        rows.append(PartitionLag(group, tp.topic, tp.partition, offset, end, lag, lag_s))
    return rows


async def _probe(
    consumer: AIOKafkaConsumer,
    committed: dict[tuple[str, TopicPartition], int | None],
    timeout_s: float,
) -> tuple[dict, dict]:
    """Per (group, partition): the log end and the timestamp of the first waiting record.

    Groups reading the same topic are probed one group at a time, since one consumer
    holds one position per partition.
    """
    ends: dict[tuple[str, TopicPartition], int] = {}
    oldest: dict[tuple[str, TopicPartition], float] = {}
    for group in dict.fromkeys(g for g, _ in committed):
        positions = {tp: off for (g, tp), off in committed.items() if g == group}
        # assign() replaces the previous group's partitions. No unsubscribe() between:
        # with a fetch in flight it makes stop() wait out the request timeout (~60 s seen).
        consumer.assign(list(positions))
        for tp, offset in positions.items():
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset)
        pending = set(positions)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            batches = await consumer.getmany(*pending, timeout_ms=200, max_records=len(pending))
            for tp, records in batches.items():
                if records and tp in pending:
                    oldest[(group, tp)] = records[0].timestamp / 1000
            for tp in list(pending):
                end = consumer.highwater(tp)
                if end is not None:
                    ends[(group, tp)] = end
                    if (group, tp) in oldest or end <= (positions[tp] or 0):
                        pending.discard(tp)
            await asyncio.sleep(0)
    return ends, oldest


def format_table(rows: list[PartitionLag]) -> str:
    header = ("GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LAG_S")
    lines = [header] + [
        (
            r.group,
            r.topic,
            str(r.partition),
            "-" if r.committed is None else str(r.committed),
            "?" if r.end is None else str(r.end),
            "?" if r.lag is None else str(r.lag),
            "?" if r.lag_seconds is None else f"{r.lag_seconds:.1f}",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    )
