"""An output is written to the broker before the worker's next stage call takes the loop."""

import asyncio
import time

from aiokafka import AIOKafkaProducer
from aiokafka.conn import AIOKafkaConnection

from workers.runtime.faust_overrides import until_written
from workers.settings import Settings


async def _written_before_blocking(settings: Settings, monkeypatch, wait) -> list[bool]:  # type: ignore[no-untyped-def]
    writes: list[tuple[float, str]] = []
    send = AIOKafkaConnection.send

    def recording(self, request, expect_response=True):  # type: ignore[no-untyped-def]
        writes.append((time.perf_counter(), type(request).__name__))
        return send(self, request, expect_response)

    monkeypatch.setattr(AIOKafkaConnection, "send", recording)
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), acks="all")
    await producer.start()
    try:
        await (await producer.send(settings.topic_clean, b"warm-up"))
        written = []
        for _ in range(5):
            handed = time.perf_counter()
            delivery = await producer.send(settings.topic_clean, b"x" * 10_000)
            await wait(producer)
            blocked = time.perf_counter()
            time.sleep(0.05)  # the next stage call holds the event loop
            written.append(any(handed < t < blocked and n.startswith("Produce") for t, n in writes))
            await delivery
        return written
    finally:
        await producer.stop()


async def test_until_written_puts_the_output_on_the_wire(tansu_pipeline, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Without it, an output handed to the producer waits for the whole next stage call.
    one_turn = await _written_before_blocking(
        tansu_pipeline, monkeypatch, lambda _: asyncio.sleep(0)
    )
    assert one_turn == [False] * 5
    written = await _written_before_blocking(tansu_pipeline, monkeypatch, until_written)
    assert written == [True] * 5
