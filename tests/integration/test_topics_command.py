"""``newsflow topics create``: replication settings checked against the cluster, topics made
with them, existing topics compared with them, and leaders elected before it returns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from pydantic import ValidationError

from tests.support.brokers import Broker, pipeline_settings
from workers.kafka import clients
from workers.kafka.topics import TopicSettingsError, _min_insync, check_replication
from workers.settings import Settings

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")


def test_min_insync_defaults_to_one_less_than_the_replicas() -> None:
    assert Settings().replication_factor == 3
    assert Settings().topic_min_insync_replicas == 2
    assert Settings(replication_factor=2).topic_min_insync_replicas == 1
    assert Settings(replication_factor=1).topic_min_insync_replicas == 1
    assert Settings(min_insync_replicas=3).topic_min_insync_replicas == 3


def test_min_insync_above_the_replicas_is_refused_when_settings_load() -> None:
    with pytest.raises(ValidationError, match=r"min_insync_replicas \(3\) exceeds"):
        Settings(replication_factor=2, min_insync_replicas=3)


def test_more_replicas_than_brokers_is_a_clear_error() -> None:
    with pytest.raises(TopicSettingsError) as caught:
        check_replication(Settings(bootstrap_servers="k1:9092,k2:9092"), brokers=2)
    message = str(caught.value)
    assert "replication factor 3 needs 3 brokers" in message
    assert "k1:9092,k2:9092 has 2" in message
    assert "NEWSFLOW_REPLICATION_FACTOR" in message


@pytest.mark.parametrize(
    ("replicas", "insync", "brokers", "warned"),
    [
        (3, None, 3, None),  # the production default: quiet
        (1, None, 1, None),  # one broker, one replica: quiet
        (3, 3, 5, "writes stop while any one broker is down"),
        (3, 1, 3, "be lost with it"),
        (1, None, 3, "losing one broker loses its partitions"),
    ],
)
def test_settings_that_give_up_a_guarantee_are_warned(
    replicas: int, insync: int | None, brokers: int, warned: str | None
) -> None:
    settings = Settings(replication_factor=replicas, min_insync_replicas=insync)
    warnings = check_replication(settings, brokers)
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warned in warnings[0]


def _run(settings: Settings, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update({k: v for k, v in settings.as_env().items() if k != "NEWSFLOW_REPLICATION_FACTOR"})
    return subprocess.run(
        [NEWSFLOW, "topics", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


async def _topic_state(settings: Settings) -> dict[str, tuple[int, int, bool]]:
    """{topic: (replicas, min.insync.replicas, every partition led)} as the broker says."""
    async with clients.admin(settings) as admin:
        described = await admin.describe_topics(settings.all_topics())
        insync = await _min_insync(admin, settings.all_topics())
    return {
        t["topic"]: (
            min(len(p["replicas"]) for p in t["partitions"]),
            insync[t["topic"]],
            all(p["leader"] >= 0 for p in t["partitions"]),
        )
        for t in described
        if t["error_code"] == 0
    }


@pytest.mark.broker
async def test_topics_create_checks_the_cluster_then_creates_with_the_settings(
    broker: Broker, redis_prefix: str, tmp_path: Path
) -> None:
    settings = pipeline_settings(broker.bootstrap, redis_prefix)

    # The default (3 replicas) on a single broker: refused, nothing created.
    refused = _run(settings, "create", cwd=tmp_path)
    assert refused.returncode == 1
    assert "replication factor 3 needs 3 brokers" in refused.stderr
    assert "has 1: set NEWSFLOW_REPLICATION_FACTOR" in refused.stderr
    assert "Traceback" not in refused.stderr
    async with clients.admin(settings) as admin:
        assert not set(settings.all_topics()) & set(await admin.list_topics())

    too_many_insync = _run(
        settings, "create", "-r", "1", "--min-insync-replicas", "2", cwd=tmp_path
    )
    assert too_many_insync.returncode == 1
    assert "min_insync_replicas (2) exceeds replication_factor (1)" in too_many_insync.stderr

    # One topic already there, made by hand with another min.insync.replicas.
    async with clients.admin(settings) as admin:
        raw = NewTopic(settings.topic_raw, 3, 1, topic_configs={"min.insync.replicas": "2"})
        await admin.create_topics([raw])

    created = _run(settings, "create", "-r", "1", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines() == [
        f"{settings.topic_raw}\texists (min.insync.replicas 2, settings say 1)",
        *[f"{t}\tcreated" for t in settings.all_topics()[1:]],
    ]
    # Returned only once every partition has a leader; made with the settings' values.
    state = await _topic_state(settings)
    assert state[settings.topic_raw] == (1, 2, True)
    assert all(state[t] == (1, 1, True) for t in settings.all_topics()[1:])
