"""Retries of Tencent calls: exponential backoff with full jitter, bounded by attempts and by the deadline.

`RetryPolicy.run(fn, action=, write=, deadline=, retry_safe=)` calls `fn(timeout)` until it returns, an
error may not be retried (server/tencent/errors_policy.py decides by error class and kind of call), the
attempts run out, or the next attempt would not fit before the deadline. It then re-raises the LAST error
unchanged (with a note saying why it stopped), so the gateway maps Tencent's real code.

- `fn` receives the seconds this attempt may take: what remains before `deadline`, capped by
  `attempt_timeout` (so one hung connection cannot eat the whole deadline), or `attempt_timeout` alone
  (None if that is unset too) when there is no deadline. It is 0.0 only for a first attempt whose deadline
  has already passed: fn should then fail fast.
- The delay before retry n (n = 1, 2, ...) is uniform in [0, min(max_delay, base_delay * 2**(n-1))]
  ("full jitter"), further capped so that at least `min_attempt_seconds` remain for the attempt after it.
  If even a zero delay leaves less than that, the policy gives up at once instead of sleeping.
- Client-side rate limiting is NOT done here: the gateway acquires a limiter token inside `fn`, so every
  attempt, retries included, is paced; a `RateLimitTimeout` raised there is PERMANENT and passes straight
  through.
- Hooks for metrics and logs: `on_retry(action, reason, delay)` before each sleep, and
  `on_give_up(action, reason, why, attempts)` when a retryable failure is finally raised (why is
  "attempts" or "deadline"); `reason` is the error code (e.g. "RequestLimitExceeded",
  "ClientNetworkError"), a small closed set fit for a metric label.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from server.config_errors import ConfigError, reject_unknown_keys
from server.tencent.errors_policy import classify, error_code, may_retry

T = TypeVar("T")

RetryHook = Callable[[str, str, float], None]  # (action, reason, delay seconds)
GiveUpHook = Callable[[str, str, str, int], None]  # (action, reason, why, attempts made)

# Writes whose repetition is harmless: starting, stopping or terminating the same IDs again ends in
# the same state. RunInstances joins them only with a ClientToken (see `repeat_is_harmless`). Caveat:
# terminating a PREPAID instance twice moves it from the recycle bin to destroyed; the service creates
# pay-as-you-go instances, for which the second call is a no-op.
IDEMPOTENT_WRITES = frozenset({"StartInstances", "StopInstances", "TerminateInstances"})


def repeat_is_harmless(action: str, params: Mapping[str, Any]) -> bool:
    """The `retry_safe` flag for a write: True when sending the same request twice does no harm.

    RunInstances is safe only with a ClientToken, which must stay the same across the attempts (build the
    params once, outside `fn`).
    """
    if action == "RunInstances":
        return bool(params.get("ClientToken"))
    return action in IDEMPOTENT_WRITES


@dataclass(frozen=True)
class RetrySettings:
    """The `[retry]` table.

    [retry]
    max_attempts = 8                # attempts per Tencent call, the first included
    base_delay = 0.1                # seconds; the backoff cap doubles per retry from here ...
    max_delay = 2.0                 # ... up to this (each delay is uniform in [0, cap])
    attempt_timeout_seconds = 8.0   # one attempt never takes longer than this
    min_attempt_seconds = 0.05      # no retry when less than this would remain for it
    default_deadline_seconds = 30.0 # for calls that arrive without a gRPC deadline
    """

    max_attempts: int = 8
    base_delay: float = 0.1
    max_delay: float = 2.0
    attempt_timeout_seconds: float = 8.0
    min_attempt_seconds: float = 0.05
    default_deadline_seconds: float = 30.0

    _KEYS = frozenset(
        {
            "max_attempts",
            "base_delay",
            "max_delay",
            "attempt_timeout_seconds",
            "min_attempt_seconds",
            "default_deadline_seconds",
        }
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        reject_unknown_keys(data, cls._KEYS, "[retry]")
        max_attempts = data.get("max_attempts", cls.max_attempts)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigError(f"[retry] max_attempts must be an integer >= 1, got {max_attempts!r}")
        settings = cls(
            max_attempts=max_attempts,
            base_delay=_number(data, "base_delay", cls.base_delay, minimum=0.0),
            max_delay=_number(data, "max_delay", cls.max_delay, minimum=0.0),
            attempt_timeout_seconds=_number(
                data, "attempt_timeout_seconds", cls.attempt_timeout_seconds, minimum=0.0, strict=True
            ),
            min_attempt_seconds=_number(data, "min_attempt_seconds", cls.min_attempt_seconds, minimum=0.0),
            default_deadline_seconds=_number(
                data, "default_deadline_seconds", cls.default_deadline_seconds, minimum=0.0, strict=True
            ),
        )
        if settings.max_delay < settings.base_delay:
            raise ConfigError("[retry] max_delay must be >= base_delay")
        return settings


class RetryPolicy:
    def __init__(
        self,
        max_attempts: int = RetrySettings.max_attempts,
        base_delay: float = RetrySettings.base_delay,
        max_delay: float = RetrySettings.max_delay,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        *,
        attempt_timeout: float | None = None,
        min_attempt_seconds: float = RetrySettings.min_attempt_seconds,
        clock: Callable[[], float] = time.monotonic,
        on_retry: RetryHook | None = None,
        on_give_up: GiveUpHook | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if base_delay < 0 or max_delay < 0 or min_attempt_seconds < 0:
            raise ValueError("base_delay, max_delay and min_attempt_seconds must be >= 0")
        if attempt_timeout is not None and not attempt_timeout > 0:
            raise ValueError("attempt_timeout must be > 0 when given")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.attempt_timeout = attempt_timeout
        self.min_attempt_seconds = min_attempt_seconds
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._on_retry = on_retry
        self._on_give_up = on_give_up

    @classmethod
    def from_settings(
        cls,
        settings: RetrySettings,
        *,
        on_retry: RetryHook | None = None,
        on_give_up: GiveUpHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> RetryPolicy:
        return cls(
            settings.max_attempts,
            settings.base_delay,
            settings.max_delay,
            sleep,
            rng,
            attempt_timeout=settings.attempt_timeout_seconds,
            min_attempt_seconds=settings.min_attempt_seconds,
            clock=clock,
            on_retry=on_retry,
            on_give_up=on_give_up,
        )

    def run(
        self,
        fn: Callable[[float | None], T],
        *,
        action: str,
        write: bool,
        deadline: float | None,
        retry_safe: bool = False,
    ) -> T:
        """Call `fn` with retries. `write`: the call changes something (never retried after InternalError);
        `retry_safe`: for a write, repeating it is harmless (see `repeat_is_harmless`); ignored for reads.
        `deadline`: absolute `time.monotonic()` time, or None."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(self._attempt_timeout(deadline))
            except Exception as exc:
                if not may_retry(classify(exc), write=write, retry_safe=retry_safe):
                    raise
                reason = error_code(exc)
                if attempt >= self.max_attempts:
                    self._give_up(exc, action, reason, "attempts", attempt)
                    raise
                delay = self._next_delay(attempt, deadline)
                if delay is None:
                    self._give_up(exc, action, reason, "deadline", attempt)
                    raise
            if self._on_retry is not None:
                self._on_retry(action, reason, delay)
            if delay > 0:
                self._sleep(delay)

    def _attempt_timeout(self, deadline: float | None) -> float | None:
        if deadline is None:
            return self.attempt_timeout
        remaining = max(0.0, deadline - self._clock())
        if self.attempt_timeout is not None:
            return min(remaining, self.attempt_timeout)
        return remaining

    def _next_delay(self, retry_number: int, deadline: float | None) -> float | None:
        """Full-jitter delay before retry `retry_number`, or None when no further attempt fits."""
        cap = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        if deadline is not None:
            room = deadline - self._clock() - self.min_attempt_seconds
            if room < 0:
                return None
            cap = min(cap, room)
        return self._rng.uniform(0.0, cap) if cap > 0 else 0.0

    def _give_up(self, exc: Exception, action: str, reason: str, why: str, attempts: int) -> None:
        # A note shows in logged tracebacks only, never in str(exc), so callers' messages stay unchanged.
        exc.add_note(f"retry policy: gave up on {action} after {attempts} attempt(s) ({why})")
        if self._on_give_up is not None:
            self._on_give_up(action, reason, why, attempts)


def _number(
    data: Mapping[str, Any], key: str, default: float, *, minimum: float, strict: bool = False
) -> float:
    value = data.get(key, default)
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise ConfigError(f"[retry] {key} must be a number {bound}, got {value!r}")
    return float(value)
