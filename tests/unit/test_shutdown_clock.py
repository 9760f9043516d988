"""The bound on a worker's stop (workers/runtime/shutdown.py): a step that never ends is cut
short at its budget, and a stop still held at the deadline ends the process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from tests.support.paths import REPO
from workers.runtime.shutdown import DRAIN_SHARE, EXIT_TIMED_OUT, ShutdownClock


async def test_a_step_that_never_ends_is_cut_short_at_its_budget() -> None:
    clock = ShutdownClock(8.0)
    assert clock.drain_left() == 8.0 * DRAIN_SHARE  # the whole share before the stop
    began = time.monotonic()
    assert await clock.step("commit", asyncio.Event().wait(), 0.3) is None
    assert 0.3 <= time.monotonic() - began < 1.0
    assert await clock.step("commit", asyncio.sleep(0, result=True), 0.3) is True


def test_a_stop_still_held_at_the_deadline_ends_the_process() -> None:
    # The stop begins, then the event loop is held (as a library's blocking wait would).
    code = (
        "import time; from workers.runtime.shutdown import ShutdownClock\n"
        "ShutdownClock(1.0).begin(); time.sleep(30)\n"
    )
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == EXIT_TIMED_OUT
    assert "shutdown timed out" in done.stderr
    assert 1.0 <= time.monotonic() - began < 10.0
