"""Client-side rate limiting of Tencent Cloud API calls: one token bucket per (account, action).

Why: Tencent limits each API per account (RunInstances 10/s, DescribeInstances 40/s, ...) and answers a
burst above that with `RequestLimitExceeded`. Spending our own tokens first turns a burst into a short,
orderly queue instead of a storm of throttled calls and retries.

The bucket (one per key and action):
- refills at `rate` tokens per second, up to `capacity = max(1, rate * burst_seconds)` tokens. With the
  default `burst_seconds = 1.0` an idle account may send one second's worth of calls at once
  (10 RunInstances, 40 DescribeInstances), then `rate` per second. Over any window of T seconds at most
  `capacity + rate * T` calls leave; a server that counts strictly per sliding second could therefore see up
  to 2x the rate in the one second after an idle period. Lower `burst_seconds` (e.g. 0.5) if that matters;
  throttling that still slips through is retried by the retry policy.
- callers reserve their token under a lock and then sleep, outside the lock, until their token is due:
  no busy waiting, and tokens go out first come, first served (fair among any number of threads).
- a caller whose token would come after its deadline is refused at once (`RateLimitTimeout`) and reserves
  nothing, so it does not delay the callers behind it.

Keys are opaque strings chosen by the caller: the gateway passes the cluster's Tencent account (SecretId,
never the SecretKey). Deadlines are absolute `time.monotonic()` values.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from server.config_errors import ConfigError, reject_unknown_keys

# Tencent's documented default limits, calls per second per account (see
# shared/reference/tencent-cvm-facts.md "Rate limits" and each action's API page).
DOCUMENTED_RATES: Mapping[str, float] = {
    # CVM mutations
    "RunInstances": 10.0,
    "TerminateInstances": 10.0,
    "StartInstances": 10.0,
    "StopInstances": 10.0,
    "RebootInstances": 10.0,
    "ModifyInstancesAttribute": 10.0,
    "ResetInstance": 10.0,
    # CVM reads
    "DescribeInstances": 40.0,
    "DescribeInstancesStatus": 40.0,
    "DescribeImages": 40.0,
    "DescribeInstanceTypeConfigs": 40.0,
    "DescribeZones": 20.0,
    # No published figure found; 10/s is the lowest CVM rate, and the service caches this call anyway.
    "DescribeInstanceFamilyConfigs": 10.0,
    # VPC reads (vpc API pages: "A maximum of 100 requests can be initiated per second for this API")
    "DescribeVpcs": 100.0,
    "DescribeSubnets": 100.0,
    "DescribeSecurityGroups": 100.0,
}

# Actions with no documented figure get the lowest documented CVM rate: too slow is safe, too fast is not.
DEFAULT_RATE = 10.0
DEFAULT_BURST_SECONDS = 1.0


class RateLimitTimeout(Exception):  # noqa: N818 - the name is the agreed seam (plan/TEAM.md)
    """No token for this action can come before the caller's deadline; nothing was reserved.

    The message names the action only (never the key: keys are account identifiers).
    """

    def __init__(self, action: str, wait_seconds: float, remaining_seconds: float) -> None:
        super().__init__(
            f"rate limit for {action}: the next call slot is {wait_seconds:.3f}s away, "
            f"but only {max(remaining_seconds, 0.0):.3f}s remain before the deadline"
        )
        self.action = action
        self.wait_seconds = wait_seconds
        self.remaining_seconds = remaining_seconds


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float  # may go negative: each unit below zero is a token already promised to a waiting caller
    updated: float  # clock time `tokens` was last brought up to date


class RateLimiter:
    """Token buckets per (key, action); thread-safe. See the module docstring for the guarantees.

    `rates` maps action -> calls per second (`math.inf` = unlimited); actions not in it use `default_rate`.
    `clock` and `sleep` exist for tests (a fake clock); they default to the real monotonic clock.
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        default_rate: float,
        *,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for action, rate in {**rates, "<default>": default_rate}.items():
            if not rate > 0:  # also rejects NaN
                raise ValueError(f"rate for {action} must be > 0 calls per second, got {rate!r}")
        if not burst_seconds > 0:
            raise ValueError(f"burst_seconds must be > 0, got {burst_seconds!r}")
        self._rates = dict(rates)
        self._default_rate = default_rate
        self._burst_seconds = burst_seconds
        self._enabled = enabled
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        # One lock for all buckets: the critical section is a few float operations, never a sleep.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: LimitSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimiter:
        return cls(
            settings.rates,
            settings.default_rate,
            burst_seconds=settings.burst_seconds,
            enabled=settings.enabled,
            clock=clock,
            sleep=sleep,
        )

    def rate_for(self, action: str) -> float:
        return self._rates.get(action, self._default_rate)

    def capacity_for(self, action: str) -> float:
        return max(1.0, self.rate_for(action) * self._burst_seconds)

    def acquire(self, key: str, action: str, deadline: float | None) -> float:
        """Take one token for (key, action), sleeping until it is due; returns the seconds waited.

        Raises RateLimitTimeout at once, without waiting, when the token would come after `deadline`
        (absolute, same clock as `time.monotonic()`).
        """
        if not self._enabled or math.isinf(self.rate_for(action)):
            return 0.0
        wait = self._reserve(key, action, deadline)
        if wait > 0:
            self._sleep(wait)
        return wait

    def _reserve(self, key: str, action: str, deadline: float | None) -> float:
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((key, action))
            if bucket is None:
                capacity = self.capacity_for(action)
                bucket = _Bucket(self.rate_for(action), capacity, capacity, now)
                self._buckets[(key, action)] = bucket
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(bucket.capacity, bucket.tokens + elapsed * bucket.rate)
            bucket.updated = now
            # With a token in hand (tokens >= 1) the wait is 0; otherwise it is the time until the
            # deficit, including every token already promised to earlier callers, has refilled.
            wait = max(0.0, (1.0 - bucket.tokens) / bucket.rate)
            if deadline is not None and now + wait > deadline:
                raise RateLimitTimeout(action, wait, deadline - now)
            bucket.tokens -= 1.0
            return wait


@dataclass(frozen=True)
class LimitSettings:
    """The `[limits]` table.

        [limits]
        enabled = true          # false: no client-side limiting at all
        default = 10            # calls/s for actions without a documented or configured rate
        burst_seconds = 1.0     # bucket capacity, in seconds' worth of calls (at least 1 call)
        [limits.rates]          # per-action overrides of DOCUMENTED_RATES (e.g. a raised quota)
        DescribeInstances = 40

    Rates are per Tencent account and action, in calls per second.
    """

    enabled: bool = True
    default_rate: float = DEFAULT_RATE
    burst_seconds: float = DEFAULT_BURST_SECONDS
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DOCUMENTED_RATES))

    _KEYS = frozenset({"enabled", "default", "burst_seconds", "rates"})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        reject_unknown_keys(data, cls._KEYS, "[limits]")
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError("[limits] enabled must be true or false")
        default_rate = _positive_number(data.get("default", DEFAULT_RATE), "[limits] default")
        burst_seconds = _positive_number(
            data.get("burst_seconds", DEFAULT_BURST_SECONDS), "[limits] burst_seconds"
        )
        overrides = data.get("rates", {})
        if not isinstance(overrides, Mapping):
            raise ConfigError("[limits.rates] must be a table of Action = calls per second")
        rates = dict(DOCUMENTED_RATES)
        for action, rate in overrides.items():
            rates[str(action)] = _positive_number(rate, f"[limits.rates] {action}")
        return cls(enabled=enabled, default_rate=default_rate, burst_seconds=burst_seconds, rates=rates)


def _positive_number(value: Any, where: str) -> float:
    # bool is an int subclass: `enabled = true` typed into a rate must not become 1 call per second.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{where} must be a number > 0, got {value!r}")
    return float(value)
