"""Concurrency helpers for the use cases: fan-out of independent Tencent calls, and a short-lived cache whose
loads are shared by concurrent callers.

`map_concurrently` runs independent Tencent calls of one request side by side (e.g. the remaining pages of a
listing). Each task runs in a copy of the caller's context, so context variables (request id for logs, the
caller identity) follow the work into the pool's threads. Concurrency stays bounded here and, across
requests, by the rate limiter in the gateway.

`ExpiringCache` keeps values for a fixed time, loads each key at most once at a time (concurrent callers of a
missing key wait for the one load in flight: "single flight") and can be invalidated by a predicate; used by
the listing snapshot (server/compute/snapshot.py) and the name cache (server/compute/name_cache.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from server.compute.errors import DeadlineExceeded
from server.observability.logs import with_current_context

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_MAX_WORKERS = 8


def map_concurrently(
    fn: Callable[[T], R], items: Sequence[T], max_workers: int = DEFAULT_MAX_WORKERS
) -> list[R]:
    """[fn(item) for item in items], results in input order; the first exception is re-raised and the
    items not started yet are dropped (their Tencent calls would be wasted)."""
    if len(items) <= 1 or max_workers <= 1:
        return [fn(item) for item in items]
    task = with_current_context(fn)
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="fan-out")
    try:
        futures = [pool.submit(task, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future in done else None
            if error is not None:
                raise error
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class LoadWaitTimeout(Exception):  # noqa: N818 - reads as what happened, like RateLimitTimeout
    """A caller waiting for another caller's load of the same key ran out of time."""


@dataclass
class _Flight(Generic[V]):
    """One load in progress; callers of the same key wait on `done`."""

    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    failed: bool = False
    stale: bool = False  # invalidated while loading: hand the value to the waiters, but do not keep it


@dataclass
class _Entry(Generic[V]):
    value: V
    expires: float


class ExpiringCache(Generic[K, V]):
    """Values kept `ttl_seconds` after their load finished; thread-safe.

    - `get(key, load)` returns (value, hit). A miss runs `load()` in the calling thread; callers arriving for
      the same key meanwhile wait for that load and share its value (reported as a hit: they caused no
      load). If the load fails, the error goes to its own caller only; each waiter then tries again itself
      (a short deadline or a transient error of one caller must not fail the others).
    - `invalidate(predicate)` drops the matching entries and disowns the loads in flight for matching keys:
      later callers start a fresh load, and the disowned load's value is not kept (it may predate the change
      that caused the invalidation).
    - `ttl_seconds <= 0` keeps nothing, but still shares loads in flight.
    Expired entries are swept on access, so the cache holds at most the keys used within the last TTL.
    """

    def __init__(self, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}
        self._flights: dict[K, _Flight[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V], *, wait_seconds: float | None = None) -> tuple[V, bool]:
        """The value for `key` and whether it was served without this caller loading it.

        `wait_seconds` bounds the wait for another caller's load (LoadWaitTimeout); None waits until it ends.
        """
        give_up = None if wait_seconds is None else self._clock() + wait_seconds
        while True:
            with self._lock:
                now = self._clock()
                self._sweep(now)
                entry = self._entries.get(key)
                if entry is not None:
                    return entry.value, True
                flight = self._flights.get(key)
                leader = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight()
            if leader:
                return self._load(key, flight, load), False
            remaining = None if give_up is None else max(0.0, give_up - self._clock())
            if not flight.done.wait(remaining):
                raise LoadWaitTimeout(f"gave up waiting after {wait_seconds:.3f}s for a load in progress")
            if not flight.failed:
                return flight.value, True  # type: ignore[return-value]  # set before `done`
            # The leader failed: loop, and load (or join a newer flight) ourselves.

    def invalidate(self, predicate: Callable[[K], bool]) -> int:
        """Drop every entry whose key matches and disown matching loads in flight; returns how many."""
        with self._lock:
            keys = [key for key in self._entries if predicate(key)]
            for key in keys:
                del self._entries[key]
            flying = [key for key in self._flights if predicate(key)]
            for key in flying:
                self._flights.pop(key).stale = True
            return len(keys) + len(flying)

    def __len__(self) -> int:
        with self._lock:
            self._sweep(self._clock())
            return len(self._entries)

    def _load(self, key: K, flight: _Flight[V], load: Callable[[], V]) -> V:
        try:
            value = load()
        except BaseException:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
                flight.failed = True
            flight.done.set()
            raise
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if not flight.stale and self._ttl > 0:
                self._entries[key] = _Entry(value, self._clock() + self._ttl)
            flight.value = value
        flight.done.set()
        return value

    def _sweep(self, now: float) -> None:
        expired = [key for key, entry in self._entries.items() if entry.expires <= now]
        for key in expired:
            del self._entries[key]


class CacheObserver(Protocol):
    def record_cache(self, name: str, hit: bool) -> None:
        """One lookup in cache `name`; server/observability/metrics.py `Metrics` fits."""


def gave_up_waiting(what: str, what_cn: str) -> DeadlineExceeded:
    """The error for a caller whose deadline passed while it waited for another caller's load of `what`."""
    return DeadlineExceeded(
        f"the request's deadline passed while waiting for the {what} another request is loading",
        f"请求在等待其他请求加载的{what_cn}时已超时",
        reason="DEADLINE_EXCEEDED",
    )
