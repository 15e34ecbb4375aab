"""The legacy API's examples (shared/seed/tencent-compute-api.md) work verbatim against the fixtures.

Each legacy call is made as the Tencent call the service sends for it, through the real SDK, in the
order a reader of that document would try them; the seed instance matches the legacy list example.
"""

from __future__ import annotations

from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.vpc.v20170312 import models as vpc_models

from tests.emulator.sdk_support import no_sdk_warnings, wait_for_instance
from tests.support.emulator import EmulatorProcess

SEED = "ins-2n9bmcww"

# The fields of the legacy list example's item that come straight from DescribeInstances.
LEGACY_LIST_ITEM = {
    "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 1196468},
    "InstanceId": "ins-2n9bmcww",
    "InstanceType": "MA2.SMALL8",
    "CPU": 1,
    "Memory": 8,
    "RestrictState": "NORMAL",
    "InstanceName": "123",
    "InstanceChargeType": "POSTPAID_BY_HOUR",
    "PrivateIpAddresses": ["172.16.16.4"],
    "PublicIpAddresses": ["119.29.162.50"],
    "ImageId": "img-9id7emv7",
    "CreatedTime": "2021-08-27T07:11:56Z",
    "OsName": "Windows Server 2016 数据中心版 64位中文版",
    "SecurityGroupIds": ["sg-5ythgemh"],
    "LoginSettings": {},
    "InstanceState": "RUNNING",
    "StopChargingMode": "NOT_APPLICABLE",
    "Uuid": "e9c8f253-a621-40d5-9615-8ee7a2d53e84",
    "LatestOperation": "ResetInstancesPassword",
    "LatestOperationRequestId": "bfa1d715-39c3-43e1-855f-2ee87e541264",
    "DisasterRecoverGroupId": "",
    "CamRoleName": "",
}


def _request(model_type: type, body: dict[str, object]) -> object:
    request = model_type()
    request._deserialize(body)
    return request


def test_legacy_examples_in_order(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.set_throttle(False)
    cvm = fresh_emulator.cvm_client()
    vpc = fresh_emulator.vpc_client()

    # list: Region ap-guangzhou, PageSize 10, PageNum 0
    with no_sdk_warnings():
        listing = cvm.DescribeInstances(
            _request(cvm_models.DescribeInstancesRequest, {"Offset": 0, "Limit": 10})
        )
    assert listing.TotalCount == 1
    item = listing.InstanceSet[0]._serialize()
    for key, value in LEGACY_LIST_ITEM.items():
        assert item[key] == value, key
    assert {k: item["SystemDisk"][k] for k in ("DiskType", "DiskId", "DiskSize")} == {
        "DiskType": "CLOUD_PREMIUM",
        "DiskId": "disk-m361x8sm",
        "DiskSize": 50,
    }
    assert item["InternetAccessible"]["InternetChargeType"] == "TRAFFIC_POSTPAID_BY_HOUR"
    assert item["InternetAccessible"]["InternetMaxBandwidthOut"] == 1
    assert (item["VirtualPrivateCloud"]["VpcId"], item["VirtualPrivateCloud"]["SubnetId"]) == (
        "vpc-evvn0y6d",
        "subnet-nv3ex0mo",
    )
    vpcs = vpc.DescribeVpcs(_request(vpc_models.DescribeVpcsRequest, {"VpcIds": ["vpc-evvn0y6d"]}))
    assert [v.VpcName for v in vpcs.VpcSet] == ["Default-VPC"]  # the list's VpcName
    families = cvm.DescribeInstanceFamilyConfigs(cvm_models.DescribeInstanceFamilyConfigsRequest())
    assert {f.InstanceFamily: f.InstanceFamilyName for f in families.InstanceFamilyConfigSet}[
        "MA2"
    ] == "内存型MA2"

    # update: InstanceName 1234
    cvm.ModifyInstancesAttribute(
        _request(cvm_models.ModifyInstancesAttributeRequest, {"InstanceIds": [SEED], "InstanceName": "1234"})
    )
    wait_for_instance(cvm, SEED, "RUNNING")

    # reset: img-n7nyt2d7, CLOUD_PREMIUM 50, password, enhanced services off
    cvm.ResetInstance(
        _request(
            cvm_models.ResetInstanceRequest,
            {
                "InstanceId": SEED,
                "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
                "LoginSettings": {"Password": "964322396.cda"},
                "EnhancedService": {
                    "SecurityService": {"Enabled": False},
                    "MonitorService": {"Enabled": False},
                },
                "ImageId": "img-n7nyt2d7",
            },
        )
    )
    inspected = wait_for_instance(cvm, SEED, "RUNNING")  # inspect
    assert (inspected.InstanceName, inspected.ImageId, inspected.OsName) == (
        "1234",
        "img-n7nyt2d7",
        "CentOS 8.2 64位",
    )
    assert (inspected.LatestOperation, inspected.LatestOperationState) == ("ResetInstance", "SUCCESS")

    # turn_off (ForceStop false), turn_on
    cvm.StopInstances(_request(cvm_models.StopInstancesRequest, {"InstanceIds": [SEED], "ForceStop": False}))
    wait_for_instance(cvm, SEED, "STOPPED")
    cvm.StartInstances(_request(cvm_models.StartInstancesRequest, {"InstanceIds": [SEED]}))
    wait_for_instance(cvm, SEED, "RUNNING")

    # create
    created = cvm.RunInstances(
        _request(
            cvm_models.RunInstancesRequest,
            {
                "Placement": {"Zone": "ap-guangzhou-3"},
                "ImageId": "img-9id7emv7",
                "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
                "InternetAccessible": {"InternetMaxBandwidthOut": 1, "PublicIpAssigned": True},
                "SecurityGroupIds": ["sg-n5ihii7d"],
                "InstanceCount": 1,
                "InstanceName": "123",
                "LoginSettings": {"Password": "964322396.cda"},
                "InstanceType": "MA2.SMALL8",
                "EnhancedService": {
                    "SecurityService": {"Enabled": False},
                    "MonitorService": {"Enabled": False},
                },
            },
        )
    )
    [new_id] = created.InstanceIdSet
    assert wait_for_instance(cvm, new_id, "RUNNING").PublicIpAddresses

    # delete
    cvm.TerminateInstances(_request(cvm_models.TerminateInstancesRequest, {"InstanceIds": [SEED]}))
    wait_for_instance(cvm, SEED, None)
