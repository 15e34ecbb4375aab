"""RunInstances: ClientToken idempotency, DryRun, InstanceCount, naming, passwords, addresses, errors."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from tests.emulator.model_support import Model
from tests.emulator.sdk_support import no_sdk_warnings, wait_for_instance
from tests.support.emulator import EmulatorProcess


@pytest.fixture
def model() -> Model:
    return Model()


def _total(model: Model) -> int:
    return int(model.call("DescribeInstances")["TotalCount"])


# ---------------------------------------------------------------- idempotency and dry runs


def test_repeated_client_token_returns_the_original_ids_and_creates_nothing(model: Model) -> None:
    first = model.run(2, ClientToken="token-1")
    assert len(first) == 2
    again = model.run(2, ClientToken="token-1", InstanceName="different")
    assert again == first
    assert _total(model) == 3  # the seed instance plus two
    assert model.run(1, ClientToken="token-2") != first


def test_client_tokens_belong_to_one_account(model: Model) -> None:
    mine = model.run(1, ClientToken="shared")
    request = {"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-n7nyt2d7", "ClientToken": "shared"}
    theirs = model.call("RunInstances", request, account="AKIDEMULATOROTHER")["InstanceIdSet"]
    assert theirs != mine


def test_client_token_limits(model: Model) -> None:
    assert model.error("RunInstances", _request(ClientToken="x" * 65)).code == "InvalidClientToken.TooLong"
    model.run(1, ClientToken="x" * 64)


def test_a_failed_call_does_not_consume_its_token(model: Model) -> None:
    assert model.error("RunInstances", _request(ClientToken="t", ImageId="img-zzzzzzzz")).code == (
        "InvalidImageId.NotFound"
    )
    assert len(model.run(1, ClientToken="t")) == 1


def test_dry_run_checks_everything_and_creates_nothing(model: Model) -> None:
    assert model.call("RunInstances", _request(DryRun=True, InstanceCount=3)) == {"InstanceIdSet": []}
    assert _total(model) == 1
    assert model.error("RunInstances", _request(DryRun=True, InstanceType="NOPE.X1")).code == (
        "InvalidParameterValue.InstanceTypeNotFound"
    )
    # a dry run does not record its token either
    model.call("RunInstances", _request(DryRun=True, ClientToken="dry"))
    assert len(model.run(1, ClientToken="dry")) == 1


# ---------------------------------------------------------------- naming


@pytest.mark.parametrize(
    ("template", "count", "names"),
    [
        (None, 1, ["未命名"]),
        (None, 3, ["未命名1", "未命名2", "未命名3"]),
        ("server_", 2, ["server_1", "server_2"]),
        ("solo", 1, ["solo"]),
        ("server_{R:3}", 2, ["server_3", "server_4"]),
        ("server_{R:3}", 1, ["server_3"]),
        ("server_{R:3,F:3}", 2, ["server_003", "server_004"]),
        ("app_{R:99,F:2}", 2, ["app_99", "app_100"]),
        ("a{R:1}-b{R:10}", 2, ["a1-b10", "a2-b11"]),
        ("web{}", 2, ["web{}1", "web{}2"]),  # not a pattern: plain text, suffixes appended
    ],
)
def test_names(model: Model, template: str | None, count: int, names: list[str]) -> None:
    extra = {} if template is None else {"InstanceName": template}
    ids = model.run(count, **extra)
    assert [model.instance(instance_id)["InstanceName"] for instance_id in ids] == names


def test_name_length_limit(model: Model) -> None:
    assert model.error("RunInstances", _request(InstanceName="n" * 129)).code == "InvalidInstanceName.TooLong"


# ---------------------------------------------------------------- passwords and login settings


@pytest.mark.parametrize(
    ("image", "password", "ok"),
    [
        ("img-n7nyt2d7", "abcdefg1", True),  # Linux: 8 characters, 2 classes
        ("img-n7nyt2d7", "abcdefgh", False),  # one class
        ("img-n7nyt2d7", "abc1", False),  # too short
        ("img-n7nyt2d7", "a1" * 16, False),  # 32: too long
        ("img-n7nyt2d7", "abcdefg 1", False),  # space is not allowed
        ("img-9id7emv7", "964322396.cda", True),  # Windows: the legacy example's password
        ("img-9id7emv7", "abcdefgh1234", False),  # Windows needs 3 classes
        ("img-9id7emv7", "Abc1!", False),  # Windows needs 12 characters
    ],
)
def test_password_rules_follow_the_image_platform(model: Model, image: str, password: str, ok: bool) -> None:
    request = _request(ImageId=image, LoginSettings={"Password": password})
    if ok:
        [instance_id] = model.call("RunInstances", request)["InstanceIdSet"]
        item = model.instance(instance_id)
        assert item["LoginSettings"] == {}
        assert password not in json.dumps(item, ensure_ascii=False)
    else:
        error = model.error("RunInstances", request)
        assert error.code == "InvalidPassword"
        assert password not in error.message_en


def test_login_settings_are_mutually_exclusive(model: Model) -> None:
    both = _request(LoginSettings={"Password": "abcdefg1", "KeyIds": ["skey-abcdefgh"]})
    assert model.error("RunInstances", both).code == "InvalidParameterCombination"
    keep = _request(LoginSettings={"KeepImageLogin": "true", "Password": "abcdefg1"})
    assert model.error("RunInstances", keep).code == "InvalidParameterCombination"


def test_key_login_is_shown_but_not_on_windows(model: Model) -> None:
    [instance_id] = model.run(1, LoginSettings={"KeyIds": ["skey-abcdefgh"]})
    assert model.instance(instance_id)["LoginSettings"] == {"KeyIds": ["skey-abcdefgh"]}
    windows = _request(ImageId="img-9id7emv7", LoginSettings={"KeyIds": ["skey-abcdefgh"]})
    assert model.error("RunInstances", windows).code == "UnsupportedOperation.KeyPairUnsupportedWindows"
    assert model.error("RunInstances", _request(LoginSettings={"KeyIds": ["key1"]})).code == (
        "InvalidKeyPairId.Malformed"
    )


# ---------------------------------------------------------------- addresses


def test_private_ips_come_from_the_subnet_and_are_distinct(model: Model) -> None:
    ids = model.run(5)
    addresses = [model.instance(i)["PrivateIpAddresses"][0] for i in ids]
    assert len(set(addresses)) == 5
    subnet = ipaddress.ip_network("172.16.16.0/20")
    assert all(ipaddress.ip_address(address) in subnet for address in addresses)
    assert "172.16.16.4" not in addresses  # the seed instance's address


def test_explicit_vpc_subnet_and_private_ip(model: Model) -> None:
    vpc = {"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g3z", "PrivateIpAddresses": ["10.0.1.50"]}
    [instance_id] = model.run(1, VirtualPrivateCloud=vpc)
    item = model.instance(instance_id)
    assert item["VirtualPrivateCloud"] == {
        "VpcId": "vpc-2x7lhtse",
        "SubnetId": "subnet-a1pp0g3z",
        "AsVpcGateway": False,
    }
    assert item["PrivateIpAddresses"] == ["10.0.1.50"]
    assert model.error("RunInstances", _request(VirtualPrivateCloud=vpc)).code == "VpcIpIsUsed"


@pytest.mark.parametrize(
    ("vpc", "code"),
    [
        ({"VpcId": "vpc-1", "SubnetId": "subnet-a1pp0g3z"}, "InvalidParameterValue.VpcIdMalformed"),
        ({"VpcId": "vpc-2x7lhtse", "SubnetId": "sub"}, "InvalidParameterValue.SubnetIdMalformed"),
        ({"VpcId": "vpc-zzzzzzzz", "SubnetId": "subnet-a1pp0g3z"}, "InvalidParameterValue.VpcIdNotExist"),
        ({"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-zzzzzzzz"}, "InvalidParameterValue.SubnetNotExist"),
        (
            {"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-nv3ex0mo"},
            "InvalidParameterValue.VpcIdSubnetIdNotMatch",
        ),
        (
            {"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g4z"},
            "InvalidParameterValue.VpcIdZoneIdNotMatch",
        ),
        (
            {"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g3z", "PrivateIpAddresses": ["10.0.9.9"]},
            "VpcAddrNotInSubNet",
        ),
        (
            {"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g3z", "PrivateIpAddresses": ["10.0.1"]},
            "InvalidParameterValue.IPAddressMalformed",
        ),
        (
            {
                "VpcId": "vpc-2x7lhtse",
                "SubnetId": "subnet-a1pp0g3z",
                "PrivateIpAddresses": ["10.0.1.7", "10.0.1.8"],
            },
            "InvalidParameterValue.AmountNotEqual",
        ),
    ],
)
def test_network_errors(model: Model, vpc: dict[str, Any], code: str) -> None:
    assert model.error("RunInstances", _request(VirtualPrivateCloud=vpc)).code == code


def test_a_full_subnet_fails_before_creating_anything(model: Model) -> None:
    # subnet-a1pp0g3z is a /24: 253 usable addresses
    model.run(253, VirtualPrivateCloud={"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g3z"})
    error = model.error(
        "RunInstances", _request(VirtualPrivateCloud={"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g3z"})
    )
    assert error.code == "FailedOperation.NoAvailableIpAddressCountInSubnet"


@pytest.mark.parametrize(
    ("internet", "public"),
    [
        (None, False),
        ({"InternetMaxBandwidthOut": 0}, False),
        ({"InternetMaxBandwidthOut": 1}, True),  # above 0 Mbps a public IP is the default
        ({"InternetMaxBandwidthOut": 1, "PublicIpAssigned": True}, True),
        ({"InternetMaxBandwidthOut": 5, "PublicIpAssigned": False}, False),
    ],
)
def test_public_ip_rules(model: Model, internet: dict[str, Any] | None, public: bool) -> None:
    extra = {} if internet is None else {"InternetAccessible": internet}
    [instance_id] = model.run(1, **extra)
    item = model.instance(instance_id)
    if public:
        [address] = item["PublicIpAddresses"]
        assert ipaddress.ip_address(address) in ipaddress.ip_network("119.29.0.0/16")
    else:
        assert item["PublicIpAddresses"] is None
    assert item["InternetAccessible"]["PublicIpAssigned"] is public


def test_no_public_ip_without_bandwidth(model: Model) -> None:
    request = _request(InternetAccessible={"InternetMaxBandwidthOut": 0, "PublicIpAssigned": True})
    assert model.error("RunInstances", request).code == "InvalidParameterCombination"


# ---------------------------------------------------------------- defaults and other checks


def test_defaults(model: Model) -> None:
    [instance_id] = model.call(
        "RunInstances", {"Placement": {"Zone": "ap-guangzhou-4"}, "ImageId": "img-n7nyt2d7"}
    )["InstanceIdSet"]
    item = model.instance(instance_id)
    assert item["InstanceChargeType"] == "POSTPAID_BY_HOUR"
    assert item["RenewFlag"] is None
    assert item["ExpiredTime"] is None
    assert item["SystemDisk"]["DiskType"] == "CLOUD_PREMIUM"
    assert item["SystemDisk"]["DiskSize"] == 50
    assert item["VirtualPrivateCloud"]["VpcId"] == "vpc-evvn0y6d"  # the default VPC
    assert item["VirtualPrivateCloud"]["SubnetId"] == "subnet-3gkp9x2d"  # its default subnet in zone 4
    assert item["SecurityGroupIds"] == ["sg-5ythgemh"]  # the default security group
    assert item["Placement"] == {"Zone": "ap-guangzhou-4", "ProjectId": 0}
    assert item["InstanceName"] == "未命名"


def test_the_legacy_create_example(model: Model) -> None:
    """The legacy API's create body, as the service would translate it into RunInstances."""
    [instance_id] = model.call(
        "RunInstances",
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
            "EnhancedService": {"SecurityService": {"Enabled": False}, "MonitorService": {"Enabled": False}},
        },
    )["InstanceIdSet"]
    model.settle()
    item = model.instance(instance_id)
    assert (item["InstanceName"], item["CPU"], item["Memory"], item["InstanceState"]) == (
        "123",
        1,
        8,
        "RUNNING",
    )
    assert item["OsName"] == "Windows Server 2016 数据中心版 64位中文版"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Placement": None}, "MissingParameter"),
        ({"Placement": {"Zone": "ap-shanghai-2"}}, "InvalidZone.MismatchRegion"),
        ({"ImageId": None}, "MissingParameter"),
        ({"ImageId": "img-1"}, "InvalidImageId.Malformed"),
        ({"InstanceType": "m1-small"}, "InvalidInstanceType.Malformed"),
        (
            {"InstanceType": "MA2.SMALL8", "Placement": {"Zone": "ap-guangzhou-6"}},
            "ResourceNotFound.InvalidZoneInstanceType",
        ),
        ({"InstanceCount": 0}, "InvalidParameterValue.Range"),
        ({"InstanceCount": 501}, "InvalidParameterValue.Range"),
        ({"InstanceCount": 2, "MinCount": 3}, "InvalidParameterValue.InvalidParameterMinCount"),
        ({"InstanceChargeType": "CDHPAID"}, "InvalidParameterValue"),
        ({"InstanceChargeType": "PREPAID"}, "MissingParameter"),
        ({"InstanceChargeType": "PREPAID", "InstanceChargePrepaid": {"Period": 13}}, "InvalidPeriod"),
        ({"SystemDisk": {"DiskSize": 10}}, "InvalidParameterValue.Range"),
        ({"SystemDisk": {"DiskType": "FLOPPY"}}, "InvalidParameterValue"),
        ({"DataDisks": [{"DiskSize": 5}]}, "InvalidParameterValue.Range"),
        ({"SecurityGroupIds": ["sg-zzzzzzzz"]}, "InvalidSecurityGroupId.NotFound"),
        ({"SecurityGroupIds": ["sg-bad"]}, "InvalidSgId.Malformed"),
        ({"InternetAccessible": {"InternetChargeType": "FREE"}}, "InvalidParameterValue"),
        ({"UserData": "%%%"}, "InvalidParameterValue.InvalidUserDataFormat"),
        ({"HostName": "-bad"}, "InvalidParameterValue.IllegalHostName"),
        ({"LaunchTemplate": {"LaunchTemplateId": "lt-12345678"}}, "UnsupportedOperation"),
    ],
)
def test_run_errors(model: Model, params: dict[str, Any], code: str) -> None:
    assert model.error("RunInstances", _request(**params)).code == code
    assert _total(model) == 1  # nothing was created


def test_data_disks_tags_and_host_names(model: Model) -> None:
    [instance_id] = model.run(
        1,
        DataDisks=[{"DiskSize": 100, "DiskType": "CLOUD_SSD"}],
        TagSpecification=[{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "dev"}]}],
        HostName="node-{R:7}",
    )
    item = model.instance(instance_id)
    assert item["DataDisks"][0]["DiskSize"] == 100
    assert item["DataDisks"][0]["DiskType"] == "CLOUD_SSD"
    assert item["DataDisks"][0]["DiskId"].startswith("disk-")
    assert item["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert item["HostName"] == "node-7"


# ---------------------------------------------------------------- end to end


def test_client_token_through_the_sdk(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.cvm.v20170312 import models

    fresh_emulator.set_throttle(False)
    client = fresh_emulator.cvm_client()
    request = models.RunInstancesRequest()
    request.Placement = models.Placement()
    request.Placement.Zone = "ap-guangzhou-3"
    request.ImageId = "img-n7nyt2d7"
    request.InstanceCount = 2
    request.InstanceName = "web-{R:1,F:2}"
    request.ClientToken = "e2e-token"
    request.LoginSettings = models.LoginSettings()
    request.LoginSettings.Password = "Sup3r-secret!"
    with no_sdk_warnings():
        first = client.RunInstances(request).InstanceIdSet
        second = client.RunInstances(request).InstanceIdSet
    assert first == second
    names = sorted(wait_for_instance(client, i, "RUNNING").InstanceName for i in first)
    assert names == ["web-01", "web-02"]
    listing = models.DescribeInstancesRequest()
    assert client.DescribeInstances(listing).TotalCount == 3
    assert "Sup3r-secret!" not in fresh_emulator.log_text()


def test_dry_run_through_the_sdk_in_get_mode(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.cvm.v20170312 import models

    client = fresh_emulator.cvm_client(method="GET")
    request = models.RunInstancesRequest()
    request.from_json_string(
        json.dumps({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-n7nyt2d7", "DryRun": True})
    )
    reply = client.RunInstances(request)
    assert reply.InstanceIdSet == []
    assert reply.RequestId


def _request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-n7nyt2d7",
        "InstanceType": "S5.MEDIUM4",
    }
    for key, value in overrides.items():
        if value is None:
            request.pop(key, None)
        else:
            request[key] = value
    return request
