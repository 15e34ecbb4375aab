"""Throttling: per account and action token buckets at Tencent's documented rates."""

from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from emulator.throttle import DEFAULT_RATE, DOCUMENTED_RATES, Throttle
from tests.support.clock import ManualClock
from tests.support.emulator import OTHER_SECRET_ID, OTHER_SECRET_KEY, EmulatorProcess, start_emulator


def test_documented_rates() -> None:
    for action in (
        "RunInstances",
        "TerminateInstances",
        "StartInstances",
        "StopInstances",
        "RebootInstances",
    ):
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


def test_a_burst_of_one_seconds_worth_passes_then_tokens_refill() -> None:
    clock = ManualClock()
    throttle = Throttle(clock=clock)
    assert all(throttle.try_acquire("AKID1", "RunInstances") for _ in range(10))
    assert not throttle.try_acquire("AKID1", "RunInstances")
    clock.now += 0.1  # 10/s: one token back every 0.1 s
    assert throttle.try_acquire("AKID1", "RunInstances")
    assert not throttle.try_acquire("AKID1", "RunInstances")
    clock.now += 60  # never more than one second's worth
    assert sum(throttle.try_acquire("AKID1", "RunInstances") for _ in range(20)) == 10


def test_buckets_are_per_account_and_per_action() -> None:
    clock = ManualClock()
    throttle = Throttle(clock=clock)
    for _ in range(10):
        throttle.try_acquire("AKID1", "StopInstances")
    assert not throttle.try_acquire("AKID1", "StopInstances")
    assert throttle.try_acquire("AKID2", "StopInstances")
    assert throttle.try_acquire("AKID1", "StartInstances")


def test_undocumented_actions_get_the_default_rate() -> None:
    throttle = Throttle(clock=ManualClock())
    assert sum(throttle.try_acquire("AKID1", "SomethingElse") for _ in range(100)) == DEFAULT_RATE


def test_configure_switch_off_and_reset() -> None:
    clock = ManualClock()
    throttle = Throttle(clock=clock)
    throttle.configure(rates={"DescribeInstances": 2})
    assert [throttle.try_acquire("A", "DescribeInstances") for _ in range(3)] == [True, True, False]
    throttle.configure(enabled=False)
    assert all(throttle.try_acquire("A", "DescribeInstances") for _ in range(1000))
    throttle.reset()
    assert throttle.settings.enabled
    assert throttle.settings.rate_for("DescribeInstances") == 40
    with pytest.raises(ValueError):
        throttle.configure(rates={"DescribeInstances": 0})


def test_rates_below_one_per_second_still_let_a_call_through() -> None:
    clock = ManualClock()
    throttle = Throttle(rates={"RunInstances": 0.5}, clock=clock)
    assert throttle.try_acquire("A", "RunInstances")
    assert not throttle.try_acquire("A", "RunInstances")
    clock.now += 2
    assert throttle.try_acquire("A", "RunInstances")


def test_started_with_throttling_off() -> None:
    throttle = Throttle(enabled=False, clock=ManualClock())
    assert all(throttle.try_acquire("A", "RunInstances") for _ in range(100))


# --- end to end ---


def describe_zones_error(emulator: EmulatorProcess, **client_options: str) -> str | None:
    try:
        emulator.cvm_client(**client_options).DescribeZones(cvm_models.DescribeZonesRequest())
    except TencentCloudSDKException as error:
        return str(error.code)
    return None


def test_throttling_is_on_by_default_at_documented_rates(fresh_emulator: EmulatorProcess) -> None:
    config = fresh_emulator.control("GET", "/_emulator/config")
    assert config["Throttle"] is True
    assert config["RateLimits"]["DescribeInstances"] == 40
    assert config["RateLimits"]["RunInstances"] == 10
    assert config["RateLimits"]["DescribeVpcs"] == 100


def test_request_limit_exceeded_through_the_sdk(fresh_emulator: EmulatorProcess) -> None:
    # A rate so low that the bucket holds exactly one token and refills in 100 s: no timing involved.
    fresh_emulator.configure(RateLimits={"DescribeZones": 0.01})
    assert describe_zones_error(fresh_emulator) is None
    assert describe_zones_error(fresh_emulator) == "RequestLimitExceeded"
    assert describe_zones_error(fresh_emulator, language="en-US") == "RequestLimitExceeded"
    # Another account has its own bucket; another action too.
    assert (
        describe_zones_error(fresh_emulator, secret_id=OTHER_SECRET_ID, secret_key=OTHER_SECRET_KEY) is None
    )
    fresh_emulator.cvm_client().DescribeInstances(cvm_models.DescribeInstancesRequest())

    counters = fresh_emulator.counters()
    assert counters["Throttled"] == 2
    assert counters["ThrottledByAction"] == {"DescribeZones": 2}
    # Throttled calls are still calls.
    assert counters["Calls"]["AKIDEMULATORDEMO"]["DescribeZones"] == 3


def test_switching_throttling_off_and_reset_restores_it(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.configure(RateLimits={"DescribeZones": 0.01}, Throttle=False)
    assert [describe_zones_error(fresh_emulator) for _ in range(3)] == [None, None, None]
    fresh_emulator.reset()
    config = fresh_emulator.control("GET", "/_emulator/config")
    assert config["Throttle"] is True
    assert config["RateLimits"]["DescribeZones"] == 20


def test_no_throttle_flag() -> None:
    with start_emulator("--no-throttle") as private:
        assert private.control("GET", "/_emulator/config")["Throttle"] is False
        private.reset()  # reset goes back to the startup settings: still off
        assert private.control("GET", "/_emulator/config")["Throttle"] is False
