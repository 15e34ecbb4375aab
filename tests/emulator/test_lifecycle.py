"""Every lifecycle transition and wrong-state error: the model on a stepped clock, then the real SDK.

The model tests move time by hand, so they can look inside each window (transitional state, target state
with OPERATING, settled). The end-to-end tests run the real emulator with 0.02 s transitions and wait by
polling DescribeInstances, never by asserting times.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.model_support import LINGER, SEED_INSTANCE, TRANSITION, Model
from tests.emulator.sdk_support import instance_or_none, wait_for_instance
from tests.support.emulator import EmulatorProcess


@pytest.fixture
def model() -> Model:
    return Model()


def _state(model: Model, instance_id: str) -> tuple[str, str | None]:
    item = model.instance(instance_id)
    return item["InstanceState"], item["LatestOperationState"]


# ---------------------------------------------------------------- transitions, window by window


def test_run_pending_then_running_with_operating_lingering(model: Model) -> None:
    [instance_id] = model.run()
    item = model.instance(instance_id)
    assert (item["InstanceState"], item["LatestOperation"], item["LatestOperationState"]) == (
        "PENDING",
        "RunInstances",
        "OPERATING",
    )
    assert item["LatestOperationRequestId"] == f"req-{model.calls - 1}"  # the RunInstances call
    model.clock.advance(TRANSITION)
    assert _state(model, instance_id) == ("RUNNING", "OPERATING")
    denied = model.error("StopInstances", {"InstanceIds": [instance_id]})
    assert denied.code == "OperationDenied.InstanceOperationInProgress"
    assert denied.message_en == (
        f"The instance `['{instance_id}']` already has operation in progress. Please try again later."
    )
    model.clock.advance(LINGER)
    assert _state(model, instance_id) == ("RUNNING", "SUCCESS")
    assert model.instance(instance_id)["LatestOperationErrorMsg"] == ""


def test_launch_failure_ends_in_launch_failed(model: Model) -> None:
    model.world.set_launch_failure(1.0)
    [instance_id] = model.run()
    model.settle()
    item = model.instance(instance_id)
    assert (item["InstanceState"], item["LatestOperationState"]) == ("LAUNCH_FAILED", "FAILED")
    assert item["LatestOperationErrorMsg"]
    assert model.error("StartInstances", {"InstanceIds": [instance_id]}).code == (
        "UnsupportedOperation.InstanceStateLaunchFailed"
    )
    model.call("TerminateInstances", {"InstanceIds": [instance_id]})
    model.settle()
    assert not model.exists(instance_id)


def test_stop_and_start(model: Model) -> None:
    [instance_id] = model.running()
    model.call("StopInstances", {"InstanceIds": [instance_id]})
    item = model.instance(instance_id)
    assert (item["InstanceState"], item["LatestOperation"], item["StopChargingMode"]) == (
        "STOPPING",
        "StopInstances",
        "NOT_APPLICABLE",
    )
    model.clock.advance(TRANSITION)
    assert _state(model, instance_id) == ("STOPPED", "OPERATING")
    model.clock.advance(LINGER)
    item = model.instance(instance_id)
    assert (item["InstanceState"], item["LatestOperationState"], item["StopChargingMode"]) == (
        "STOPPED",
        "SUCCESS",
        "KEEP_CHARGING",
    )
    model.call("StartInstances", {"InstanceIds": [instance_id]})
    assert _state(model, instance_id) == ("STARTING", "OPERATING")
    assert model.instance(instance_id)["StopChargingMode"] == "NOT_APPLICABLE"
    model.settle()
    assert _state(model, instance_id) == ("RUNNING", "SUCCESS")


def test_stopped_mode_shows_as_stop_charging_mode(model: Model) -> None:
    [instance_id] = model.running()
    model.call(
        "StopInstances", {"InstanceIds": [instance_id], "StopType": "HARD", "StoppedMode": "STOP_CHARGING"}
    )
    model.settle()
    assert model.instance(instance_id)["StopChargingMode"] == "STOP_CHARGING"


def test_reboot(model: Model) -> None:
    [instance_id] = model.running()
    model.call("RebootInstances", {"InstanceIds": [instance_id], "StopType": "SOFT_FIRST"})
    assert _state(model, instance_id) == ("REBOOTING", "OPERATING")
    model.settle()
    assert _state(model, instance_id) == ("RUNNING", "SUCCESS")
    assert model.instance(instance_id)["LatestOperation"] == "RebootInstances"


def test_reset_changes_image_and_os_and_grows_the_disk(model: Model) -> None:
    model.call(
        "ResetInstance",
        {
            "InstanceId": SEED_INSTANCE,
            "ImageId": "img-n7nyt2d7",
            "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 60},
            "LoginSettings": {"Password": "964322396.cda"},
            "EnhancedService": {"SecurityService": {"Enabled": False}, "MonitorService": {"Enabled": False}},
        },
    )
    item = model.instance(SEED_INSTANCE)
    assert (item["InstanceState"], item["LatestOperation"]) == ("REBOOTING", "ResetInstance")
    assert (item["ImageId"], item["OsName"]) == ("img-n7nyt2d7", "CentOS 8.2 64位")
    assert item["SystemDisk"]["DiskSize"] == 60
    assert (item["DefaultLoginUser"], item["DefaultLoginPort"]) == ("root", 22)
    assert item["LoginSettings"] == {}  # the password is never shown
    model.settle()
    assert _state(model, SEED_INSTANCE) == ("RUNNING", "SUCCESS")


def test_reset_of_a_stopped_instance_starts_it(model: Model) -> None:
    [instance_id] = model.running()
    model.call("StopInstances", {"InstanceIds": [instance_id]})
    model.settle()
    model.call("ResetInstance", {"InstanceId": instance_id, "ImageId": "img-487zeit5"})
    assert _state(model, instance_id) == ("STARTING", "OPERATING")
    model.settle()
    assert _state(model, instance_id) == ("RUNNING", "SUCCESS")
    assert model.instance(instance_id)["OsName"] == "Ubuntu Server 20.04 LTS 64位"


@pytest.mark.parametrize(
    ("system_disk", "code"),
    [
        ({"DiskSize": 40}, "InvalidParameterValue"),  # below the current 50 GiB: no shrinking
        ({"DiskType": "CLOUD_SSD"}, "UnsupportedOperation.SystemDiskType"),
        ({"DiskSize": 5000}, "InvalidParameterValue.Range"),
    ],
)
def test_reset_system_disk_rules(model: Model, system_disk: dict[str, Any], code: str) -> None:
    error = model.error("ResetInstance", {"InstanceId": SEED_INSTANCE, "SystemDisk": system_disk})
    assert error.code == code
    assert model.instance(SEED_INSTANCE)["InstanceState"] == "RUNNING"  # nothing started


def test_reset_checks_the_password_against_the_new_image(model: Model) -> None:
    # 9 characters with two classes: fine for Linux, too weak for Windows
    params = {"InstanceId": SEED_INSTANCE, "LoginSettings": {"Password": "abcdefgh1"}}
    assert model.error("ResetInstance", {**params, "ImageId": "img-9id7emv7"}).code == "InvalidPassword"
    model.call("ResetInstance", {**params, "ImageId": "img-n7nyt2d7"})


def test_terminate_pay_as_you_go_is_gone_after_terminating(model: Model) -> None:
    before = model.call("DescribeSubnets", {"SubnetIds": ["subnet-nv3ex0mo"]}, service="vpc")["SubnetSet"][0]
    model.call("TerminateInstances", {"InstanceIds": [SEED_INSTANCE]})
    assert _state(model, SEED_INSTANCE) == ("TERMINATING", "OPERATING")
    assert model.error("StopInstances", {"InstanceIds": [SEED_INSTANCE]}).code == (
        "UnsupportedOperation.InstanceStateTerminating"
    )
    model.clock.advance(TRANSITION)
    assert not model.exists(SEED_INSTANCE)
    after = model.call("DescribeSubnets", {"SubnetIds": ["subnet-nv3ex0mo"]}, service="vpc")["SubnetSet"][0]
    assert after["AvailableIpAddressCount"] == before["AvailableIpAddressCount"] + 1  # address released
    assert (
        model.error("StartInstances", {"InstanceIds": [SEED_INSTANCE]}).code == "InvalidInstanceId.NotFound"
    )


def test_terminate_prepaid_goes_to_the_recycle_bin_first(model: Model) -> None:
    [instance_id] = model.running(InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 1})
    item = model.instance(instance_id)
    assert item["RenewFlag"] == "NOTIFY_AND_MANUAL_RENEW"
    assert item["ExpiredTime"] > item["CreatedTime"]
    model.call("TerminateInstances", {"InstanceIds": [instance_id]})
    assert _state(model, instance_id) == ("STOPPING", "OPERATING")
    model.settle()
    item = model.instance(instance_id)
    assert (item["InstanceState"], item["LatestOperationState"], item["IsolatedSource"]) == (
        "SHUTDOWN",
        "SUCCESS",
        "MANMADE",
    )
    assert model.error("StartInstances", {"InstanceIds": [instance_id]}).code == (
        "UnsupportedOperation.InstanceStateShutdown"
    )
    model.call("TerminateInstances", {"InstanceIds": [instance_id]})
    assert _state(model, instance_id) == ("TERMINATING", "OPERATING")
    model.settle()
    assert not model.exists(instance_id)


def test_termination_protection(model: Model) -> None:
    [instance_id] = model.running()
    model.call("ModifyInstancesAttribute", {"InstanceIds": [instance_id], "DisableApiTermination": True})
    model.settle()
    assert model.instance(instance_id)["DisableApiTermination"] is True
    error = model.error("TerminateInstances", {"InstanceIds": [instance_id]})
    assert error.code == "UnsupportedOperation.InstancesProtected"


def test_modify_is_an_operation_without_a_state_change(model: Model) -> None:
    model.call("ModifyInstancesAttribute", {"InstanceIds": [SEED_INSTANCE], "InstanceName": "1234"})
    item = model.instance(SEED_INSTANCE)
    assert (item["InstanceName"], item["InstanceState"]) == ("1234", "RUNNING")
    assert (item["LatestOperation"], item["LatestOperationState"]) == (
        "ModifyInstancesAttribute",
        "OPERATING",
    )
    assert model.error("RebootInstances", {"InstanceIds": [SEED_INSTANCE]}).code == (
        "OperationDenied.InstanceOperationInProgress"
    )
    model.clock.advance(LINGER)
    assert _state(model, SEED_INSTANCE) == ("RUNNING", "SUCCESS")
    model.call(
        "ModifyInstancesAttribute", {"InstanceIds": [SEED_INSTANCE], "SecurityGroups": ["sg-n5ihii7d"]}
    )
    assert model.instance(SEED_INSTANCE)["SecurityGroupIds"] == ["sg-n5ihii7d"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"InstanceName": "a", "SecurityGroups": ["sg-n5ihii7d"]}, "InvalidParameter.AtMostOne"),
        ({}, "MissingParameter.AtLeastOne"),
        ({"InstanceName": "x" * 61}, "InvalidInstanceName.TooLong"),
        ({"SecurityGroups": ["sg-1"]}, "InvalidSgId.Malformed"),
        ({"SecurityGroups": ["sg-zzzzzzzz"]}, "InvalidSecurityGroupId.NotFound"),
        ({"SecurityGroups": [f"sg-{n:08d}" for n in range(6)]}, "LimitExceeded.AssociateUSGLimitExceeded"),
        ({"UserData": "not base64!"}, "InvalidParameterValue.InvalidUserDataFormat"),
    ],
)
def test_modify_errors(model: Model, params: dict[str, Any], code: str) -> None:
    assert model.error("ModifyInstancesAttribute", {"InstanceIds": [SEED_INSTANCE], **params}).code == code


# ---------------------------------------------------------------- wrong states


def _in_state(model: Model, state: str) -> str:
    """An instance whose state is `state` (operation settled unless `state` is transitional)."""
    transitional = {"PENDING", "STOPPING", "STARTING", "REBOOTING", "TERMINATING"}
    if state == "PENDING":
        return model.run()[0]
    [instance_id] = model.running()
    steps: list[str] = {
        "RUNNING": [],
        "STOPPING": ["StopInstances"],
        "STOPPED": ["StopInstances"],
        "STARTING": ["StopInstances", "StartInstances"],
        "REBOOTING": ["RebootInstances"],
        "TERMINATING": ["TerminateInstances"],
    }[state]
    for index, action in enumerate(steps):
        model.call(action, {"InstanceIds": [instance_id]})
        if index < len(steps) - 1 or state not in transitional:
            model.settle()
    assert model.instance(instance_id)["InstanceState"] == state
    return instance_id


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("RUNNING", "StartInstances"),
        ("STOPPED", "StopInstances"),
        ("STOPPED", "RebootInstances"),
        ("PENDING", "StopInstances"),
        ("PENDING", "TerminateInstances"),
        ("STOPPING", "StartInstances"),
        ("STARTING", "StopInstances"),
        ("REBOOTING", "StopInstances"),
        ("REBOOTING", "ResetInstance"),
        ("TERMINATING", "TerminateInstances"),
        ("TERMINATING", "ModifyInstancesAttribute"),
    ],
)
def test_wrong_state_errors(model: Model, state: str, action: str) -> None:
    instance_id = _in_state(model, state)
    params: dict[str, Any] = (
        {"InstanceId": instance_id} if action == "ResetInstance" else {"InstanceIds": [instance_id]}
    )
    if action == "ModifyInstancesAttribute":
        params["InstanceName"] = "renamed"
    error = model.error(action, params)
    camel = "".join(part.capitalize() for part in state.split("_"))
    assert error.code == f"UnsupportedOperation.InstanceState{camel}"
    assert instance_id in error.message_en


def test_a_batch_fails_as_a_whole(model: Model) -> None:
    running = model.running(2)
    stopped = model.running()
    model.call("StopInstances", {"InstanceIds": stopped})
    model.settle()
    error = model.error("StopInstances", {"InstanceIds": [*running, *stopped]})
    assert error.code == "UnsupportedOperation.InstanceStateStopped"
    assert stopped[0] in error.message_en
    for instance_id in running:
        assert _state(model, instance_id) == ("RUNNING", "SUCCESS")  # untouched


@pytest.mark.parametrize(
    "action",
    ["StartInstances", "StopInstances", "RebootInstances", "TerminateInstances", "ModifyInstancesAttribute"],
)
def test_batch_id_errors(model: Model, action: str) -> None:
    extra = {"InstanceName": "x"} if action == "ModifyInstancesAttribute" else {}
    malformed = model.error(action, {"InstanceIds": ["ins-123", SEED_INSTANCE], **extra})
    assert malformed.code == "InvalidInstanceId.Malformed"
    assert "ins-123" in malformed.message_en
    missing = model.error(action, {"InstanceIds": ["ins-zzzzzzzz"], **extra})
    assert missing.code == "InvalidInstanceId.NotFound"
    too_many = model.error(action, {"InstanceIds": [f"ins-{n:08d}" for n in range(101)], **extra})
    assert too_many.code == "InvalidParameterValue.LimitExceeded"


def test_reset_id_errors(model: Model) -> None:
    assert model.error("ResetInstance", {"InstanceId": "ins-1"}).code == "InvalidInstanceId.Malformed"
    assert model.error("ResetInstance", {"InstanceId": "ins-zzzzzzzz"}).code == "InvalidInstanceId.NotFound"
    bad_image = {"InstanceId": SEED_INSTANCE, "ImageId": "img-zzzzzzzz"}
    assert model.error("ResetInstance", bad_image).code == "InvalidImageId.NotFound"


def test_stop_parameter_rules(model: Model) -> None:
    both = {"InstanceIds": [SEED_INSTANCE], "ForceStop": True, "StopType": "HARD"}
    assert model.error("StopInstances", both).code == "InvalidParameterCombination"
    bad_type = {"InstanceIds": [SEED_INSTANCE], "StopType": "GENTLE"}
    assert model.error("StopInstances", bad_type).code == "InvalidParameterValue"
    model.call(
        "StopInstances", {"InstanceIds": [SEED_INSTANCE], "ForceStop": False}
    )  # deprecated but accepted


def test_new_timings_apply_to_new_operations(model: Model) -> None:
    model.world.set_timings(transition_seconds=10.0, operating_linger_seconds=0.0)
    [instance_id] = model.run()
    model.clock.advance(TRANSITION + LINGER + 1)
    assert _state(model, instance_id) == ("PENDING", "OPERATING")
    model.clock.advance(10)
    assert _state(model, instance_id) == ("RUNNING", "SUCCESS")


def test_status_shows_the_same_states(model: Model) -> None:
    [instance_id] = model.run()
    status = model.call("DescribeInstancesStatus", {"InstanceIds": [instance_id]})
    assert status == {
        "TotalCount": 1,
        "InstanceStatusSet": [{"InstanceId": instance_id, "InstanceState": "PENDING"}],
    }


# ---------------------------------------------------------------- end to end with the real SDK


def test_full_lifecycle_through_the_sdk(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.cvm.v20170312 import models

    fresh_emulator.set_throttle(False)
    client = fresh_emulator.cvm_client()
    run = models.RunInstancesRequest()
    run.from_json_string(
        '{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-n7nyt2d7", "InstanceType": "S5.MEDIUM4"}'
    )
    [instance_id] = client.RunInstances(run).InstanceIdSet
    wait_for_instance(client, instance_id, "RUNNING")

    for action, request_type, expected in [
        ("StopInstances", models.StopInstancesRequest, "STOPPED"),
        ("StartInstances", models.StartInstancesRequest, "RUNNING"),
        ("RebootInstances", models.RebootInstancesRequest, "RUNNING"),
    ]:
        request = request_type()
        request.InstanceIds = [instance_id]
        getattr(client, action)(request)
        item = wait_for_instance(client, instance_id, expected)
        assert item.LatestOperation == action

    reset = models.ResetInstanceRequest()
    reset.InstanceId = instance_id
    reset.ImageId = "img-487zeit5"
    client.ResetInstance(reset)
    assert wait_for_instance(client, instance_id, "RUNNING").OsName == "Ubuntu Server 20.04 LTS 64位"

    terminate = models.TerminateInstancesRequest()
    terminate.InstanceIds = [instance_id]
    client.TerminateInstances(terminate)
    wait_for_instance(client, instance_id, None)
    assert instance_or_none(client, instance_id) is None


def test_wrong_state_through_the_sdk(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.cvm.v20170312 import models

    client = fresh_emulator.cvm_client(language="en-US")
    request = models.StartInstancesRequest()
    request.InstanceIds = [SEED_INSTANCE]
    with pytest.raises(TencentCloudSDKException) as caught:
        client.StartInstances(request)
    assert caught.value.get_code() == "UnsupportedOperation.InstanceStateRunning"
    assert SEED_INSTANCE in caught.value.get_message()
