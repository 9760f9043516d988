"""A group leader whose metadata does not list a subscribed topic yet (a broker just
restarted) asks for the metadata again every second until it does, so the group rebalances
with the topic at once instead of holding no partitions until the consumer's periodic refresh
(5 minutes: what bench/chaos.py's broker restart found)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from faust.assignor import PartitionAssignor

from workers.runtime import faust_overrides
from workers.runtime.faust_overrides import App


class Cluster:
    """Metadata that lists ``known`` topics, with two partitions each."""

    def __init__(self) -> None:
        self.known: set[str] = set()

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {0, 1} if topic in self.known else None


class Client:
    """A consumer's client whose third metadata refresh finds the topic."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.refreshes = cluster, 0

    async def force_metadata_update(self) -> bool:
        self.refreshes += 1
        if self.refreshes == 3:
            self.cluster.known.add("clean")
        return True


@pytest.fixture
def assignor(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    # faust's own assignment is not what is tested: it gives nothing for a missing topic.
    monkeypatch.setattr(PartitionAssignor, "assign", lambda self, cluster, members: {})
    monkeypatch.setattr(faust_overrides, "_MISSING_TOPIC_RETRY_S", 0.0)
    app = App(
        "missing-topic",
        broker="kafka://127.0.0.1:9",
        autodiscover=False,
        store="memory://",
        shutdown_timeout_s=1.0,
    )
    return app.assignor


MEMBERS = {
    "a": SimpleNamespace(subscription=["clean"]),
    "b": SimpleNamespace(subscription=["clean"]),
}


async def test_the_leader_refreshes_until_the_topic_is_listed(assignor) -> None:  # type: ignore[no-untyped-def]
    cluster = Cluster()
    assignor.app.consumer_client = client = Client(cluster)
    assignor.assign(cluster, MEMBERS)
    assignor.assign(cluster, MEMBERS)  # a second assignment meanwhile: still one refresher
    await asyncio.wait_for(assignor._refreshing, 5)
    assert client.refreshes == 3 and cluster.partitions_for_topic("clean")


async def test_no_refresh_when_every_topic_is_listed(assignor) -> None:  # type: ignore[no-untyped-def]
    cluster = Cluster()
    cluster.known.add("clean")
    assignor.app.consumer_client = client = Client(cluster)
    assignor.assign(cluster, MEMBERS)
    assert assignor._refreshing is None and client.refreshes == 0
