"""Fault injection: error codes, latency, dropped connections, non-200 replies, LAUNCH_FAILED."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from emulator.cloud_api import CloudApi, CloudRequest
from emulator.counters import Counters
from emulator.faults import FaultInjector, FaultRule, InvalidFaultRuleError
from emulator.throttle import Throttle
from tests.emulator.fake_backend import FakeBackend
from tests.emulator.tc3 import sign_by_hand
from tests.support.emulator import OTHER_SECRET_ID, OTHER_SECRET_KEY, EmulatorProcess

# --- rules, unit level ---


def test_rule_defaults_and_round_trip() -> None:
    rule = FaultRule.from_json({"Action": "DescribeInstances", "ErrorCode": "InternalError"})
    assert rule.error_probability == 1.0  # a code without a probability always fires
    assert rule.to_json() == {
        "Action": "DescribeInstances",
        "SecretId": None,
        "ErrorCode": "InternalError",
        "ErrorProbability": 1.0,
        "LatencyMs": 0.0,
        "DropProbability": 0.0,
        "HttpStatus": None,
        "HttpStatusProbability": 0.0,
        "LaunchFailedProbability": None,
    }
    assert FaultRule.from_json({}).action == "*"


@pytest.mark.parametrize(
    "data",
    [
        {"ErrorProbability": 1.5},
        {"DropProbability": -0.1},
        {"HttpStatus": 200},
        {"HttpStatus": "502"},
        {"LatencyMs": -1},
        {"LatencyMs": 10**7},
        {"ErrorCode": "not a code!"},
        {"Action": 3},
        {"Typo": 1},
        {"LaunchFailedProbability": 2},
    ],
)
def test_invalid_rules(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidFaultRuleError):
        FaultRule.from_json(data)


def test_matching_by_action_and_secret_id() -> None:
    injector = FaultInjector()
    injector.add(
        FaultRule.from_json({"Action": "RunInstances", "SecretId": "AKID1", "ErrorCode": "InternalError"})
    )
    assert injector.decide("AKID1", "RunInstances").error is not None
    assert not injector.decide("AKID2", "RunInstances").injected
    assert not injector.decide("AKID1", "DescribeInstances").injected


def test_probabilities_follow_the_dice() -> None:
    injector = FaultInjector(random.Random(7))
    injector.add(FaultRule.from_json({"ErrorCode": "RequestLimitExceeded", "ErrorProbability": 0.3}))
    fired = sum(injector.decide("A", "DescribeInstances").injected for _ in range(2000))
    assert 450 < fired < 750


def test_drop_wins_over_status_which_wins_over_error_and_latencies_add_up() -> None:
    injector = FaultInjector()
    injector.add(FaultRule.from_json({"ErrorCode": "InternalError", "LatencyMs": 10}))
    injector.add(FaultRule.from_json({"HttpStatus": 503, "LatencyMs": 20}))
    decision = injector.decide("A", "X")
    assert (decision.http_status, decision.error, decision.latency_seconds) == (
        503,
        None,
        pytest.approx(0.03),
    )
    injector.add(FaultRule.from_json({"DropProbability": 1.0}))
    decision = injector.decide("A", "X")
    assert decision.drop and decision.http_status is None and decision.error is None


def test_latency_is_slept_before_the_call_goes_on() -> None:
    slept: list[float] = []
    faults = FaultInjector()
    faults.add(FaultRule.from_json({"Action": "DescribeZones", "LatencyMs": 30}))
    backend = FakeBackend()
    api = CloudApi(backend, Throttle(), faults, Counters(), sleep=slept.append)
    reply = api.handle(CloudRequest("POST", "/", "", {}, b"{}"))  # unsigned: rejected before faults apply
    assert reply is not None and slept == []
    headers = {name.lower(): value for name, value in sign_by_hand(host="h", action="DescribeZones").items()}
    reply = api.handle(CloudRequest("POST", "/", "", headers, b"{}"))
    assert reply is not None and reply.status == 200
    assert slept == [pytest.approx(0.03)]
    assert [call.action for call in backend.calls] == ["DescribeZones"]


# --- end to end through the SDK ---


def describe_instances(emulator: EmulatorProcess, **client_options: str) -> Any:
    return emulator.cvm_client(**client_options).DescribeInstances(cvm_models.DescribeInstancesRequest())


def sdk_error(call: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as raised:
        call()
    return raised.value


def test_injected_error_code(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.add_fault(Action="DescribeInstances", ErrorCode="InternalError", ErrorProbability=1.0)
    error = sdk_error(lambda: describe_instances(fresh_emulator))
    assert error.code == "InternalError"
    assert error.requestId
    # Other actions are untouched.
    fresh_emulator.cvm_client().DescribeZones(cvm_models.DescribeZonesRequest())
    counters = fresh_emulator.counters()
    assert counters["FaultsInjected"] == 1
    assert counters["Calls"]["AKIDEMULATORDEMO"] == {"DescribeInstances": 1, "DescribeZones": 1}


def test_injected_throttling_code(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.add_fault(Action="*", ErrorCode="RequestLimitExceeded.UinLimitExceeded")
    assert (
        sdk_error(lambda: describe_instances(fresh_emulator)).code == "RequestLimitExceeded.UinLimitExceeded"
    )


def test_faults_for_one_secret_id_only(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.add_fault(SecretId=OTHER_SECRET_ID, ErrorCode="InternalError")
    describe_instances(fresh_emulator)
    other = {"secret_id": OTHER_SECRET_ID, "secret_key": OTHER_SECRET_KEY}
    assert sdk_error(lambda: describe_instances(fresh_emulator, **other)).code == "InternalError"


def test_non_200_status_is_a_server_network_error(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.add_fault(Action="DescribeInstances", HttpStatus=502, HttpStatusProbability=1.0)
    error = sdk_error(lambda: describe_instances(fresh_emulator))
    assert error.code == "ServerNetworkError"
    assert "502" in str(error.message)


def test_dropped_connection_is_a_client_network_error(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.add_fault(Action="DescribeInstances", DropProbability=1.0)
    client = fresh_emulator.cvm_client()
    error = sdk_error(lambda: client.DescribeInstances(cvm_models.DescribeInstancesRequest()))
    assert error.code == "ClientNetworkError"
    # The same client recovers on a new connection once the fault is gone.
    fresh_emulator.clear_faults()
    assert client.DescribeInstances(cvm_models.DescribeInstancesRequest()).TotalCount >= 1
    assert fresh_emulator.counters()["FaultsInjected"] == 1


def test_latency_fault_still_answers(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.add_fault(Action="DescribeInstances", LatencyMs=30)
    assert describe_instances(fresh_emulator).TotalCount >= 1
    assert fresh_emulator.counters()["FaultsInjected"] == 0  # slow is not failed


def test_faults_apply_before_throttling(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.configure(RateLimits={"DescribeInstances": 0.01})
    fresh_emulator.add_fault(Action="DescribeInstances", ErrorCode="InternalError")
    for _ in range(3):
        assert sdk_error(lambda: describe_instances(fresh_emulator)).code == "InternalError"
    assert fresh_emulator.counters()["Throttled"] == 0


def test_list_and_clear_rules(fresh_emulator: EmulatorProcess) -> None:
    reply = fresh_emulator.add_fault(Action="StopInstances", LatencyMs=5)
    assert reply["Rule"]["Action"] == "StopInstances"
    fresh_emulator.add_fault(ErrorCode="InternalError", ErrorProbability=0.5)
    rules = fresh_emulator.control("GET", "/_emulator/faults")["Rules"]
    assert [rule["Action"] for rule in rules] == ["StopInstances", "*"]
    assert fresh_emulator.clear_faults() == {"Rules": []}
    assert fresh_emulator.control("GET", "/_emulator/faults") == {"Rules": []}
    status, body = fresh_emulator.control_raw("POST", "/_emulator/faults", {"ErrorProbability": 3})
    assert status == 400 and body["Error"]["Code"] == "InvalidRequest"


def wait_for_state(emulator: EmulatorProcess, instance_id: str, states: set[str]) -> str:
    client = emulator.cvm_client()
    request = cvm_models.DescribeInstancesRequest()
    request.InstanceIds = [instance_id]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        instances = client.DescribeInstances(request).InstanceSet
        if instances and instances[0].InstanceState in states:
            return str(instances[0].InstanceState)
        time.sleep(0.02)
    raise AssertionError(f"{instance_id} never reached {states}")


def run_one_instance(emulator: EmulatorProcess) -> str:
    request = cvm_models.RunInstancesRequest()
    request.from_json_string(
        '{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-n7nyt2d7", "InstanceType": "S1.SMALL1"}'
    )
    return str(emulator.cvm_client().RunInstances(request).InstanceIdSet[0])


def test_launch_failed_probability(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.set_throttle(False)  # the polling below may outrun DescribeInstances' 40/s
    fresh_emulator.add_fault(Action="RunInstances", LaunchFailedProbability=1.0)
    instance_id = run_one_instance(fresh_emulator)
    assert wait_for_state(fresh_emulator, instance_id, {"LAUNCH_FAILED", "RUNNING"}) == "LAUNCH_FAILED"
    # Clearing the faults clears launch failures too.
    fresh_emulator.clear_faults()
    instance_id = run_one_instance(fresh_emulator)
    assert wait_for_state(fresh_emulator, instance_id, {"LAUNCH_FAILED", "RUNNING"}) == "RUNNING"
