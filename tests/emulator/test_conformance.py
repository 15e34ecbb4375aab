"""Every reply of every action, over real HTTP, against the official spec and the SDK's models.

Replies are fetched raw (CommonClient.call_json) and checked member by member against tccli's api.json
(spec_check.py); then the SDK's own response model parses each one with warnings recorded, so an unknown
member ("... fileds are useless.") fails the test. The typed clients (CvmClient, VpcClient) are also used,
in both POST and GET mode, for the same calls.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.sdk_support import no_sdk_warnings, wait_for_instance
from tests.emulator.spec_check import reply_problems
from tests.support.emulator import EmulatorProcess

SEED_INSTANCE = "ins-2n9bmcww"


def _check(
    emulator: EmulatorProcess, service: str, action: str, params: dict[str, Any], **client: Any
) -> Any:
    """Call `action`, check the raw reply against the spec and the SDK model; return the raw Response."""
    common = emulator.common_client(service=service, **client)
    response = common.call_json(action, params)["Response"]
    assert "Error" not in response, response
    assert reply_problems(service, action, response) == []
    models = importlib.import_module(f"tencentcloud.{service}.v20170312.models")
    with no_sdk_warnings():
        model = getattr(models, f"{action}Response")()
        model._deserialize(response)
        # and the typed client's full path (serialise request, call, parse)
        typed = emulator.cvm_client(**client) if service == "cvm" else emulator.vpc_client(**client)
        request = getattr(models, f"{action}Request")()
        request._deserialize(params)
        if not action.startswith("Describe"):
            return response  # mutating actions run once
        getattr(typed, action)(request)
    return response


@pytest.fixture
def varied(fresh_emulator: EmulatorProcess) -> Iterator[dict[str, str]]:
    """Instances in every shape a reply can take: prepaid, data disks, keys, tags, failed launch, ..."""
    fresh_emulator.set_throttle(False)
    client = fresh_emulator.cvm_client()
    made: dict[str, str] = {}
    base: dict[str, Any] = {
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-n7nyt2d7",
        "InstanceType": "S5.MEDIUM4",
    }
    shapes: dict[str, dict[str, Any]] = {
        "prepaid": {
            "InstanceChargeType": "PREPAID",
            "InstanceChargePrepaid": {"Period": 1, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
            "DataDisks": [{"DiskSize": 100, "DiskType": "CLOUD_SSD"}],
            "LoginSettings": {"KeyIds": ["skey-abcdefgh"]},
            "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "prod"}]}],
        },
        "public": {"InternetAccessible": {"InternetMaxBandwidthOut": 10}, "DisableApiTermination": True},
    }
    for key, extra in shapes.items():
        made[key] = _check(fresh_emulator, "cvm", "RunInstances", {**base, **extra})["InstanceIdSet"][0]
    fresh_emulator.add_fault(Action="RunInstances", LaunchFailedProbability=1.0)
    made["failed"] = _check(fresh_emulator, "cvm", "RunInstances", base)["InstanceIdSet"][0]
    fresh_emulator.clear_faults()
    for key in ("prepaid", "public"):
        wait_for_instance(client, made[key], "RUNNING")
    wait_for_instance(client, made["failed"], "LAUNCH_FAILED")
    yield made


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_describe_replies(fresh_emulator: EmulatorProcess, varied: dict[str, str], method: str) -> None:
    cvm: list[tuple[str, dict[str, Any]]] = [
        ("DescribeInstances", {"Limit": 100}),
        ("DescribeInstances", {"InstanceIds": list(varied.values())}),
        (
            "DescribeInstances",
            {"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}], "Offset": 1, "Limit": 2},
        ),
        ("DescribeInstancesStatus", {"Limit": 100}),
        ("DescribeInstanceFamilyConfigs", {}),
        ("DescribeInstanceTypeConfigs", {"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}]}),
        ("DescribeImages", {"Limit": 100}),
        ("DescribeImages", {"ImageIds": ["img-9id7emv7"], "InstanceType": "MA2.SMALL8"}),
        ("DescribeZones", {}),
    ]
    vpc: list[tuple[str, dict[str, Any]]] = [
        ("DescribeVpcs", {}),
        (
            "DescribeVpcs",
            {"Filters": [{"Name": "is-default", "Values": ["true"]}], "Offset": "0", "Limit": "10"},
        ),
        ("DescribeSubnets", {"Limit": "100"}),
        ("DescribeSecurityGroups", {"OrderField": "CreatedTime", "OrderDirection": "ASC"}),
    ]
    for language in ("zh-CN", "en-US"):
        for action, params in cvm:
            _check(fresh_emulator, "cvm", action, params, method=method, language=language)
        for action, params in vpc:
            _check(fresh_emulator, "vpc", action, params, method=method, language=language)
    listed = _check(fresh_emulator, "cvm", "DescribeInstances", {"InstanceIds": [varied["prepaid"]]})
    prepaid = listed["InstanceSet"][0]
    assert prepaid["RenewFlag"] == "NOTIFY_AND_AUTO_RENEW"
    assert prepaid["ExpiredTime"]
    assert prepaid["DataDisks"][0]["DiskSize"] == 100
    seed = _check(fresh_emulator, "cvm", "DescribeInstances", {"InstanceIds": [SEED_INSTANCE]})[
        "InstanceSet"
    ][0]
    assert seed["RenewFlag"] is None  # pay-as-you-go: null, as Tencent sends it
    assert seed["ExpiredTime"] is None


def test_mutating_replies(fresh_emulator: EmulatorProcess, varied: dict[str, str]) -> None:
    client = fresh_emulator.cvm_client()
    instance_id = varied["public"]
    steps: list[tuple[str, dict[str, Any], str | None]] = [
        ("ModifyInstancesAttribute", {"InstanceIds": [instance_id], "InstanceName": "renamed"}, "RUNNING"),
        (
            "ModifyInstancesAttribute",
            {"InstanceIds": [instance_id], "DisableApiTermination": False},
            "RUNNING",
        ),
        ("StopInstances", {"InstanceIds": [instance_id], "StopType": "SOFT_FIRST"}, "STOPPED"),
        ("StartInstances", {"InstanceIds": [instance_id]}, "RUNNING"),
        ("RebootInstances", {"InstanceIds": [instance_id], "StopType": "HARD"}, "RUNNING"),
        (
            "ResetInstance",
            {
                "InstanceId": instance_id,
                "ImageId": "img-9id7emv7",
                "LoginSettings": {"Password": "Windows-Pass-123"},
            },
            "RUNNING",
        ),
        ("TerminateInstances", {"InstanceIds": [instance_id]}, None),
    ]
    for action, params, state in steps:
        assert set(_check(fresh_emulator, "cvm", action, params)) == {"RequestId"}
        wait_for_instance(client, instance_id, state)
    dry = _check(
        fresh_emulator,
        "cvm",
        "RunInstances",
        {"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-n7nyt2d7", "DryRun": True},
    )
    assert dry["InstanceIdSet"] == []


def test_the_sdk_warning_guard_catches_unknown_members() -> None:
    from tencentcloud.cvm.v20170312 import models

    reply = {"TotalCount": 1, "InstanceSet": [{"InstanceId": "ins-2n9bmcww", "Bogus": 1}], "RequestId": "r"}
    with pytest.raises(AssertionError, match="useless"), no_sdk_warnings():
        models.DescribeInstancesResponse()._deserialize(reply)


def test_the_checker_catches_what_it_should() -> None:
    good = {"TotalCount": 0, "InstanceSet": [], "RequestId": "x"}
    assert reply_problems("cvm", "DescribeInstances", good) == []
    assert reply_problems("cvm", "DescribeInstances", {**good, "Extra": 1}) == [
        "Response.Extra: not a member of DescribeInstancesResponse"
    ]
    assert reply_problems("cvm", "DescribeInstances", {**good, "TotalCount": "0"}) != []
    assert reply_problems("cvm", "DescribeInstances", {"InstanceSet": [], "RequestId": "x"}) != []
    assert (
        reply_problems(
            "cvm", "DescribeZones", {"TotalCount": 1, "ZoneSet": [{"Zone": "z"}], "RequestId": "x"}
        )
        != []
    )
