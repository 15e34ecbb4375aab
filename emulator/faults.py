"""Fault injection: rules that make cloud calls slow, fail, vanish or come back non-200.

A rule applies to one action (or `*`) and optionally one SecretId. For each call, every matching rule
adds its latency, and rolls its dice: a dropped connection wins over a non-200 status, which wins over an
error code. `LaunchFailedProbability` is not a per-call fault: the control API hands it to the model, which
decides how a launch ends.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from emulator.errors import ApiError
from emulator.throttle import rate_limit_exceeded

_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9_]+)*$")
MAX_LATENCY_MS = 60_000.0

# JSON member -> dataclass field, in the order the control API documents them.
_FIELDS = {
    "Action": "action",
    "SecretId": "secret_id",
    "ErrorCode": "error_code",
    "ErrorProbability": "error_probability",
    "LatencyMs": "latency_ms",
    "DropProbability": "drop_probability",
    "HttpStatus": "http_status",
    "HttpStatusProbability": "http_status_probability",
    "LaunchFailedProbability": "launch_failed_probability",
}


class InvalidFaultRuleError(ValueError):
    pass


@dataclass(frozen=True)
class FaultRule:
    action: str = "*"
    secret_id: str | None = None
    error_code: str | None = None
    error_probability: float = 0.0
    latency_ms: float = 0.0
    drop_probability: float = 0.0
    http_status: int | None = None
    http_status_probability: float = 0.0
    launch_failed_probability: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Validate a control-API rule. A code or status given without a probability always fires."""
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise InvalidFaultRuleError(f"unknown members {unknown}; allowed: {list(_FIELDS)}")
        action = _string(data, "Action", "*")
        secret_id = _string(data, "SecretId", None)
        error_code = _string(data, "ErrorCode", None)
        if error_code is not None and not _ERROR_CODE.match(error_code):
            raise InvalidFaultRuleError(f"ErrorCode {error_code!r} is not a Tencent error code")
        http_status = data.get("HttpStatus")
        if http_status is not None and (
            isinstance(http_status, bool) or not isinstance(http_status, int) or not 300 <= http_status <= 599
        ):
            raise InvalidFaultRuleError("HttpStatus must be an integer from 300 to 599")
        latency_ms = _number(data, "LatencyMs", 0.0)
        if not 0.0 <= latency_ms <= MAX_LATENCY_MS:
            raise InvalidFaultRuleError(f"LatencyMs must be between 0 and {MAX_LATENCY_MS:.0f}")
        launch_failed = data.get("LaunchFailedProbability")
        return cls(
            action=action or "*",
            secret_id=secret_id,
            error_code=error_code,
            error_probability=_probability(data, "ErrorProbability", 1.0 if error_code else 0.0),
            latency_ms=latency_ms,
            drop_probability=_probability(data, "DropProbability", 0.0),
            http_status=http_status,
            http_status_probability=_probability(data, "HttpStatusProbability", 1.0 if http_status else 0.0),
            launch_failed_probability=(
                None if launch_failed is None else _probability(data, "LaunchFailedProbability", 0.0)
            ),
        )

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        return {member: values[field] for member, field in _FIELDS.items()}

    def matches(self, account: str, action: str) -> bool:
        return self.action in ("*", action) and self.secret_id in (None, account)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one call. `injected` is true when the call will not reach the model."""

    latency_seconds: float = 0.0
    drop: bool = False
    http_status: int | None = None
    error: ApiError | None = None

    @property
    def injected(self) -> bool:
        return self.drop or self.http_status is not None or self.error is not None


NO_FAULT = FaultDecision()


class FaultInjector:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._rules: tuple[FaultRule, ...] = ()
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> list[FaultRule]:
        with self._lock:
            self._rules = (*self._rules, rule)
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules = ()

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def decide(self, account: str, action: str) -> FaultDecision:
        rules = self._rules  # an immutable snapshot: no lock on the hot path
        if not rules:
            return NO_FAULT
        latency_ms = 0.0
        drop = False
        http_status: int | None = None
        error: ApiError | None = None
        for rule in rules:
            if not rule.matches(account, action):
                continue
            latency_ms += rule.latency_ms
            drop = drop or self._fires(rule.drop_probability)
            if (
                http_status is None
                and rule.http_status is not None
                and self._fires(rule.http_status_probability)
            ):
                http_status = rule.http_status
            if error is None and rule.error_code is not None and self._fires(rule.error_probability):
                error = injected_error(rule.error_code, action)
        if drop:
            http_status, error = None, None
        elif http_status is not None:
            error = None
        return FaultDecision(latency_ms / 1000.0, drop, http_status, error)

    def _fires(self, probability: float) -> bool:
        return probability > 0.0 and (probability >= 1.0 or self._rng.random() < probability)


def injected_error(code: str, action: str) -> ApiError:
    """The error a rule asks for, with the message Tencent gives for the common ones."""
    if code.startswith("RequestLimitExceeded"):
        error = rate_limit_exceeded(action)
        return ApiError(code, error.message_en, error.message_zh)
    if code == "InternalError":
        return ApiError(
            code,
            "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
            "内部错误，请重试；如果问题持续存在，请联系我们。",
        )
    if code == "OperationDenied.InstanceOperationInProgress":
        return ApiError(
            code,
            "The instance already has operation in progress. Please try again later.",
            "实例有操作正在执行，请稍后再试。",
        )
    return ApiError(code, f"Injected fault `{code}` for `{action}`.", f"注入的故障 `{code}`（`{action}`）。")


def _string(data: Mapping[str, Any], member: str, default: str | None) -> str | None:
    value = data.get(member, default)
    if value is not None and not isinstance(value, str):
        raise InvalidFaultRuleError(f"{member} must be a string")
    return value


def _number(data: Mapping[str, Any], member: str, default: float) -> float:
    value = data.get(member, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFaultRuleError(f"{member} must be a number")
    return float(value)


def _probability(data: Mapping[str, Any], member: str, default: float) -> float:
    value = _number(data, member, default)
    if not 0.0 <= value <= 1.0:
        raise InvalidFaultRuleError(f"{member} must be between 0 and 1")
    return value
