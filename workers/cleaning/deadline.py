"""A wall-clock limit on synchronous CPU work (HTML extraction), via SIGALRM.

Extraction runs in the worker's main thread, where a signal can interrupt pure-Python
parsing loops. Off the main thread (or on platforms without SIGALRM) the limit is not
enforced; workers always run stages on the main thread.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class DeadlineExceeded(BaseException):
    """The guarded block ran longer than its limit.

    A BaseException, like KeyboardInterrupt: trafilatura wraps steps in ``except
    Exception`` and would otherwise swallow the alarm and run on past the limit.
    """


# After the limit the alarm repeats this often until the block is left: an exception raised
# while a finalizer (``__del__``, a weakref callback) runs is printed and dropped by Python,
# so one alarm can be lost; the next one stops the block.
_REPEAT_S = 0.05


def _on_alarm(signum: int, frame: object) -> None:
    raise DeadlineExceeded


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    enforce = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not enforce:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    outer_remaining, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT_S)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            # Re-arm a timer someone else had set (pytest-timeout, a supervisor's watchdog).
            left = max(outer_remaining - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
