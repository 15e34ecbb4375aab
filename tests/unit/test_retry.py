"""RetryPolicy and the error classification behind it, on a fake clock with a scripted fn."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from server.config import ConfigError
from server.tencent.errors_policy import ErrorClass, classify, classify_code, error_code, may_retry
from server.tencent.ratelimit import RateLimitTimeout
from server.tencent.retry import RetryPolicy, RetrySettings, repeat_is_harmless


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class MaxRng(random.Random):
    """Always draws the top of the range, so the backoff caps themselves are visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def sdk_error(code: str) -> TencentCloudSDKException:
    return TencentCloudSDKException(code, f"message for {code}", "req-1")


class Script:
    """fn for RetryPolicy.run: raises the given errors in turn, then returns "ok". Records each timeout and
    lets each attempt take `attempt_seconds` of fake time."""

    def __init__(self, clock: FakeClock, *errors: BaseException, attempt_seconds: float = 0.0) -> None:
        self.clock = clock
        self.errors = list(errors)
        self.timeouts: list[float | None] = []
        self.attempt_seconds = attempt_seconds

    def __call__(self, timeout: float | None) -> str:
        self.timeouts.append(timeout)
        self.clock.now += self.attempt_seconds
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    @property
    def calls(self) -> int:
        return len(self.timeouts)


Retries = list[tuple[str, str, float]]
GiveUps = list[tuple[str, str, str, int]]


def policy(
    clock: FakeClock, retries: Retries | None = None, give_ups: GiveUps | None = None, **kwargs: object
) -> RetryPolicy:
    on_retry: Callable[[str, str, float], None] | None = None
    on_give_up: Callable[[str, str, str, int], None] | None = None
    if retries is not None:
        on_retry = lambda action, reason, delay: retries.append((action, reason, delay))  # noqa: E731
    if give_ups is not None:
        on_give_up = lambda action, reason, why, n: give_ups.append((action, reason, why, n))  # noqa: E731
    options: dict[str, object] = {"max_attempts": 5, "base_delay": 0.1, "max_delay": 1.0, **kwargs}
    return RetryPolicy(
        options.pop("max_attempts"),  # type: ignore[arg-type]
        options.pop("base_delay"),  # type: ignore[arg-type]
        options.pop("max_delay"),  # type: ignore[arg-type]
        clock.sleep,
        options.pop("rng", random.Random(7)),  # type: ignore[arg-type]
        clock=clock,
        on_retry=on_retry,
        on_give_up=on_give_up,
        **options,  # type: ignore[arg-type]
    )


# --- classification -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("RequestLimitExceeded", ErrorClass.THROTTLED),
        ("RequestLimitExceeded.UinLimitExceeded", ErrorClass.THROTTLED),
        ("RequestLimitExceeded.GlobalRegionUinLimitExceeded", ErrorClass.THROTTLED),
        ("RequestLimitExceeded.IPLimitExceeded", ErrorClass.PERMANENT),
        ("OperationDenied.InstanceOperationInProgress", ErrorClass.IN_PROGRESS),
        ("ResourceInUse", ErrorClass.BUSY),
        ("ResourceBusy", ErrorClass.BUSY),
        ("ResourceInsufficient.CloudDiskUnavailable", ErrorClass.PERMANENT),
        ("ClientNetworkError", ErrorClass.NETWORK),
        ("ServerNetworkError", ErrorClass.BAD_STATUS),
        ("JSONDecodeError", ErrorClass.MALFORMED_REPLY),
        ("InternalError", ErrorClass.INTERNAL),
        ("InternalError.UnknownError", ErrorClass.INTERNAL),
        ("InvalidInstanceId.NotFound", ErrorClass.PERMANENT),
        ("UnsupportedOperation.InstanceStateRunning", ErrorClass.PERMANENT),
        ("AuthFailure.SignatureFailure", ErrorClass.PERMANENT),
        ("RequestLimitExceededSomething", ErrorClass.PERMANENT),
    ],
)
def test_tencent_codes_are_classified(code: str, expected: ErrorClass) -> None:
    assert classify_code(code) is expected
    assert classify(sdk_error(code)) is expected


def test_non_sdk_exceptions_are_classified() -> None:
    assert classify(requests.ConnectionError("reset")) is ErrorClass.NETWORK
    assert classify(requests.ReadTimeout("slow")) is ErrorClass.NETWORK
    assert classify(ConnectionResetError()) is ErrorClass.NETWORK
    assert classify(TimeoutError()) is ErrorClass.NETWORK
    assert classify(json.JSONDecodeError("bad", "<html>", 0)) is ErrorClass.MALFORMED_REPLY
    assert classify(RateLimitTimeout("RunInstances", 1.0, 0.5)) is ErrorClass.PERMANENT
    assert classify(KeyError("Response")) is ErrorClass.PERMANENT
    assert classify(ValueError("ours")) is ErrorClass.PERMANENT


def test_error_code_names() -> None:
    assert error_code(sdk_error("RequestLimitExceeded")) == "RequestLimitExceeded"
    assert error_code(TencentCloudSDKException()) == "TencentCloudSDKException"
    assert error_code(requests.ConnectionError()) == "ConnectionError"


def test_retry_matrix() -> None:
    for cls in ErrorClass:
        read = may_retry(cls, write=False, retry_safe=False)
        safe = may_retry(cls, write=True, retry_safe=True)
        unsafe = may_retry(cls, write=True, retry_safe=False)
        assert read is (cls is not ErrorClass.PERMANENT)
        assert safe is (cls not in (ErrorClass.PERMANENT, ErrorClass.INTERNAL))
        assert unsafe is (cls in (ErrorClass.THROTTLED, ErrorClass.IN_PROGRESS, ErrorClass.BUSY))
        # retry_safe means nothing for reads
        assert may_retry(cls, write=False, retry_safe=True) is read


def test_repeat_is_harmless() -> None:
    assert repeat_is_harmless("RunInstances", {"ClientToken": "abc"})
    assert not repeat_is_harmless("RunInstances", {})
    assert not repeat_is_harmless("RunInstances", {"ClientToken": ""})
    for action in ("StartInstances", "StopInstances", "TerminateInstances"):
        assert repeat_is_harmless(action, {"InstanceIds": ["ins-2n9bmcww"]})
    for action in ("ModifyInstancesAttribute", "ResetInstance", "RebootInstances"):
        assert not repeat_is_harmless(action, {})


# --- the loop ---------------------------------------------------------------------------------------------


def test_success_first_time_passes_the_remaining_time() -> None:
    clock = FakeClock()
    fn = Script(clock)
    assert policy(clock).run(fn, action="DescribeInstances", write=False, deadline=clock.now + 3) == "ok"
    assert fn.timeouts == [pytest.approx(3.0)]
    assert clock.sleeps == []


def test_attempt_timeout_caps_each_attempt() -> None:
    clock = FakeClock()
    fn = Script(clock, sdk_error("ClientNetworkError"), attempt_seconds=2.0)
    result = policy(clock, attempt_timeout=2.0).run(
        fn, action="DescribeInstances", write=False, deadline=clock.now + 10
    )
    assert result == "ok"
    assert fn.timeouts == [2.0, 2.0]
    # no deadline: the attempt timeout alone, or None when that is unset too
    fn2 = Script(clock)
    policy(clock, attempt_timeout=2.0).run(fn2, action="DescribeInstances", write=False, deadline=None)
    fn3 = Script(clock)
    policy(clock).run(fn3, action="DescribeInstances", write=False, deadline=None)
    assert fn2.timeouts == [2.0]
    assert fn3.timeouts == [None]


@pytest.mark.parametrize(
    "error",
    [
        sdk_error("RequestLimitExceeded"),
        sdk_error("ClientNetworkError"),
        sdk_error("ServerNetworkError"),
        sdk_error("OperationDenied.InstanceOperationInProgress"),
        sdk_error("InternalError"),
        json.JSONDecodeError("Expecting value", "", 0),
        requests.ConnectionError("connection reset"),
    ],
)
def test_reads_retry_every_transient_error(error: Exception) -> None:
    clock = FakeClock()
    retries: Retries = []
    fn = Script(clock, error, error)
    assert policy(clock, retries).run(fn, action="DescribeInstances", write=False, deadline=None) == "ok"
    assert fn.calls == 3
    assert [r[:2] for r in retries] == [("DescribeInstances", error_code(error))] * 2
    assert clock.sleeps == [r[2] for r in retries]


@pytest.mark.parametrize(
    "code",
    [
        "InvalidParameterValue",
        "InvalidInstanceId.NotFound",
        "UnsupportedOperation.InstanceStateStopped",
        "RequestLimitExceeded.IPLimitExceeded",
        "AuthFailure.SignatureFailure",
    ],
)
def test_permanent_errors_are_raised_at_once(code: str) -> None:
    clock = FakeClock()
    give_ups: GiveUps = []
    fn = Script(clock, sdk_error(code))
    with pytest.raises(TencentCloudSDKException) as caught:
        policy(clock, give_ups=give_ups).run(fn, action="DescribeInstances", write=False, deadline=None)
    assert caught.value.get_code() == code
    assert fn.calls == 1
    assert clock.sleeps == []
    assert give_ups == []  # not a give-up: the error was never retryable


def test_rate_limit_timeout_from_inside_fn_passes_straight_through() -> None:
    clock = FakeClock()
    fn = Script(clock, RateLimitTimeout("DescribeInstances", 2.0, 1.0))
    with pytest.raises(RateLimitTimeout):
        policy(clock).run(fn, action="DescribeInstances", write=False, deadline=clock.now + 1)
    assert fn.calls == 1


def test_internal_error_is_never_retried_on_writes() -> None:
    for retry_safe in (True, False):
        clock = FakeClock()
        fn = Script(clock, sdk_error("InternalError"))
        with pytest.raises(TencentCloudSDKException):
            policy(clock).run(fn, action="RunInstances", write=True, deadline=None, retry_safe=retry_safe)
        assert fn.calls == 1


@pytest.mark.parametrize("code", ["ClientNetworkError", "ServerNetworkError", "JSONDecodeError"])
def test_unknown_outcomes_are_retried_only_for_retry_safe_writes(code: str) -> None:
    clock = FakeClock()
    fn = Script(clock, sdk_error(code))
    assert policy(clock).run(fn, action="StopInstances", write=True, deadline=None, retry_safe=True) == "ok"
    assert fn.calls == 2

    fn = Script(clock, sdk_error(code))
    with pytest.raises(TencentCloudSDKException):
        policy(clock).run(fn, action="ResetInstance", write=True, deadline=None, retry_safe=False)
    assert fn.calls == 1


@pytest.mark.parametrize(
    "code", ["RequestLimitExceeded", "OperationDenied.InstanceOperationInProgress", "ResourceInUse"]
)
def test_refusals_are_retried_even_for_unsafe_writes(code: str) -> None:
    clock = FakeClock()
    fn = Script(clock, sdk_error(code))
    assert policy(clock).run(fn, action="ResetInstance", write=True, deadline=None) == "ok"
    assert fn.calls == 2


def test_backoff_doubles_up_to_max_delay_with_full_jitter_bounds() -> None:
    clock = FakeClock()
    fn = Script(clock, *[sdk_error("RequestLimitExceeded")] * 6)
    p = policy(clock, max_attempts=7, base_delay=0.1, max_delay=1.0, rng=MaxRng())
    assert p.run(fn, action="DescribeInstances", write=False, deadline=None) == "ok"
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_jittered_delays_stay_within_their_caps() -> None:
    clock = FakeClock()
    fn = Script(clock, *[sdk_error("RequestLimitExceeded")] * 7)
    p = policy(clock, max_attempts=8, base_delay=0.1, max_delay=1.0, rng=random.Random(1))
    p.run(fn, action="DescribeInstances", write=False, deadline=None)
    caps = [min(1.0, 0.1 * 2**n) for n in range(7)]
    assert all(0 <= d <= cap for d, cap in zip(clock.sleeps, caps, strict=True))
    assert len(set(clock.sleeps)) > 1  # jittered, not fixed


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    clock = FakeClock()
    give_ups: GiveUps = []
    errors = [sdk_error("RequestLimitExceeded") for _ in range(5)]
    fn = Script(clock, *errors)
    with pytest.raises(TencentCloudSDKException) as caught:
        policy(clock, give_ups=give_ups, max_attempts=5).run(
            fn, action="DescribeInstances", write=False, deadline=None
        )
    assert caught.value is errors[-1]
    assert fn.calls == 5
    assert len(clock.sleeps) == 4  # no sleep after the last attempt
    assert give_ups == [("DescribeInstances", "RequestLimitExceeded", "attempts", 5)]
    assert any("gave up on DescribeInstances after 5" in note for note in caught.value.__notes__)
    assert "gave up" not in str(caught.value)  # callers' messages are unchanged


def test_never_sleeps_past_the_deadline_and_fails_promptly() -> None:
    clock = FakeClock()
    give_ups: GiveUps = []
    start = clock.now
    deadline = start + 1.0
    fn = Script(clock, *[sdk_error("ClientNetworkError")] * 50, attempt_seconds=0.15)
    p = policy(
        clock, give_ups=give_ups, max_attempts=50, base_delay=0.2, max_delay=5.0, min_attempt_seconds=0.1
    )
    with pytest.raises(TencentCloudSDKException):
        p.run(fn, action="DescribeInstances", write=False, deadline=deadline)
    assert give_ups[0][2] == "deadline"
    # Every sleep left at least min_attempt_seconds for the attempt after it ...
    t = start
    for i, sleep in enumerate(clock.sleeps):
        t += 0.15  # attempt i
        t += sleep
        assert t <= deadline - 0.1 + 1e-9, f"sleep {i} ran into the deadline"
    # ... and the policy stopped without sleeping once no attempt could fit.
    assert clock.now <= deadline + 0.15
    assert all(timeout is not None and timeout <= 1.0 for timeout in fn.timeouts)


def test_first_attempt_after_the_deadline_gets_zero_and_is_not_retried() -> None:
    clock = FakeClock()
    fn = Script(clock, sdk_error("ClientNetworkError"))
    with pytest.raises(TencentCloudSDKException):
        policy(clock).run(fn, action="DescribeInstances", write=False, deadline=clock.now - 1)
    assert fn.timeouts == [0.0]
    assert clock.sleeps == []


def test_invalid_construction() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(0)
    with pytest.raises(ValueError):
        RetryPolicy(3, -1.0)
    with pytest.raises(ValueError):
        RetryPolicy(3, attempt_timeout=0)


# --- settings ---------------------------------------------------------------------------------------------


def test_retry_settings_defaults_and_overrides() -> None:
    defaults = RetrySettings.from_mapping({})
    assert defaults == RetrySettings()
    assert defaults.max_attempts >= 3 and defaults.default_deadline_seconds > 0
    settings = RetrySettings.from_mapping(
        {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.5, "default_deadline_seconds": 5}
    )
    assert (settings.max_attempts, settings.base_delay, settings.max_delay) == (3, 0.01, 0.5)
    assert settings.default_deadline_seconds == 5.0
    clock = FakeClock()
    p = RetryPolicy.from_settings(settings, sleep=clock.sleep, clock=clock)
    assert (p.max_attempts, p.base_delay, p.max_delay) == (3, 0.01, 0.5)
    assert p.attempt_timeout == settings.attempt_timeout_seconds


@pytest.mark.parametrize(
    "table",
    [
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_attempts": True},
        {"base_delay": -0.1},
        {"max_delay": "1s"},
        {"base_delay": 2.0, "max_delay": 1.0},
        {"default_deadline_seconds": 0},
        {"attempt_timeout_seconds": 0},
        {"retries": 3},
    ],
)
def test_retry_settings_reject_bad_tables(table: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RetrySettings.from_mapping(table)
