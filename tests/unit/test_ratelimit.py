"""RateLimiter: token buckets per (account, action), on a fake clock (no wall-clock assertions)."""

from __future__ import annotations

import math
import threading

import pytest

from server.config import ConfigError
from server.tencent.ratelimit import (
    DEFAULT_RATE,
    DOCUMENTED_RATES,
    LimitSettings,
    RateLimiter,
    RateLimitTimeout,
)


class FakeClock:
    """A clock that only moves when told to; `sleep` records the waits and, if asked, advances time."""

    def __init__(self, advance_on_sleep: bool = True) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._advance = advance_on_sleep
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self._advance:
                self.now += seconds


def limiter(clock: FakeClock, rates: dict[str, float] | None = None, **kwargs: object) -> RateLimiter:
    return RateLimiter(
        rates if rates is not None else {"RunInstances": 10.0, "DescribeInstances": 40.0},
        5.0,
        clock=clock,
        sleep=clock.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


def test_documented_rates_are_the_defaults() -> None:
    assert DOCUMENTED_RATES["RunInstances"] == 10
    for action in ("TerminateInstances", "StartInstances", "StopInstances", "RebootInstances"):
        assert DOCUMENTED_RATES[action] == 10
    assert DOCUMENTED_RATES["ModifyInstancesAttribute"] == DOCUMENTED_RATES["ResetInstance"] == 10
    for action in (
        "DescribeInstances",
        "DescribeInstancesStatus",
        "DescribeImages",
        "DescribeInstanceTypeConfigs",
    ):
        assert DOCUMENTED_RATES[action] == 40
    assert DOCUMENTED_RATES["DescribeZones"] == 20
    assert DOCUMENTED_RATES["DescribeVpcs"] == 100
    assert {"DescribeSubnets", "DescribeSecurityGroups", "DescribeInstanceFamilyConfigs"} <= set(
        DOCUMENTED_RATES
    )


def test_a_full_bucket_serves_one_seconds_worth_without_waiting() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    waits = [rl.acquire("acct", "RunInstances", None) for _ in range(10)]
    assert waits == [0.0] * 10
    assert clock.sleeps == []


def test_beyond_the_burst_calls_are_spaced_at_the_rate() -> None:
    clock = FakeClock(advance_on_sleep=False)  # all callers arrive at the same instant
    rl = limiter(clock)
    waits = [rl.acquire("acct", "RunInstances", None) for _ in range(13)]
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == pytest.approx([0.1, 0.2, 0.3])  # first come, first served, 1/rate apart
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.3])


def test_tokens_refill_with_time_up_to_the_capacity() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(10):
        rl.acquire("acct", "RunInstances", None)
    clock.now += 0.5  # 5 tokens back
    assert [rl.acquire("acct", "RunInstances", None) for _ in range(5)] == [0.0] * 5
    assert rl.acquire("acct", "RunInstances", None) == pytest.approx(0.1)
    clock.now += 3600  # an hour idle refills only up to the capacity
    assert [rl.acquire("acct", "RunInstances", None) for _ in range(10)] == [0.0] * 10
    assert rl.acquire("acct", "RunInstances", None) == pytest.approx(0.1)


def test_buckets_are_per_key_and_per_action() -> None:
    clock = FakeClock(advance_on_sleep=False)
    rl = limiter(clock)
    for _ in range(10):
        rl.acquire("acct-a", "RunInstances", None)
    assert rl.acquire("acct-b", "RunInstances", None) == 0.0
    assert rl.acquire("acct-a", "DescribeInstances", None) == 0.0
    assert rl.acquire("acct-a", "RunInstances", None) > 0


def test_unknown_actions_use_the_default_rate() -> None:
    clock = FakeClock(advance_on_sleep=False)
    rl = limiter(clock)  # default 5/s -> capacity 5
    assert [rl.acquire("acct", "DescribeSomething", None) for _ in range(5)] == [0.0] * 5
    assert rl.acquire("acct", "DescribeSomething", None) == pytest.approx(0.2)


def test_burst_seconds_sets_the_capacity_but_never_below_one_call() -> None:
    clock = FakeClock(advance_on_sleep=False)
    rl = limiter(clock, {"RunInstances": 10.0, "Slow": 0.5}, burst_seconds=0.5)
    assert rl.capacity_for("RunInstances") == 5
    assert rl.capacity_for("Slow") == 1
    assert [rl.acquire("acct", "RunInstances", None) for _ in range(6)][-2:] == pytest.approx([0.0, 0.1])
    assert rl.acquire("acct", "Slow", None) == 0.0
    assert rl.acquire("acct", "Slow", None) == pytest.approx(2.0)


def test_a_wait_past_the_deadline_raises_at_once_and_reserves_nothing() -> None:
    clock = FakeClock(advance_on_sleep=False)
    rl = limiter(clock)
    for _ in range(10):
        rl.acquire("acct", "RunInstances", None)
    with pytest.raises(RateLimitTimeout) as caught:
        rl.acquire("acct", "RunInstances", clock.now + 0.05)  # next slot is 0.1 s away
    assert caught.value.action == "RunInstances"
    assert caught.value.wait_seconds == pytest.approx(0.1)
    assert "acct" not in str(caught.value)  # keys are account ids: never in messages
    assert clock.sleeps == []
    # The refused caller did not take the slot: the next one still gets it 0.1 s away.
    assert rl.acquire("acct", "RunInstances", clock.now + 0.1) == pytest.approx(0.1)


def test_a_deadline_already_passed_raises_even_with_tokens_left() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    with pytest.raises(RateLimitTimeout):
        rl.acquire("acct", "RunInstances", clock.now - 1)
    assert rl.acquire("acct", "RunInstances", clock.now) == 0.0


def test_disabled_or_unlimited_never_waits() -> None:
    clock = FakeClock(advance_on_sleep=False)
    off = limiter(clock, enabled=False)
    assert all(off.acquire("acct", "RunInstances", None) == 0.0 for _ in range(100))
    unlimited = limiter(clock, {"RunInstances": math.inf})
    assert all(unlimited.acquire("acct", "RunInstances", None) == 0.0 for _ in range(100))
    assert clock.sleeps == []


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan])
def test_rates_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter({"RunInstances": bad}, 10.0)
    with pytest.raises(ValueError):
        RateLimiter({}, bad)


def test_32_threads_share_a_bucket_without_losing_or_doubling_tokens() -> None:
    """All callers arrive at one frozen instant: whatever the interleaving, the waits handed out must be
    exactly the slots 0, 0, ... (capacity times), then 1/rate, 2/rate, ... — one per caller."""
    clock = FakeClock(advance_on_sleep=False)
    rl = limiter(clock, {"DescribeInstances": 40.0})
    threads, per_thread = 32, 25
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        mine = [rl.acquire("acct", "DescribeInstances", None) for _ in range(per_thread)]
        with lock:
            waits.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    total = threads * per_thread
    expected = [max(0.0, (k - 40 + 1) / 40.0) for k in range(total)]
    assert sorted(waits) == pytest.approx(expected)
    assert len(clock.sleeps) == total - 40  # only callers beyond the burst slept, each exactly once


def test_real_clock_smoke_under_concurrency() -> None:
    """The real clock and real sleep: every thread gets its tokens (no deadlock); times are not asserted."""
    rl = RateLimiter({"DescribeInstances": 2000.0}, 10.0)
    done: list[int] = []

    def worker() -> None:
        for _ in range(5):
            rl.acquire("acct", "DescribeInstances", None)
        done.append(1)

    pool = [threading.Thread(target=worker) for _ in range(32)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert len(done) == 32


def test_limit_settings_defaults() -> None:
    settings = LimitSettings.from_mapping({})
    assert settings.enabled is True
    assert settings.default_rate == DEFAULT_RATE
    assert settings.burst_seconds == 1.0
    assert dict(settings.rates) == dict(DOCUMENTED_RATES)


def test_limit_settings_overrides_and_builds_a_limiter() -> None:
    settings = LimitSettings.from_mapping(
        {
            "enabled": True,
            "default": 3,
            "burst_seconds": 0.5,
            "rates": {"DescribeInstances": 80, "Custom": 2.5},
        }
    )
    assert settings.rates["DescribeInstances"] == 80.0
    assert settings.rates["Custom"] == 2.5
    assert settings.rates["RunInstances"] == 10.0  # untouched documented rate
    clock = FakeClock(advance_on_sleep=False)
    rl = RateLimiter.from_settings(settings, clock=clock, sleep=clock.sleep)
    assert rl.rate_for("DescribeInstances") == 80.0
    assert rl.rate_for("Unheard") == 3.0
    assert rl.capacity_for("DescribeInstances") == 40.0


def test_limit_settings_disabled() -> None:
    rl = RateLimiter.from_settings(LimitSettings.from_mapping({"enabled": False}))
    assert all(rl.acquire("acct", "RunInstances", None) == 0.0 for _ in range(50))


@pytest.mark.parametrize(
    "table",
    [
        {"enabled": "yes"},
        {"default": 0},
        {"default": True},
        {"burst_seconds": -1},
        {"rates": {"RunInstances": "fast"}},
        {"rates": {"RunInstances": 0}},
        {"rates": 5},
        {"DescribeInstances": 40},  # per-action rates belong in [limits.rates]
    ],
)
def test_limit_settings_reject_bad_tables(table: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        LimitSettings.from_mapping(table)
