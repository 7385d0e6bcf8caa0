"""How many threads ONNX Runtime's CPU kernels should use: one per physical core.

Hyper-threads share a core's vector units, so a matrix product split over both
siblings of a core runs no faster and waits on their synchronisation; one thread
per physical core is the machine's matrix-multiply rate. Python's os.cpu_count
counts logical CPUs, so on Linux the cores are counted from /proc/cpuinfo.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path


@functools.lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores this process may run on (at least 1)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cores = _linux_cores(Path("/proc/cpuinfo"))
    logical = os.cpu_count() or usable
    if cores is None or cores >= logical:
        return max(1, usable)
    # an affinity mask (taskset, a container's cpuset) limits the cores in proportion
    return max(1, min(cores, round(usable * cores / logical)))


def _linux_cores(cpuinfo: Path) -> int | None:
    """Distinct (physical id, core id) pairs, or None where the file does not say."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    cores = set()
    for block in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        fields = {key.strip(): value.strip() for key, value in fields.items()}
        if "core id" in fields:
            cores.add((fields.get("physical id", "0"), fields["core id"]))
    return len(cores) or None
