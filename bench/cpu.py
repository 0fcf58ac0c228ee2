"""What the processes of a benchmark run spent in CPU, read from /proc (Linux): the fake model's and the
broker's beside our members', so that a row short of its bound says whose CPU it was short of."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OthersCpu:
    """The CPU the fake model and the broker spent during one row: on this 2-core machine they share the
    cores with the members, so a row's rate is bounded by the sum of everyone's CPU per event."""

    def __init__(self, others: dict[str, int]) -> None:
        """`others`: name -> pid (the fake model, the broker)."""
        self.others = others
        self.start = {name: cpu_seconds(pid) for name, pid in others.items()}

    def spent(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.start[name] for name, pid in self.others.items()}


def busy_seconds() -> float:
    """CPU time every process of the machine has spent so far, all cores (from /proc/stat; 0 where there is
    none): beside our own and the broker's, what others took from a run on shared cores."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
