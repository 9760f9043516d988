"""Readers of /proc for the benchmarks that run real worker processes (``bench/pipeline.py``,
``bench/memory.py``): CPU time and memory of a process and its descendants."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from workers.local.processes import descendants

CLK_TCK = os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    """One ``/proc/<pid>/status`` field in KiB (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (a worker's stage processes and their forkserver)."""
    return [pid, *descendants(pid)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its live descendants."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid``'s main thread alone (not its other threads')."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS summed over ``pid`` and its descendants (an upper bound: pages the
    stage processes share with their forkserver count once per process), plus the tree's
    proportional set size (Pss), which counts shared pages once."""
    out = {"VmHWM": 0.0, "VmRSS": 0.0, "Pss": 0.0, "processes": 0}
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("VmHWM", "VmRSS"):
                    out[name] += int(rest.split()[0]) / 1024
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out["Pss"] += int(line.split()[1]) / 1024
            out["processes"] += 1
    return out
