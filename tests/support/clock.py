"""A clock for tests of time-based logic (token buckets, TTL caches): it moves only when the test sets
`now`, so a test says exactly how much time passed and never sleeps or measures wall time."""

from __future__ import annotations


class ManualClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
