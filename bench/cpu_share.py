"""How much of the machine's CPU went to processes other than this run's (the harness and its children)
while it measured. The figures are only as good as the machine was quiet: a busy neighbour (a test suite,
another benchmark) competes with every process measured, on only a few cores."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def _machine_busy_ticks() -> int:
    # "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (guest time is inside user)
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def _process_ticks(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    after_name = text.rsplit(")", 1)[1].split()  # the name may contain spaces; fields resume after ")"
    return int(after_name[11]) + int(after_name[12])  # utime, stime (fields 14 and 15)


@dataclass
class CpuSample:
    machine_busy: int
    ours: dict[int, int]


def sample(pids: Iterable[int]) -> CpuSample:
    """Busy ticks of the whole machine, and of each of `pids` (this process is always included)."""
    pids = {os.getpid(), *pids}
    return CpuSample(_machine_busy_ticks(), {pid: _process_ticks(pid) for pid in pids})


def others_share(start: CpuSample, end: CpuSample, seconds: float) -> float | None:
    """Fraction of the machine's total CPU capacity over `seconds` used by processes not in `end.ours`."""
    cpus = len(os.sched_getaffinity(0))
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    if seconds <= 0:
        return None
    ours = sum(end.ours.values()) - sum(start.ours.get(pid, 0) for pid in end.ours)
    others = (end.machine_busy - start.machine_busy) - ours
    return max(0.0, others / (seconds * ticks_per_s * cpus))
