"""workers/local/kafka.py: N Kafka nodes from Maven Central's jars, and no JVM outliving the
process that started them, even when that process is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_BROKER, eventually

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(TEST_BROKER != "kafka", reason="the suite runs without Java"),
]
REPO = Path(__file__).resolve().parent.parent
# Starts a 3-node cluster (start() returns once the admin client sees all three brokers),
# prints each JVM's pid and the node ids the cluster metadata lists, then waits.
STARTER = """
import sys, time
from pathlib import Path
from workers.local.kafka import KafkaCluster, brokers_seen
kafka = KafkaCluster(nodes=3, heap_mb=256, folder=Path(sys.argv[1])).start()
print(*(node.process.pid for node in kafka.nodes), flush=True)
print(*sorted(brokers_seen(kafka.bootstrap)), flush=True)
time.sleep(600)
"""


async def test_three_nodes_start_and_die_with_a_killed_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert parent.stdout is not None
        jvms = [int(pid) for pid in parent.stdout.readline().split()]
        seen = parent.stdout.readline().split()
    finally:
        parent.send_signal(signal.SIGKILL)  # no finalizer, no atexit: as a killed test run
        parent.wait()
    assert len(jvms) == 3, "the cluster did not start"
    assert seen == ["1", "2", "3"]

    def all_gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in jvms)

    await eventually(all_gone, 60, "the JVMs to die with their parent")
