"""The producer's waits apart: a broker's answer (NEWSFLOW_REQUEST_TIMEOUT_S, short, so a hung
leader is given up on and the retry goes to its successor) and an output's wait for room or for
a leader (NEWSFLOW_DELIVERY_TIMEOUT_S, long, so that retry comes before the worker gives up).
aiokafka has one request_timeout_ms for all of them."""

from __future__ import annotations

from aiokafka import TopicPartition

from workers.runtime.faust_overrides import App
from workers.runtime.transactions import Transactions
from workers.settings import Settings


async def test_a_broker_answer_times_out_long_before_an_output_gives_up() -> None:
    app = App(
        "producer-timeouts",
        broker="kafka://127.0.0.1:9",
        autodiscover=False,
        store="memory://",
        producer_request_timeout=15.0,  # what the worker passes: NEWSFLOW_REQUEST_TIMEOUT_S
        shutdown_timeout_s=1.0,
    )
    app.delivery_timeout_s = 120.0
    producer = app.producer._new_producer()
    try:
        assert producer.client._request_timeout_ms == 15_000  # each connection's wait
        assert producer._sender._request_timeout_ms == 15_000  # a produce request's
        assert producer._request_timeout_ms == 120_000  # send(): room in the batch
        assert producer._message_accumulator._batch_ttl == 120  # a partition without leader
    finally:
        await producer.stop()


async def test_a_transactional_producer_keeps_the_same_waits_apart() -> None:
    # exactly_once's producers are made by newsflow, not faust: the same split must hold.
    settings = Settings(
        bootstrap_servers="127.0.0.1:9", request_timeout_s=15.0, delivery_timeout_s=120.0
    )
    producer = Transactions(settings, "newsflow-clean")._new_producer(
        TopicPartition("articles-raw.v1", 0)
    )
    try:
        assert producer.client._request_timeout_ms == 15_000
        assert producer._sender._request_timeout_ms == 15_000
        assert producer._request_timeout_ms == 120_000
        assert producer._message_accumulator._batch_ttl == 120
    finally:
        await producer.stop()
