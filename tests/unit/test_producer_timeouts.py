"""The producer's waits apart: a broker's answer (NEWSFLOW_REQUEST_TIMEOUT_S, short, so a hung
leader is given up on and the retry goes to its successor) and an output's wait for room or for
a leader (NEWSFLOW_DELIVERY_TIMEOUT_S, long, so that retry comes before the worker gives up).
aiokafka has one request_timeout_ms for all of them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from aiokafka.client import ConnectionGroup
from aiokafka.errors import RequestTimedOutError

from workers.runtime.faust_overrides import App, _answer_within
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

    async def stop_the_worker(exc: BaseException) -> None:
        raise AssertionError("no commit here")

    producer = Transactions(settings, "newsflow-clean", stop_the_worker)._new_producer(
        TopicPartition("articles-raw.v1", 0)
    )
    try:
        assert producer.client._request_timeout_ms == 15_000
        assert producer._sender._request_timeout_ms == 15_000
        assert producer._request_timeout_ms == 120_000
        assert producer._message_accumulator._batch_ttl == 120
    finally:
        await producer.stop()


class _SilentBroker:
    """Stands in for aiokafka's client: node 1 lets every request time out (a leader cut off
    the network drops the packets); every connection attempt is counted."""

    def __init__(self) -> None:
        self.connects: list[int] = []
        self.metadata_updates = 0

    async def _get_conn(self, node_id: int, *, group=ConnectionGroup.DEFAULT, no_hint=False):
        self.connects.append(node_id)
        return SimpleNamespace(_request_timeout=None)

    async def send(self, node_id: int, request: object, *, group=ConnectionGroup.DEFAULT):
        if node_id == 1:
            raise RequestTimedOutError()
        return "answer"

    def force_metadata_update(self) -> None:
        self.metadata_updates += 1


async def test_a_producer_skips_a_broker_that_let_a_request_time_out() -> None:
    """After a request to a node timed out, the next connection to it is not tried for one
    request timeout: a try would hold aiokafka's connection lock that long, and the metadata
    refresh that finds the partition's new leader would wait behind it (the partition test
    stalled the sink three request timeouts without this)."""
    app = App(
        "producer-skips",
        broker="kafka://127.0.0.1:9",
        autodiscover=False,
        store="memory://",
        producer_request_timeout=15.0,
        shutdown_timeout_s=1.0,
    )
    producer = app.producer._new_producer()
    try:
        assert "_get_conn" in vars(producer.client)  # the producer's client is wrapped
    finally:
        await producer.stop()
    client = _SilentBroker()
    _answer_within(client, 15.0)
    with pytest.raises(RequestTimedOutError):
        await client.send(1, "produce")
    assert await client._get_conn(1) is None  # skipped: no connection attempt
    assert await client._get_conn(2) is not None  # another node: tried at once
    assert client.connects == [2]
