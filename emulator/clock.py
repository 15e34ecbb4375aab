"""Time for the model: a monotonic clock for lifecycle deadlines, a wall clock for CreatedTime.

Tests of the model may pass their own clock to step through transitions without sleeping.
"""

from __future__ import annotations

import calendar
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


def iso_utc(seconds: float) -> str:
    """CVM's time format: `YYYY-MM-DDThh:mm:ssZ`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def vpc_time(seconds: float) -> str:
    """VPC's time format: `YYYY-MM-DD hh:mm:ss` (UTC here)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def add_months(iso_time: str, months: int) -> str:
    """`iso_time` plus whole months (day clamped to the target month's length): prepaid expiry."""
    year, month, rest = int(iso_time[0:4]), int(iso_time[5:7]), iso_time[7:]
    day = int(rest[1:3])
    total = (year * 12 + month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return f"{year:04d}-{month:02d}-{min(day, calendar.monthrange(year, month)[1]):02d}{rest[3:]}"
