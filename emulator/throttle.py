"""Tencent's request-rate limits: one token bucket per account and action.

Tencent documents a rate per API ("a maximum of N requests per second"), enforced per account. A bucket
holds one second's worth of tokens, so a burst of N calls passes and the (N+1)-th within the second gets
`RequestLimitExceeded`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from emulator.errors import ApiError

# Documented defaults (CVM and VPC API docs, "Frequency Limit (maximum requests per second)").
DOCUMENTED_RATES: dict[str, float] = {
    "RunInstances": 10,
    "TerminateInstances": 10,
    "StartInstances": 10,
    "StopInstances": 10,
    "RebootInstances": 10,
    "ModifyInstancesAttribute": 10,
    "ResetInstance": 10,
    "DescribeInstanceFamilyConfigs": 10,
    "DescribeInstances": 40,
    "DescribeInstancesStatus": 40,
    "DescribeImages": 40,
    "DescribeInstanceTypeConfigs": 40,
    "DescribeZones": 20,
    "DescribeRegions": 20,
    "DescribeVpcs": 100,
    "DescribeSubnets": 100,
    "DescribeSecurityGroups": 100,
}
# Most other Tencent APIs are documented at 20 requests per second.
DEFAULT_RATE = 20.0


def rate_limit_exceeded(action: str) -> ApiError:
    return ApiError(
        "RequestLimitExceeded",
        f"Your current request times for `{action}` exceeds the limit. Please try again later.",
        f"接口 `{action}` 的请求次数超过了频率限制，请稍后重试。",
    )


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: float

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate)  # a rate below 1/s still lets one call through now and then


@dataclass(frozen=True)
class ThrottleSettings:
    enabled: bool
    rates: dict[str, float]
    default_rate: float

    def rate_for(self, action: str) -> float:
        return self.rates.get(action, self.default_rate)


class Throttle:
    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        default_rate: float = DEFAULT_RATE,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._startup = ThrottleSettings(enabled, {**DOCUMENTED_RATES, **(rates or {})}, default_rate)
        self._settings = self._startup
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> ThrottleSettings:
        return self._settings

    def configure(
        self,
        enabled: bool | None = None,
        rates: Mapping[str, float] | None = None,
        default_rate: float | None = None,
    ) -> ThrottleSettings:
        """Change what is in force; buckets start over so new rates apply at once."""
        for rate in [*(rates or {}).values(), *([] if default_rate is None else [default_rate])]:
            if rate <= 0:
                raise ValueError("rates must be positive (switch throttling off instead)")
        with self._lock:
            current = self._settings
            self._settings = ThrottleSettings(
                enabled=current.enabled if enabled is None else enabled,
                rates={**current.rates, **(rates or {})},
                default_rate=current.default_rate if default_rate is None else default_rate,
            )
            self._buckets.clear()
            return self._settings

    def reset(self) -> None:
        """Back to the settings the emulator started with, all buckets full."""
        with self._lock:
            self._settings = self._startup
            self._buckets.clear()

    def try_acquire(self, account: str, action: str) -> bool:
        """Take one token for this account and action; False means the call is throttled."""
        settings = self._settings
        if not settings.enabled:
            return True
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((account, action))
            if bucket is None:
                rate = settings.rate_for(action)
                bucket = self._buckets[(account, action)] = _Bucket(rate, max(1.0, rate), now)
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(bucket.capacity, bucket.tokens + elapsed * bucket.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True
            return False
