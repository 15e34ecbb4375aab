"""What the emulator saw: calls per account and action, throttled and injected failures, connections and
concurrency. Tests and benchmarks read them through `GET /_emulator/counters`.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zero()

    def _zero(self) -> None:
        self._calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._throttled: Counter[str] = Counter()
        self._faults_injected = 0
        self._auth_failures = 0
        self._connections = 0
        self._active = 0
        self._peak = 0

    def reset(self) -> None:
        """Zero everything. Requests in flight keep counting as active, so the peak starts from them."""
        with self._lock:
            active = self._active
            self._zero()
            self._active = active
            self._peak = active

    def connection_accepted(self) -> None:
        with self._lock:
            self._connections += 1

    def request_started(self) -> None:
        with self._lock:
            self._active += 1
            self._peak = max(self._peak, self._active)

    def request_finished(self) -> None:
        with self._lock:
            self._active -= 1

    def call(self, secret_id: str, action: str) -> None:
        """One authenticated cloud call, whatever its outcome (throttled and faulted calls included)."""
        with self._lock:
            self._calls[secret_id][action] += 1

    def throttled(self, action: str) -> None:
        with self._lock:
            self._throttled[action] += 1

    def fault_injected(self) -> None:
        with self._lock:
            self._faults_injected += 1

    def auth_failed(self) -> None:
        with self._lock:
            self._auth_failures += 1

    def snapshot(self, instances: dict[str, dict[str, int]]) -> dict[str, Any]:
        with self._lock:
            return {
                "Calls": {secret_id: dict(actions) for secret_id, actions in self._calls.items()},
                "Throttled": sum(self._throttled.values()),
                "ThrottledByAction": dict(self._throttled),
                "FaultsInjected": self._faults_injected,
                "AuthFailures": self._auth_failures,
                "ConnectionsAccepted": self._connections,
                "ActiveRequests": self._active,
                "PeakConcurrentRequests": self._peak,
                "Instances": instances,
            }
