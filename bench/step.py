"""Measure one service operation the way sections (b), (c) and (d) report it: wall time, the Tencent calls it
caused (the emulator's per-account counters before and after) and the server's peak memory while it ran."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bench.context import RunContext, ServiceStack
from bench.emulator_control import calls_between
from bench.memory import MemoryPeak, PeakMemoryWatch
from bench.server_metrics import ServerFigures, scrape

T = TypeVar("T")


@dataclass
class StepResult(Generic[T]):
    value: T | None
    wall_s: float
    calls: dict[str, int]
    throttled: int
    connections: int  # TCP connections the emulator accepted meanwhile (keep-alive reuse shows as ~0)
    memory: MemoryPeak = field(default_factory=MemoryPeak)
    error: str | None = None
    server: ServerFigures | None = None  # the server's own metrics over the step (limiter wait, retries)

    @property
    def server_summary(self) -> str:
        return self.server.summary() if self.server is not None else "n/a"

    def calls_to(self, action: str) -> int:
        return self.calls.get(action, 0)

    @property
    def other_calls(self) -> dict[str, int]:
        return {a: n for a, n in self.calls.items() if a != "DescribeInstances"}


def measure_step(
    ctx: RunContext, account: str, operation: Callable[[], T], *, stack: ServiceStack
) -> StepResult[T]:
    """Run `operation` once against `stack`'s server. Failures are recorded, not raised: the report shows
    what happened."""
    server_pid = stack.server.pid if stack.server is not None else None
    figures_before = scrape(stack.metrics_port)
    counters = ctx.control.counters()
    before = {str(k): int(v) for k, v in counters.get("Calls", {}).get(account, {}).items()}
    throttled_before = int(counters.get("Throttled", 0))
    connections_before = int(counters.get("ConnectionsAccepted", 0))
    value: T | None = None
    error: str | None = None
    watch = PeakMemoryWatch(server_pid) if server_pid else None
    t0 = time.perf_counter()
    try:
        if watch is not None:
            with watch:
                value = operation()
        else:
            value = operation()
    except Exception as exc:
        error = f"{type(exc).__name__}: {_short(exc)}"
    wall = time.perf_counter() - t0
    counters = ctx.control.counters()
    after = {str(k): int(v) for k, v in counters.get("Calls", {}).get(account, {}).items()}
    figures_after = scrape(stack.metrics_port)
    server = figures_after.minus(figures_before) if figures_after and figures_before else None
    return StepResult(
        value,
        wall,
        calls_between(before, after),
        int(counters.get("Throttled", 0)) - throttled_before,
        # minus 1: the control API request that read these counters is itself a new connection
        int(counters.get("ConnectionsAccepted", 0)) - connections_before - 1,
        watch.result if watch else MemoryPeak(),
        error,
        server,
    )


def _short(exc: Exception) -> str:
    """One line: a gRPC error's code and details, anything else's str()."""
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code) and callable(details):
        return f"{getattr(code(), 'name', code())}: {details()}"[:300]
    return (str(exc) or repr(exc))[:300]


def floor_seconds(describe_calls: int, round_trip_s: float, rate_per_s: float, min_round_trips: int) -> float:
    """The issue's floor: `describe_calls` calls at Tencent's rate (calls / rate), and never less than
    `min_round_trips` sequential round trips (the first page must come back before the count is known)."""
    if describe_calls <= 0:
        return math.nan
    return max(describe_calls / rate_per_s, min_round_trips * round_trip_s)


def burst_floor_seconds(
    calls: int, round_trip_s: float, rate_per_s: float, min_round_trips: int, burst_s: float = 1.0
) -> float:
    """The floor when the call starts from idle token buckets: Tencent, the emulator and the server all let
    one second's worth of calls (`rate * burst_s`) go at once, so only the calls beyond that wait for the
    rate. Below this, a result means the limits were not respected."""
    if calls <= 0:
        return math.nan
    return min_round_trips * round_trip_s + max(0.0, calls - rate_per_s * burst_s) / rate_per_s
