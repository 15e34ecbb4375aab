"""Timing primitives shared by every scenario: latency samples, percentiles, closed-loop throughput."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): p99 of 200 samples is the 198th smallest, a real sample."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    errors: int


def summarize_latency(samples_s: list[float], errors: int) -> LatencySummary:
    ms = [s * 1000.0 for s in samples_s]
    mean = sum(ms) / len(ms) if ms else math.nan
    return LatencySummary(len(ms), percentile(ms, 50), percentile(ms, 99), mean, errors)


@dataclass(frozen=True)
class ThroughputResult:
    concurrency: int
    seconds: float
    ok: int
    errors: int
    error_kinds: dict[str, int]
    p50_ms: float
    p99_ms: float
    attempts: int  # every call made, warm-up and failures included (to divide Tencent calls by)

    @property
    def ok_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else math.nan


def run_closed_loop(
    make_call: Callable[[], Callable[[], None]],
    *,
    concurrency: int,
    duration_s: float,
    classify_error: Callable[[BaseException], str],
    warmup_s: float = 1.0,
) -> ThroughputResult:
    """`concurrency` threads call as fast as they can for `warmup_s + duration_s`; each thread gets its own
    callable from `make_call` (its own SDK client or HTTP connection, as a real multi-threaded caller has).

    Only calls that complete after the warm-up count, over the window from the end of the warm-up to the
    moment the last thread stops (calls started before the deadline finish and count, so a cut-off tail
    does not inflate the rate). The warm-up also spends the one second's burst that Tencent's token
    buckets (and the server's) allow from idle, so the figure is the sustained rate.
    """
    calls = [make_call() for _ in range(concurrency)]
    start_barrier = threading.Barrier(concurrency + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    error_kinds: dict[str, int] = {}
    attempts = 0
    window_start = 0.0
    deadline = 0.0

    def worker(call: Callable[[], None]) -> None:
        nonlocal attempts
        made = 0
        mine: list[float] = []
        my_errors: dict[str, int] = {}
        start_barrier.wait()
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            made += 1
            try:
                call()
            except Exception as exc:  # every failure is counted by kind, never fatal to the run
                if time.perf_counter() >= window_start:
                    kind = classify_error(exc)
                    my_errors[kind] = my_errors.get(kind, 0) + 1
                continue
            t1 = time.perf_counter()
            if t1 >= window_start:
                mine.append(t1 - t0)
        with lock:
            attempts += made
            latencies.extend(mine)
            for kind, n in my_errors.items():
                error_kinds[kind] = error_kinds.get(kind, 0) + n

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in calls]
    for t in threads:
        t.start()
    window_start = time.perf_counter() + warmup_s
    deadline = window_start + duration_s
    start_barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - window_start
    ms = [s * 1000.0 for s in latencies]
    return ThroughputResult(
        concurrency=concurrency,
        seconds=elapsed,
        ok=len(latencies),
        errors=sum(error_kinds.values()),
        error_kinds=dict(sorted(error_kinds.items())),
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        attempts=attempts,
    )
