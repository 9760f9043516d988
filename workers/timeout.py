"""A wall-clock limit on synchronous CPU work (HTML extraction), via SIGALRM.

Extraction runs in the worker's main thread, where a signal can interrupt pure-Python
parsing loops. Off the main thread (or on platforms without SIGALRM) the limit is not
enforced; workers always run stages on the main thread.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DeadlineExceeded(Exception):
    """The guarded block ran longer than its limit."""


def _on_alarm(signum: int, frame: object) -> None:
    raise DeadlineExceeded


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    enforce = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not enforce:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
