"""Every place newsflow reaches into faust's or aiokafka's private parts, in one module.

faust-streaming does not expose these as settings or API; each override says why it exists.
After a faust or aiokafka upgrade this is the one file to check (the broker tests exercise
every override: fetch wait through latency, committed offsets through the lag gauges).
"""

from __future__ import annotations

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> object:
        consumer = super()._create_worker_consumer(transport)
        # faust hard-codes fetch_max_wait_ms=1500. Apache Kafka answers a fetch as soon as
        # data arrives, so there it only bounds idle polling; a broker that holds the fetch
        # for its whole wait (the local one does) adds up to this much latency per stage.
        # aiokafka keeps it in a private attribute read on every fetch.
        consumer._fetch_max_wait_ms = self.app.fetch_max_wait_ms
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    # faust builds its consumer thread here; the hook to use ours.
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Producer(faust_aiokafka.Producer):
    # faust's hook for extra aiokafka producer arguments. faust turns idempotence on only
    # inside transactions; a retried send must not duplicate an output on Kafka either.
    def _settings_extra(self) -> dict:
        if self.app.idempotent_producer:
            return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}
        return dict(super()._settings_extra())


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
    Producer = _Producer


class App(faust.App):
    """faust's app with a configurable consumer fetch wait (``fetch_max_wait_ms``) and
    idempotent producers (``idempotent_producer``)."""

    fetch_max_wait_ms = 500
    idempotent_producer = True

    # faust builds its transport here; the hook to use ours.
    def _new_transport(self) -> _Transport:
        return _Transport(self.conf.broker_consumer, self)


def committed_offsets(app: faust.App) -> dict[TP, int]:
    """The offsets this worker committed last, per partition: faust's own bookkeeping (no
    public accessor; asking the coordinator instead would cost a request per refresh)."""
    return getattr(app.consumer, "_committed_offset", {})
