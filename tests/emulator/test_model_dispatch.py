"""World.dispatch: service/action/version/region checks, request validation against the spec, languages."""

from __future__ import annotations

import pytest

from tests.emulator.model_support import OTHER, Model


@pytest.fixture
def model() -> Model:
    return Model()


def test_unknown_action_is_invalid_action_per_service(model: Model) -> None:
    assert model.error("DescribeNothing").code == "InvalidAction"
    # a CVM action asked of the VPC service does not exist there, and vice versa
    assert model.error("DescribeInstances", service="vpc").code == "InvalidAction"
    assert model.error("DescribeVpcs", service="cvm").code == "InvalidAction"


def test_wrong_version_is_no_such_version(model: Model) -> None:
    error = model.error("DescribeInstances", version="2099-01-01")
    assert error.code == "NoSuchVersion"
    assert "2099-01-01" in error.message_en


@pytest.mark.parametrize(
    ("region", "code"),
    [
        ("", "MissingParameter"),
        ("ap-nowhere", "InvalidRegion.NotFound"),
        ("ap-hongkong", "UnsupportedRegion"),  # listed in the fixtures but offering no service
    ],
)
def test_region_errors(model: Model, region: str, code: str) -> None:
    assert model.error("DescribeInstances", region=region).code == code


def test_unknown_parameter_names_the_parameter(model: Model) -> None:
    error = model.error("DescribeInstances", {"Limit": 1, "Fuzzy": "x"})
    assert error.code == "UnknownParameter"
    assert error.message_en == "The parameter `Fuzzy` is not recognized."


def test_unknown_nested_parameter_has_its_path(model: Model) -> None:
    error = model.error(
        "RunInstances", {"Placement": {"Zone": "ap-guangzhou-3", "Rack": "x"}, "ImageId": "img-n7nyt2d7"}
    )
    assert error.code == "UnknownParameter"
    assert "`Placement.Rack`" in error.message_en


def test_missing_required_parameter(model: Model) -> None:
    error = model.error("StopInstances", {})
    assert error.code == "MissingParameter"
    assert error.message_en == "The request is missing a required parameter `InstanceIds`."
    nested = model.error("DescribeInstances", {"Filters": [{"Values": ["x"]}]})
    assert nested.code == "MissingParameter"
    assert "`Filters.0.Name`" in nested.message_en


def test_get_mode_strings_are_coerced_by_the_spec(model: Model) -> None:
    reply = model.call("DescribeInstances", {"Limit": "1", "Offset": "0"})
    assert reply["TotalCount"] == 1
    # booleans as Python's str() of them (the SDK's GET mode) and as lower case
    ids = model.run(1, DryRun="True")
    assert ids == []
    assert model.run(1, DryRun="false") != []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Limit": "ten"}, "InvalidParameterValue"),
        ({"Limit": True}, "InvalidParameterValue"),
        ({"Limit": 1.5}, "InvalidParameterValue"),
        ({"InstanceIds": "ins-2n9bmcww"}, "InvalidParameter"),
        ({"Filters": {"Name": "zone"}}, "InvalidParameter"),
        ({"Filters": ["zone"]}, "InvalidParameter"),
        ({"InstanceIds": [["ins-2n9bmcww"]]}, "InvalidParameter"),
    ],
)
def test_wrong_types(model: Model, params: dict[str, object], code: str) -> None:
    assert model.error("DescribeInstances", params).code == code


def test_password_values_never_appear_in_errors(model: Model) -> None:
    request = {
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-n7nyt2d7",
        "LoginSettings": {"Password": True},
    }
    error = model.error("RunInstances", request)
    assert error.code == "InvalidParameterValue"
    assert "True" not in error.message_en


def test_nulls_count_as_absent(model: Model) -> None:
    assert model.call("DescribeInstances", {"Limit": None, "Filters": None})["TotalCount"] == 1


def test_messages_follow_the_language(model: Model) -> None:
    error = model.error("DescribeInstances", {"Bogus": 1})
    assert error.message("en-US") == "The parameter `Bogus` is not recognized."
    assert error.message("zh-CN") == "参数`Bogus`无法识别。"


def test_zone_and_family_names_are_localised(model: Model) -> None:
    zh = model.call("DescribeZones", language="zh-CN")["ZoneSet"]
    en = model.call("DescribeZones", language="en-US")["ZoneSet"]
    assert {
        "Zone": "ap-guangzhou-3",
        "ZoneName": "广州三区",
        "ZoneId": "100003",
        "ZoneState": "AVAILABLE",
    } in zh
    assert {
        "Zone": "ap-guangzhou-3",
        "ZoneName": "Guangzhou Zone 3",
        "ZoneId": "100003",
        "ZoneState": "AVAILABLE",
    } in en
    families_zh = model.call("DescribeInstanceFamilyConfigs")["InstanceFamilyConfigSet"]
    families_en = model.call("DescribeInstanceFamilyConfigs", language="en-US")["InstanceFamilyConfigSet"]
    assert {"InstanceFamilyName": "内存型MA2", "InstanceFamily": "MA2"} in families_zh
    assert {"InstanceFamilyName": "MEM optimized M1", "InstanceFamily": "M1"} in families_en


def test_instance_type_configs_and_filters(model: Model) -> None:
    configs = model.call("DescribeInstanceTypeConfigs")["InstanceTypeConfigSet"]
    assert {
        "Zone": "ap-guangzhou-3",
        "InstanceType": "MA2.SMALL8",
        "InstanceFamily": "MA2",
        "GPU": 0,
        "CPU": 1,
        "Memory": 8,
        "FPGA": 0,
        "GpuCount": 0.0,
    } in configs
    ma2 = model.call(
        "DescribeInstanceTypeConfigs",
        {
            "Filters": [
                {"Name": "instance-family", "Values": ["MA2"]},
                {"Name": "zone", "Values": ["ap-guangzhou-3"]},
            ]
        },
    )["InstanceTypeConfigSet"]
    assert sorted(c["InstanceType"] for c in ma2) == ["MA2.LARGE32", "MA2.MEDIUM16", "MA2.SMALL8"]
    beijing = model.call("DescribeInstanceTypeConfigs", region="ap-beijing")["InstanceTypeConfigSet"]
    assert not [c for c in beijing if c["InstanceFamily"] == "MA2"]
    assert model.error(
        "DescribeInstanceTypeConfigs", {"Filters": [{"Name": "cpu", "Values": ["1"]}]}
    ).code == ("InvalidFilter")
    too_many = {"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}]}
    assert model.error("DescribeInstanceTypeConfigs", too_many).code == "InvalidFilterValue.LimitExceeded"


def test_describe_images(model: Model) -> None:
    reply = model.call("DescribeImages", {"ImageIds": ["img-9id7emv7", "img-n7nyt2d7"]})
    assert reply["TotalCount"] == 2
    names = {image["ImageId"]: image["OsName"] for image in reply["ImageSet"]}
    assert names == {
        "img-9id7emv7": "Windows Server 2016 数据中心版 64位中文版",
        "img-n7nyt2d7": "CentOS 8.2 64位",
    }
    # platform is a fuzzy, case-insensitive match ("centos" would also find TencentOS)
    ubuntu = model.call("DescribeImages", {"Filters": [{"Name": "platform", "Values": ["UBUN"]}]})
    assert {image["Platform"] for image in ubuntu["ImageSet"]} == {"Ubuntu"}
    paged = model.call("DescribeImages", {"Limit": 2, "Offset": 1})
    assert len(paged["ImageSet"]) == 2
    assert paged["TotalCount"] >= 5
    assert model.error("DescribeImages", {"ImageIds": ["img-1"]}).code == "InvalidImageId.Malformed"
    both = {"ImageIds": ["img-9id7emv7"], "Filters": [{"Name": "platform", "Values": ["x"]}]}
    assert (
        model.error("DescribeImages", both).code == "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
    )
    assert (
        model.error("DescribeImages", {"Filters": [{"Name": "os", "Values": ["x"]}]}).code == "InvalidFilter"
    )


def test_vpc_actions(model: Model) -> None:
    vpcs = model.call("DescribeVpcs", service="vpc")
    assert [vpc["VpcName"] for vpc in vpcs["VpcSet"]] == ["Default-VPC", "demo-app-vpc"]
    by_name = model.call(
        "DescribeVpcs", {"Filters": [{"Name": "vpc-name", "Values": ["default"]}]}, service="vpc"
    )
    assert [vpc["VpcId"] for vpc in by_name["VpcSet"]] == ["vpc-evvn0y6d"]
    subnet = model.call("DescribeSubnets", {"SubnetIds": ["subnet-nv3ex0mo"]}, service="vpc")["SubnetSet"][0]
    assert subnet["CidrBlock"] == "172.16.16.0/20"
    assert subnet["Zone"] == "ap-guangzhou-3"
    assert subnet["TotalIpAddressCount"] == 4093
    assert subnet["AvailableIpAddressCount"] == 4092  # the seed instance holds 172.16.16.4
    groups = model.call("DescribeSecurityGroups", {"Limit": "1", "Offset": "1"}, service="vpc")
    assert groups["TotalCount"] == 2
    assert [g["SecurityGroupId"] for g in groups["SecurityGroupSet"]] == ["sg-n5ihii7d"]


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("DescribeVpcs", {"VpcIds": ["vpc-1"]}, "InvalidParameterValue.Malformed"),
        ("DescribeVpcs", {"VpcIds": ["vpc-zzzzzzzz"]}, "ResourceNotFound"),
        (
            "DescribeVpcs",
            {"Filters": [{"Name": "name", "Values": ["x"]}]},
            "InvalidParameter.FilterInvalidKey",
        ),
        (
            "DescribeVpcs",
            {"VpcIds": ["vpc-evvn0y6d"], "Filters": [{"Name": "vpc-id", "Values": ["x"]}]},
            "InvalidParameter.Coexist",
        ),
        ("DescribeVpcs", {"Limit": "many"}, "InvalidParameterValue.Malformed"),
        ("DescribeVpcs", {"Limit": "101"}, "InvalidParameterValue.Range"),
        ("DescribeSubnets", {"SubnetIds": ["subnet-x"]}, "InvalidParameterValue.Malformed"),
        ("DescribeSecurityGroups", {"SecurityGroupIds": ["sg-zzzzzzzz"]}, "ResourceNotFound"),
    ],
)
def test_vpc_errors(model: Model, action: str, params: dict[str, object], code: str) -> None:
    assert model.error(action, params, service="vpc").code == code


def test_other_account_has_its_own_networks(model: Model) -> None:
    vpcs = model.call("DescribeVpcs", service="vpc", account=OTHER)["VpcSet"]
    assert [vpc["VpcId"] for vpc in vpcs] == ["vpc-0th3rgz1"]
