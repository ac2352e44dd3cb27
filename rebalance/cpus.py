"""How many CPUs this process may use: the thread pools' and the local cluster's size."""

from __future__ import annotations

import math
import os
from pathlib import Path


def usable_cpus() -> int:
    """The CPUs this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota
    (``docker --cpus``, a Kubernetes limit), where the machine's count would oversize
    pools on a large host."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = _cgroup_quota(Path("/sys/fs/cgroup/cpu.max"))
    if quota is not None:
        count = min(count, quota)
    return max(1, count)


def _cgroup_quota(path: Path) -> int | None:
    """The CPUs a cgroup v2 ``cpu.max`` file allows ("200000 100000" → 2), or None."""
    try:
        limit, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    try:
        return max(1, math.ceil(int(limit) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None
