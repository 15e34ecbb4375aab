"""server/compute/concurrency.py ExpiringCache, the piece under the listing snapshot and the name cache:
TTL, single flight, failures not shared, invalidation during a load. In-process, with a fake clock for TTLs
and events (never sleeps) for the ordering of threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from server.compute.concurrency import ExpiringCache, LoadWaitTimeout, map_concurrently
from tests.support.clock import ManualClock


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_value_lives_for_the_ttl() -> None:
    clock = ManualClock()
    cache: ExpiringCache[str, int] = ExpiringCache(5.0, clock=clock)
    loads = iter(range(10))

    assert cache.get("k", lambda: next(loads)) == (0, False)
    clock.now += 4.9
    assert cache.get("k", lambda: next(loads)) == (0, True)
    clock.now += 0.2
    assert cache.get("k", lambda: next(loads)) == (1, False)
    assert len(cache) == 1


def test_ttl_zero_keeps_nothing() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(0.0)
    loads = iter(range(10))

    assert cache.get("k", lambda: next(loads)) == (0, False)
    assert cache.get("k", lambda: next(loads)) == (1, False)


def test_concurrent_misses_share_one_load() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(60.0)
    started, release = threading.Event(), threading.Event()
    loads: list[int] = []

    def slow_load() -> str:
        loads.append(1)
        started.set()
        release.wait(10)
        return "scanned"

    leader, leader_out = in_thread(lambda: cache.get("k", slow_load))
    started.wait(10)
    followers = [in_thread(lambda: cache.get("k", slow_load)) for _ in range(5)]
    release.set()
    for thread, _ in [(leader, leader_out), *followers]:
        thread.join(10)

    assert leader_out == [("scanned", False)]
    assert all(out == [("scanned", True)] for _, out in followers)
    assert len(loads) == 1


def test_a_failed_load_fails_only_its_caller_and_a_waiter_loads_itself() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(60.0)
    started, release = threading.Event(), threading.Event()

    def failing_load() -> str:
        started.set()
        release.wait(10)
        raise RuntimeError("the leader's deadline passed")

    leader, leader_out = in_thread(lambda: cache.get("k", failing_load))
    started.wait(10)
    follower, follower_out = in_thread(lambda: cache.get("k", lambda: "own load"))
    release.set()
    leader.join(10)
    follower.join(10)

    assert isinstance(leader_out[0], RuntimeError)
    assert follower_out == [("own load", False)]


def test_a_waiter_gives_up_after_its_wait_bound() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(60.0)
    started, release = threading.Event(), threading.Event()

    def slow_load() -> str:
        started.set()
        release.wait(10)
        return "late"

    leader, _ = in_thread(lambda: cache.get("k", slow_load))
    started.wait(10)
    with pytest.raises(LoadWaitTimeout):
        cache.get("k", slow_load, wait_seconds=0.0)
    release.set()
    leader.join(10)


def test_invalidation_during_a_load_keeps_its_value_out() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(60.0)
    started, release = threading.Event(), threading.Event()

    def scan_before_the_change() -> str:
        started.set()
        release.wait(10)
        return "before"

    leader, leader_out = in_thread(lambda: cache.get("k", scan_before_the_change))
    started.wait(10)
    assert cache.invalidate(lambda key: key == "k") == 1  # the mutation finished meanwhile
    # A caller arriving after the invalidation does not join the stale load: it loads afresh.
    assert cache.get("k", lambda: "after") == ("after", False)
    release.set()
    leader.join(10)

    assert leader_out == [("before", False)]  # its own caller overlapped the change: either answer is right
    assert cache.get("k", lambda: "unused") == ("after", True)  # the stale value was not kept


def test_invalidate_drops_only_matching_keys() -> None:
    cache: ExpiringCache[tuple[str, str], str] = ExpiringCache(60.0)
    for key in [("acct-1", "ap-guangzhou"), ("acct-1", "ap-shanghai"), ("acct-2", "ap-guangzhou")]:
        cache.get(key, lambda: "v")

    assert cache.invalidate(lambda key: key == ("acct-1", "ap-guangzhou")) == 1
    assert cache.get(("acct-1", "ap-guangzhou"), lambda: "new") == ("new", False)
    assert cache.get(("acct-1", "ap-shanghai"), lambda: "new") == ("v", True)
    assert cache.get(("acct-2", "ap-guangzhou"), lambda: "new") == ("v", True)


def test_map_concurrently_keeps_order_and_stops_after_a_failure() -> None:
    assert map_concurrently(lambda n: n * n, list(range(20)), 4) == [n * n for n in range(20)]

    ran: list[int] = []
    lock = threading.Lock()
    never = threading.Event()

    def work(n: int) -> int:
        with lock:
            ran.append(n)
        if n == 0:
            raise ValueError("page 0 failed")
        never.wait(0.5)  # keep both workers busy long enough for the failure to be seen
        return n

    with pytest.raises(ValueError):
        map_concurrently(work, list(range(200)), 2)
    assert len(ran) <= 3  # page 0, the one beside it, perhaps the next: the rest were dropped
