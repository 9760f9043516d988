"""Test-only: a worker process that SIGKILLs itself on pages whose value holds a marker.

It stands for a page that kills the process in C code or through the OOM killer, which no
Python ``except`` sees. It is never part of the package: a test puts this folder first on
``PYTHONPATH`` of the worker it starts, and Python imports ``sitecustomize`` at start-up.
Without ``NEWSFLOW_TEST_DIE_ON`` in the environment it does nothing.
"""

from __future__ import annotations

import os
import signal

_MARKER = os.environ.get("NEWSFLOW_TEST_DIE_ON", "").encode()

if _MARKER:
    from workers.runtime import processor

    _process = processor.StageProcessor.process

    def _process_or_die(self, message):  # type: ignore[no-untyped-def]
        if _MARKER in message.value:
            os.kill(os.getpid(), signal.SIGKILL)
        return _process(self, message)

    processor.StageProcessor.process = _process_or_die  # type: ignore[method-assign]
