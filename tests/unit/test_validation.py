"""Request validation (issue 4 point 4): rules over real request messages, no network."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from tencent.compute.v1 import compute_pb2 as pb

from server.compute.errors import InvalidArgument
from server.validation import (
    ValidationContext,
    Violation,
    invalid_argument,
    validate_create,
    validate_delete,
    validate_inspect,
    validate_list,
    validate_request,
    validate_reset,
    validate_turn_off,
    validate_turn_on,
    validate_update,
)
from server.validation_rules import Violations, check_password, platform_of

SCOPE = {
    "TenantUuid": "system",
    "ClusterUuid": "72db4b34-1473-418f-ade4-de00b956f16b",
    "Region": "ap-guangzhou",
}
# The legacy document's request examples, byte for byte in content (the stray `cluster_uuid` is an unknown
# key: Envoy drops it, so it is dropped here too).
LEGACY_CREATE = {
    "Region": "ap-guangzhou",
    "Placement": {"Zone": "ap-guangzhou-3"},
    "ImageId": "img-9id7emv7",
    "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
    "InternetAccessible": {"InternetMaxBandwidthOut": 1, "PublicIpAssigned": True},
    "securityGroupId": ["sg-n5ihii7d"],
    "InstanceCount": 1,
    "InstanceName": "123",
    "LoginSettings": {"Password": "964322396.cda"},
    "InstanceType": "MA2.SMALL8",
    "EnhancedService": {"SecurityService": {"Enabled": False}, "MonitorService": {"Enabled": False}},
    "cluster_uuid": "a7d3bc11-e5dd-4fc3-90cf-f9bb466ba9df",
    "TenantUuid": "system",
    "ClusterUuid": "72db4b34-1473-418f-ade4-de00b956f16b",
}
LEGACY_RESET = {
    "Region": "ap-guangzhou",
    "InstanceId": "ins-2n9bmcww",
    "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
    "LoginSettings": {"Password": "964322396.cda"},
    "EnhancedService": {"SecurityService": {"Enabled": False}, "MonitorService": {"Enabled": False}},
    "ImageId": "img-n7nyt2d7",
    **SCOPE,
}
GUANGZHOU = ValidationContext(
    known_regions=frozenset({"ap-guangzhou", "ap-shanghai"}),
    known_zones=frozenset({"ap-guangzhou-3", "ap-guangzhou-4"}),
)
SECRET = "Sup3r-Secret-Pw!"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Validation must never reach the network: any connection attempt fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("validation tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def parse(message_type: type[Any], data: dict[str, Any]) -> Any:
    return json_format.ParseDict(data, message_type(), ignore_unknown_fields=True)


def create(**fields: Any) -> pb.CreateRequest:
    data = {k: v for k, v in LEGACY_CREATE.items() if k != "cluster_uuid"}
    data.update(fields)
    return parse(pb.CreateRequest, {k: v for k, v in data.items() if v is not None})


def fields(violations: list[Violation]) -> list[str]:
    return [v.field for v in violations]


def reasons(violations: list[Violation]) -> dict[str, str]:
    return {v.field: v.reason for v in violations}


# --- the legacy examples pass -----------------------------------------------------------------------------


def test_legacy_examples_are_valid() -> None:
    windows = ValidationContext(GUANGZHOU.known_regions, GUANGZHOU.known_zones, image_platform="WINDOWS")
    assert validate_create(parse(pb.CreateRequest, LEGACY_CREATE), windows) == []
    assert validate_reset(parse(pb.ResetRequest, LEGACY_RESET), GUANGZHOU) == []
    ids = {"InstanceIds": ["ins-2n9bmcww"]}
    assert validate_delete(parse(pb.DeleteRequest, {**SCOPE, **ids}), GUANGZHOU) == []
    assert validate_update(parse(pb.UpdateRequest, {**SCOPE, **ids, "InstanceName": "1234"})) == []
    assert validate_list(parse(pb.ListRequest, {**SCOPE, "PageSize": 10, "Fuzzy": "", "PageNum": 0})) == []
    assert validate_inspect(parse(pb.InspectRequest, {**SCOPE, "InstanceId": "ins-2n9bmcww"})) == []
    assert validate_turn_on(parse(pb.TurnOnRequest, {**SCOPE, **ids})) == []
    assert validate_turn_off(parse(pb.TurnOffRequest, {**SCOPE, **ids, "ForceStop": False})) == []


def test_validate_request_dispatches_by_message_type() -> None:
    assert validate_request(parse(pb.InspectRequest, {**SCOPE, "InstanceId": "ins-2n9bmcww"})) == []
    assert fields(validate_request(pb.InspectRequest())) == [
        "TenantUuid",
        "ClusterUuid",
        "Region",
        "InstanceId",
    ]
    with pytest.raises(TypeError):
        validate_request(pb.ListResponse())


# --- scope, region, zone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_type",
    [
        pb.CreateRequest,
        pb.DeleteRequest,
        pb.UpdateRequest,
        pb.ResetRequest,
        pb.ListRequest,
        pb.InspectRequest,
        pb.TurnOnRequest,
        pb.TurnOffRequest,
    ],
)
def test_every_rpc_requires_tenant_cluster_and_region(request_type: type[Any]) -> None:
    violations = validate_request(request_type())
    for name in ("TenantUuid", "ClusterUuid", "Region"):
        assert reasons(violations)[name] == "REQUIRED"
    assert all(v.description and v.description_cn for v in violations)
    assert all(re.fullmatch(r"[A-Z_]+", v.reason) for v in violations)


def test_scope_fields_have_a_sane_length() -> None:
    request = parse(pb.InspectRequest, {**SCOPE, "TenantUuid": "t" * 129, "InstanceId": "ins-2n9bmcww"})
    assert reasons(validate_inspect(request)) == {"TenantUuid": "TOO_LONG"}


@pytest.mark.parametrize(
    ("region", "reason"),
    [
        ("ap-guangzhou", None),
        ("ap-shanghai-fsi", None),
        ("na-siliconvalley", None),
        ("ap-guangzhou-3", "INVALID_FORMAT"),
        ("AP-Guangzhou", "INVALID_FORMAT"),
        ("guangzhou", "INVALID_FORMAT"),
        (" ", "REQUIRED"),
    ],
)
def test_region_format(region: str, reason: str | None) -> None:
    request = parse(pb.InspectRequest, {**SCOPE, "Region": region, "InstanceId": "ins-2n9bmcww"})
    assert reasons(validate_inspect(request)).get("Region") == reason


def test_region_that_looks_like_a_zone_says_so() -> None:
    request = parse(pb.InspectRequest, {**SCOPE, "Region": "ap-guangzhou-3", "InstanceId": "ins-2n9bmcww"})
    (violation,) = validate_inspect(request)
    assert "looks like a zone" in violation.description
    assert "可用区" in violation.description_cn


def test_region_must_be_known_when_the_server_knows_its_regions() -> None:
    request = parse(pb.InspectRequest, {**SCOPE, "Region": "eu-frankfurt", "InstanceId": "ins-2n9bmcww"})
    assert reasons(validate_inspect(request, GUANGZHOU)) == {"Region": "UNKNOWN_REGION"}
    assert validate_inspect(request) == []  # no catalog: existence is not checked


@pytest.mark.parametrize(
    ("placement", "reason"),
    [
        ({"Zone": "ap-guangzhou-3"}, None),
        ({"Zone": "ap-shanghai-2"}, "NOT_IN_REGION"),
        ({"Zone": "ap-guangzhou-7"}, "UNKNOWN_ZONE"),
        ({"Zone": "guangzhou3"}, "INVALID_FORMAT"),
        ({"Zone": "ap-guangzhou"}, "INVALID_FORMAT"),
        ({"Zone": ""}, "REQUIRED"),
        (None, "REQUIRED"),
    ],
)
def test_zone(placement: dict[str, str] | None, reason: str | None) -> None:
    request = create(Placement=placement)
    assert reasons(validate_create(request, GUANGZHOU)).get("Placement.Zone") == reason


def test_zone_is_not_blamed_for_a_bad_region() -> None:
    request = create(Region="ap-guangzhou-3")
    assert fields(validate_create(request, GUANGZHOU)) == ["Region"]


def test_project_id_must_not_be_negative() -> None:
    request = create(Placement={"Zone": "ap-guangzhou-3", "ProjectId": -1})
    assert reasons(validate_create(request)) == {"Placement.ProjectId": "OUT_OF_RANGE"}


# --- IDs --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "ins-2n9bmcw",
        "ins-2n9bmcwww",
        "ins-2N9BMCWW",
        "img-2n9bmcww",
        "ins_2n9bmcww",
        "ins-2n9bmcw!",
        "2n9bmcww",
    ],
)
def test_instance_id_format(bad: str) -> None:
    request = parse(pb.InspectRequest, {**SCOPE, "InstanceId": bad})
    (violation,) = validate_inspect(request)
    assert (violation.field, violation.reason) == ("InstanceId", "INVALID_FORMAT")
    assert "ins-" in violation.description


def test_id_lists_report_each_bad_entry_by_index() -> None:
    ids = ["ins-2n9bmcww", "ins-aaaaaaaa", "ins-2n9bmcww", "bogus", "", "ins-aaaaaaaa"]
    request = parse(pb.DeleteRequest, {**SCOPE, "InstanceIds": ids})
    violations = validate_delete(request)
    assert [(v.field, v.reason) for v in violations] == [
        ("InstanceIds[2]", "DUPLICATE"),
        ("InstanceIds[3]", "INVALID_FORMAT"),
        ("InstanceIds[4]", "REQUIRED"),
        ("InstanceIds[5]", "DUPLICATE"),
    ]
    assert "InstanceIds[0]" in violations[0].description
    assert "InstanceIds[1]" in violations[3].description_cn


def test_empty_instance_ids_are_rejected() -> None:
    assert reasons(validate_delete(parse(pb.DeleteRequest, SCOPE))) == {"InstanceIds": "REQUIRED"}
    update = parse(pb.UpdateRequest, {**SCOPE, "InstanceName": "x"})
    assert reasons(validate_update(update)) == {"InstanceIds": "REQUIRED"}


def test_turn_on_and_off_accept_either_key_as_a_union() -> None:
    for request_type, validate in (
        (pb.TurnOnRequest, validate_turn_on),
        (pb.TurnOffRequest, validate_turn_off),
    ):
        assert validate(parse(request_type, {**SCOPE, "InstanceId": ["ins-2n9bmcww"]})) == []
        both = {**SCOPE, "InstanceId": ["ins-2n9bmcww"], "InstanceIds": ["ins-2n9bmcww", "ins-aaaaaaaa"]}
        assert validate(parse(request_type, both)) == []  # overlap between the keys is fine: a union
        assert reasons(validate(parse(request_type, SCOPE))) == {"InstanceIds": "REQUIRED"}
        dup = {**SCOPE, "InstanceId": ["ins-2n9bmcww", "ins-2n9bmcww"], "InstanceIds": ["x"]}
        assert reasons(validate(parse(request_type, dup))) == {
            "InstanceId[1]": "DUPLICATE",
            "InstanceIds[0]": "INVALID_FORMAT",
        }


def test_reset_needs_instance_and_image() -> None:
    request = parse(pb.ResetRequest, SCOPE)
    assert reasons(validate_reset(request)) == {"InstanceId": "REQUIRED", "ImageId": "REQUIRED"}
    request = parse(pb.ResetRequest, {**SCOPE, "InstanceId": "ins-2n9bmcww", "ImageId": "img-9id7emv"})
    assert reasons(validate_reset(request)) == {"ImageId": "INVALID_FORMAT"}


def test_create_requires_zone_image_and_type() -> None:
    request = parse(pb.CreateRequest, SCOPE)
    assert reasons(validate_create(request)) == {
        "Placement.Zone": "REQUIRED",
        "ImageId": "REQUIRED",
        "InstanceType": "REQUIRED",
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("MA2.SMALL8", True),
        ("S5.12XLARGE128", True),
        ("S5se.LARGE8", True),
        ("CDH_1C1G", True),
        ("MA2", False),
        ("MA2.SMALL8 ", False),
        ("..", False),
    ],
)
def test_instance_type_format(value: str, ok: bool) -> None:
    assert (validate_create(create(InstanceType=value)) == []) is ok


def test_security_groups_on_create_both_keys_checked_and_counted_together() -> None:
    request = create(
        SecurityGroupIds=["sg-aaaaaaaa", "sg-bbbbbbbb", "sg-cccccccc"],
        securityGroupId=["sg-dddddddd", "sg-eeeeeeee", "sg-ffffffff", "bad"],
    )
    assert reasons(validate_create(request)) == {
        "securityGroupId[3]": "INVALID_FORMAT",
        "SecurityGroupIds": "TOO_MANY",
    }
    same = create(SecurityGroupIds=["sg-n5ihii7d"], securityGroupId=["sg-n5ihii7d"])
    assert validate_create(same) == []


# --- numbers and names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "ok"), [(None, True), (1, True), (100, True), (0, False), (101, False), (-3, False)]
)
def test_instance_count(count: int | None, ok: bool) -> None:
    violations = validate_create(create(InstanceCount=count))
    assert (violations == []) is ok
    if not ok:
        assert reasons(violations) == {"InstanceCount": "OUT_OF_RANGE"}


def test_page_num_and_size_must_not_be_negative() -> None:
    request = parse(pb.ListRequest, {**SCOPE, "PageNum": -1, "PageSize": -5})
    assert reasons(validate_list(request)) == {"PageNum": "OUT_OF_RANGE", "PageSize": "OUT_OF_RANGE"}
    assert validate_list(parse(pb.ListRequest, {**SCOPE, "PageNum": 0, "PageSize": 1000})) == []


def test_fuzzy_length() -> None:
    assert validate_list(parse(pb.ListRequest, {**SCOPE, "Fuzzy": "x" * 128})) == []
    assert reasons(validate_list(parse(pb.ListRequest, {**SCOPE, "Fuzzy": "x" * 129}))) == {
        "Fuzzy": "TOO_LONG"
    }


def test_name_lengths_differ_between_create_and_update() -> None:
    assert validate_create(create(InstanceName="名" * 128)) == []
    assert reasons(validate_create(create(InstanceName="名" * 129))) == {"InstanceName": "TOO_LONG"}
    ids = {**SCOPE, "InstanceIds": ["ins-2n9bmcww"]}
    assert validate_update(parse(pb.UpdateRequest, {**ids, "InstanceName": "n" * 60})) == []
    assert reasons(validate_update(parse(pb.UpdateRequest, {**ids, "InstanceName": "n" * 61}))) == {
        "InstanceName": "TOO_LONG"
    }


def test_update_needs_something_to_change_and_at_most_five_groups() -> None:
    ids = {**SCOPE, "InstanceIds": ["ins-2n9bmcww"]}
    assert reasons(validate_update(parse(pb.UpdateRequest, ids))) == {"InstanceName": "NOTHING_TO_UPDATE"}
    assert validate_update(parse(pb.UpdateRequest, {**ids, "SecurityGroups": ["sg-5ythgemh"]})) == []
    six = [f"sg-0000000{i}" for i in range(6)]
    assert reasons(validate_update(parse(pb.UpdateRequest, {**ids, "SecurityGroups": six}))) == {
        "SecurityGroups": "TOO_MANY"
    }


def test_client_token() -> None:
    assert validate_create(create(ClientToken="t" * 64)) == []
    assert reasons(validate_create(create(ClientToken="t" * 65))) == {"ClientToken": "TOO_LONG"}
    assert reasons(validate_create(create(ClientToken="令牌"))) == {"ClientToken": "INVALID_FORMAT"}


# --- enumerations -----------------------------------------------------------------------------------------


def test_charge_types() -> None:
    for value in ("PREPAID", "POSTPAID_BY_HOUR", "SPOTPAID", "CDHPAID", "CDCPAID"):
        prepaid = {"Period": 1} if value == "PREPAID" else None
        assert validate_create(create(InstanceChargeType=value, InstanceChargePrepaid=prepaid)) == []
    violations = validate_create(create(InstanceChargeType="MONTHLY"))
    assert reasons(violations) == {"InstanceChargeType": "UNKNOWN_VALUE"}
    assert "POSTPAID_BY_HOUR" in violations[0].description
    assert reasons(validate_create(create(InstanceChargeType="PREPAID"))) == {
        "InstanceChargePrepaid.Period": "REQUIRED"
    }
    bad_prepaid = create(InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 13, "RenewFlag": "X"})
    assert reasons(validate_create(bad_prepaid)) == {
        "InstanceChargePrepaid.Period": "UNKNOWN_VALUE",
        "InstanceChargePrepaid.RenewFlag": "UNKNOWN_VALUE",
    }


def test_internet_accessible() -> None:
    ok = {
        "InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR",
        "InternetMaxBandwidthOut": 1,
        "PublicIpAssigned": True,
    }
    assert validate_create(create(InternetAccessible=ok)) == []
    bad = {"InternetChargeType": "FREE", "InternetMaxBandwidthOut": -1}
    assert reasons(validate_create(create(InternetAccessible=bad))) == {
        "InternetAccessible.InternetChargeType": "UNKNOWN_VALUE",
        "InternetAccessible.InternetMaxBandwidthOut": "OUT_OF_RANGE",
    }
    no_bandwidth = {"InternetMaxBandwidthOut": 0, "PublicIpAssigned": True}
    assert reasons(validate_create(create(InternetAccessible=no_bandwidth))) == {
        "InternetAccessible.PublicIpAssigned": "CONFLICT"
    }
    assert validate_create(create(InternetAccessible={"InternetMaxBandwidthOut": 0})) == []


# --- disks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disk", "expected"),
    [
        ({"DiskType": "CLOUD_SSD", "DiskSize": 20}, {}),
        ({"DiskType": "CLOUD_HSSD", "DiskSize": 2048}, {}),
        ({"DiskSize": 0}, {}),  # unset: Tencent's default 50 GiB
        ({"DiskType": "CLOUD_FAST"}, {"SystemDisk.DiskType": "UNKNOWN_VALUE"}),
        ({"DiskType": "LOCAL_NVME"}, {"SystemDisk.DiskType": "UNKNOWN_VALUE"}),  # data disks only
        ({"DiskType": "CLOUD_PREMIUM", "DiskSize": 19}, {"SystemDisk.DiskSize": "OUT_OF_RANGE"}),
        ({"DiskType": "CLOUD_PREMIUM", "DiskSize": 4096}, {"SystemDisk.DiskSize": "OUT_OF_RANGE"}),
    ],
)
def test_system_disk(disk: dict[str, Any], expected: dict[str, str]) -> None:
    assert reasons(validate_create(create(SystemDisk=disk))) == expected
    reset = parse(pb.ResetRequest, {**LEGACY_RESET, "SystemDisk": disk})
    assert reasons(validate_reset(reset)) == expected


def test_data_disks() -> None:
    good = [{"DiskType": "CLOUD_PREMIUM", "DiskSize": 10}, {"DiskType": "LOCAL_NVME", "DiskSize": 32000}]
    assert validate_create(create(DataDisks=good)) == []
    bad = [{"DiskType": "CLOUD_PREMIUM"}, {"DiskType": "TAPE", "DiskSize": 32001}]
    assert reasons(validate_create(create(DataDisks=bad))) == {
        "DataDisks[0].DiskSize": "REQUIRED",
        "DataDisks[1].DiskType": "UNKNOWN_VALUE",
        "DataDisks[1].DiskSize": "OUT_OF_RANGE",
    }
    too_many = [{"DiskType": "CLOUD_SSD", "DiskSize": 100}] * 22
    assert reasons(validate_create(create(DataDisks=too_many))) == {"DataDisks": "TOO_MANY"}
    two_local = [{"DiskType": "LOCAL_BASIC", "DiskSize": 100}, {"DiskType": "LOCAL_SSD", "DiskSize": 100}]
    assert reasons(validate_create(create(DataDisks=two_local))) == {"DataDisks": "TOO_MANY"}


def test_virtual_private_cloud() -> None:
    assert (
        validate_create(create(VirtualPrivateCloud={"VpcId": "vpc-evvn0y6d", "SubnetId": "subnet-nv3ex0mo"}))
        == []
    )
    assert validate_create(create(VirtualPrivateCloud={"VpcId": "DEFAULT", "SubnetId": "DEFAULT"})) == []
    assert reasons(validate_create(create(VirtualPrivateCloud={"VpcId": "vpc-evvn0y6d"}))) == {
        "VirtualPrivateCloud.SubnetId": "REQUIRED"
    }
    ips = {"VpcId": "vpc-evvn0y6d", "SubnetId": "subnet-x", "PrivateIpAddresses": ["10.0.0.1", "10.0.0.300"]}
    assert reasons(validate_create(create(VirtualPrivateCloud=ips))) == {
        "VirtualPrivateCloud.SubnetId": "INVALID_FORMAT",
        "VirtualPrivateCloud.PrivateIpAddresses[1]": "INVALID_FORMAT",
        "VirtualPrivateCloud.PrivateIpAddresses": "CONFLICT",  # 2 addresses for 1 instance
    }
    two = {
        "VpcId": "vpc-evvn0y6d",
        "SubnetId": "subnet-nv3ex0mo",
        "PrivateIpAddresses": ["10.0.0.1", "10.0.0.2"],
    }
    assert validate_create(create(VirtualPrivateCloud=two, InstanceCount=2)) == []


# --- login settings and passwords -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "linux_ok", "windows_ok"),
    [
        ("964322396.cda", True, True),  # the legacy example: 13 chars, digits + lower + special
        ("abcdefgh", False, False),  # one class
        ("abcdefg1", True, False),  # two classes, 8 chars
        ("abcdefg1234", True, False),  # Windows needs 12 characters
        ("abcdefgh1234", True, False),  # ... and 3 classes
        ("Abcdefgh1234", True, True),
        ("Ab1!", False, False),  # too short
        ("Ab1!" * 8, False, False),  # 32 > 30
        ("Abc def 1234", False, False),  # a space is not an allowed character
        ("Abcdefgh123中", False, False),  # neither is non-ASCII
        ("Abc_def_1234", False, False),  # nor "_" (not in Tencent's list of specials)
    ],
)
def test_password_rules(password: str, linux_ok: bool, windows_ok: bool) -> None:
    for platform, ok in (("LINUX", linux_ok), ("WINDOWS", windows_ok), (None, linux_ok)):
        v = Violations()
        check_password(v, "LoginSettings.Password", password, platform)  # type: ignore[arg-type]
        assert (not v) is ok, (password, platform)
        assert all(password not in x.description and password not in x.description_cn for x in v.items)


def test_password_is_checked_by_the_image_platform_the_server_passes() -> None:
    request = create(LoginSettings={"Password": "abcdefg1"})
    assert validate_create(request) == []  # unknown platform: Linux rule
    windows = ValidationContext(image_platform="WINDOWS")
    assert reasons(validate_create(request, windows)) == {"LoginSettings.Password": "WEAK_PASSWORD"}
    reset = parse(pb.ResetRequest, {**LEGACY_RESET, "LoginSettings": {"Password": "abcdefg1"}})
    assert reasons(validate_reset(reset, windows)) == {"LoginSettings.Password": "WEAK_PASSWORD"}


def test_platform_of() -> None:
    assert platform_of("Windows") == "WINDOWS"
    assert platform_of("Windows Server 2016 数据中心版 64位中文版") == "WINDOWS"
    assert platform_of("CentOS") == "LINUX"
    assert platform_of("") is None
    assert platform_of(None) is None


def test_login_methods_are_mutually_exclusive() -> None:
    both = create(LoginSettings={"Password": SECRET, "KeyIds": ["skey-3glfot13"]})
    assert reasons(validate_create(both)) == {"LoginSettings": "CONFLICT"}
    keep = create(LoginSettings={"Password": SECRET, "KeepImageLogin": "true"})
    assert reasons(validate_create(keep)) == {"LoginSettings": "CONFLICT"}
    assert validate_create(create(LoginSettings={"Password": SECRET, "KeepImageLogin": "false"})) == []
    assert validate_create(create(LoginSettings={"KeyIds": ["skey-3glfot13"]})) == []
    assert reasons(validate_create(create(LoginSettings={"KeepImageLogin": "yes"}))) == {
        "LoginSettings.KeepImageLogin": "UNKNOWN_VALUE"
    }
    assert reasons(validate_create(create(LoginSettings={"KeyIds": ["key1"]}))) == {
        "LoginSettings.KeyIds[0]": "INVALID_FORMAT"
    }
    windows_keys = create(LoginSettings={"KeyIds": ["skey-3glfot13"]})
    assert reasons(validate_create(windows_keys, ValidationContext(image_platform="WINDOWS"))) == {
        "LoginSettings.KeyIds": "NOT_SUPPORTED"
    }


def test_a_password_never_appears_in_any_message() -> None:
    weak = "weakpassword"  # one class: rejected
    request = create(LoginSettings={"Password": weak, "KeyIds": ["skey-3glfot13"]}, Region="bad region")
    violations = validate_create(request, ValidationContext(image_platform="WINDOWS"))
    assert len(violations) >= 3
    error = invalid_argument(violations)
    texts = [error.message, error.message_cn, *(f"{v.field} {v.description}" for v in error.field_violations)]
    texts += [v.description_cn for v in violations]
    assert all(weak not in text for text in texts)


# --- the error the server raises --------------------------------------------------------------------------


def test_invalid_argument_carries_one_field_violation_per_problem() -> None:
    violations = validate_request(pb.ResetRequest())
    error = invalid_argument(violations)
    assert isinstance(error, InvalidArgument)
    assert error.code == "INVALID_ARGUMENT"
    assert [v.field for v in error.field_violations] == [
        "TenantUuid",
        "ClusterUuid",
        "Region",
        "InstanceId",
        "ImageId",
    ]
    assert error.message.startswith("invalid request (5 problems): TenantUuid: is required")
    assert "TenantUuid：必填" in error.message_cn


def test_invalid_argument_message_stays_short_for_many_problems() -> None:
    ids = [f"bad-{i}" for i in range(500)]
    violations = validate_delete(parse(pb.DeleteRequest, {**SCOPE, "InstanceIds": ids}))
    error = invalid_argument(violations)
    assert len(error.field_violations) == 500
    assert "and 490 more" in error.message
    assert "另有 490 个问题" in error.message_cn
    assert len(error.message) < 2500


# --- robustness: arbitrary input never crashes and never yields huge messages ------------------------------

text = st.text(max_size=300)


@settings(max_examples=150, deadline=None)
@given(
    region=text,
    zone=text,
    ids=st.lists(text, max_size=8),
    name=text,
    password=text,
    count=st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    size=st.integers(-(2**31), 2**31 - 1),
)
def test_arbitrary_create_input_is_handled(
    region: str, zone: str, ids: list[str], name: str, password: str, count: int | None, size: int
) -> None:
    request = pb.CreateRequest(
        TenantUuid="system",
        ClusterUuid="c",
        Region=region,
        Placement=pb.Placement(Zone=zone),
        InstanceName=name,
        SecurityGroupIds=ids,
        SystemDisk=pb.SystemDisk(DiskType=name[:20], DiskSize=size),
        LoginSettings=pb.LoginSettings(Password=password),
    )
    if count is not None:
        request.InstanceCount = count
    # The password must not show, unless it is also the text of another field (which may be echoed).
    password_is_unique = len(password) >= 4 and all(
        password not in other for other in (region, zone, name, *ids)
    )
    for violation in validate_create(request, GUANGZHOU):
        assert len(violation.description) < 400 and len(violation.description_cn) < 400
        if password_is_unique:
            assert password not in violation.description and password not in violation.description_cn
