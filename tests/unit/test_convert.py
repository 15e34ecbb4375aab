"""dict_to_message (server/transport/convert.py) against its definition, json_format.ParseDict with
ignore_unknown_fields: the same message for every DescribeInstances item the emulator sends, and the same
message or the same error for hand-picked and random inputs."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tencent.compute.v1 import compute_pb2 as pb

from server.transport.convert import dict_to_message
from tests.support.emulator import EmulatorProcess

Convert = Callable[[Mapping[str, Any], Message], Any]


def parse_dict(data: Mapping[str, Any], message: Message) -> Message:
    return json_format.ParseDict(dict(data), message, ignore_unknown_fields=True)


def outcome(
    convert: Convert,
    data: Any,
    message_type: type[Message],
    prefill: Callable[[Any], None] | None = None,
) -> tuple[Any, ...]:
    """What converting `data` gives: the message (compared with == and as deterministic bytes, so field
    presence counts too), or the error's type and text."""
    message = message_type()
    if prefill is not None:
        prefill(message)
    try:
        convert(data, message)
    except Exception as error:
        return ("error", type(error).__name__, str(error))
    return ("message", message.SerializeToString(deterministic=True), message)


def assert_same(data: Any, message_type: type[Message] = pb.Instance, **kwargs: Any) -> None:
    expected = outcome(parse_dict, data, message_type, **kwargs)
    assert outcome(dict_to_message, data, message_type, **kwargs) == expected


# --- the emulator's replies -----------------------------------------------------------------------------


def describe_all(emulator: EmulatorProcess, secret_id: str, secret_key: str, region: str) -> list[Any]:
    client = emulator.common_client(secret_id=secret_id, secret_key=secret_key, region=region)
    items: list[Any] = []
    while True:
        reply = client.call_json("DescribeInstances", {"Offset": len(items), "Limit": 100})["Response"]
        items += reply["InstanceSet"]
        if not reply["InstanceSet"] or len(items) >= reply["TotalCount"]:
            return items


class _NoParseDict:
    """Stands in for json_format in server.transport.convert: the direct path must need no help."""

    @staticmethod
    def ParseDict(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("fell back to ParseDict")


def test_every_emulator_instance_converts_as_parse_dict(
    fresh_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_emulator.set_throttle(False)
    # Beside the fixtures and a seeded fleet: data disks (an `optional` bool among them), tags, prepaid
    # charging (RenewFlag and ExpiredTime set instead of null).
    fresh_emulator.common_client().call_json(
        "RunInstances",
        {
            "Placement": {"Zone": "ap-guangzhou-3"},
            "ImageId": "img-n7nyt2d7",
            "InstanceType": "S5.MEDIUM4",
            "InstanceChargeType": "PREPAID",
            "InstanceChargePrepaid": {"Period": 1, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
            "DataDisks": [
                {"DiskSize": 50, "DiskType": "CLOUD_PREMIUM", "DeleteWithInstance": False},
                {"DiskSize": 100, "DiskType": "CLOUD_SSD"},
            ],
            "TagSpecification": [
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "team", "Value": "计算"}, {"Key": "k", "Value": ""}],
                }
            ],
            "InstanceName": "转换-conv",
            "InstanceCount": 2,
        },
    )
    fresh_emulator.seed(250, NamePrefix="conv-")
    items = []
    for secret_id, secret_key in (
        ("AKIDEMULATORDEMO", "emulator-demo-secret"),
        ("AKIDEMULATOROTHER", "emulator-other-secret"),
    ):
        for region in ("ap-guangzhou", "ap-shanghai", "ap-beijing"):
            items += describe_all(fresh_emulator, secret_id, secret_key, region)
    assert len(items) > 250
    assert any(item["DataDisks"] for item in items) and any(item["Tags"] for item in items)

    # Inspect converts one enriched item into a fresh Instance; list adds each to ListData.List.
    enriched = [{**item, "InstanceTypeName": "标准型S5"} for item in items]
    for item in enriched:
        assert_same(item)
    direct, reference = pb.ListData(), pb.ListData()
    for item in enriched:
        dict_to_message(item, direct.List.add())
        parse_dict(item, reference.List.add())
    assert direct == reference
    assert direct.SerializeToString(deterministic=True) == reference.SerializeToString(deterministic=True)

    # ... and the emulator's items are the common case the direct path exists for: no fallback.
    monkeypatch.setattr("server.transport.convert.json_format", _NoParseDict)
    for item in enriched:
        dict_to_message(item, pb.Instance())


# --- hand-picked inputs: nulls, presence, types, errors ----------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"InstanceId": None, "Placement": None, "DataDisks": None, "CPU": None, "GPUInfo": None},
        {"Placement": {}, "LoginSettings": {}, "DataDisks": [{}]},  # present though empty
        {"DataDisks": [{"DeleteWithInstance": False}, {"DeleteWithInstance": None}, {"KmsKeyId": None}]},
        {"InternetAccessible": {"PublicIpAssigned": False}},  # `optional`: a set false is present
        {"Unmodelled": {"x": [1, None]}, "InstanceId": "ins-1", "Password": "never-a-field"},
        {"CPU": "4"},  # ParseDict reads integer strings ...
        {"CPU": 4.0},  # ... and integral floats
        {"CPU": 4.5},
        {"CPU": True},
        {"CPU": 2**31},
        {"CPU": -(2**31)},
        {"VirtualPrivateCloud": {"Ipv6AddressCount": -1}},
        {"VirtualPrivateCloud": {"Ipv6AddressCount": 2**32 - 1}},
        {"GPUInfo": {"GPUCount": 2}},
        {"GPUInfo": {"GPUCount": 0.5}},
        {"GPUInfo": {"GPUCount": math.nan}},
        {"GPUInfo": {"GPUCount": -math.inf}},
        {"GPUInfo": {"GPUCount": "1.5"}},
        {"GPUInfo": {"GPUCount": 10**400}},
        {"DisableApiTermination": 1},
        {"DisableApiTermination": "true"},
        {"InstanceName": 7},
        {"InstanceName": "名字 with ünïcode"},
        {"InstanceName": "bad \ud800 surrogate"},
        {"InstanceName": "\ud83d\ude00"},  # a surrogate pair, as two code points
        {"PrivateIpAddresses": ("10.0.0.1", "10.0.0.2")},
        {"PrivateIpAddresses": ["10.0.0.1", None]},
        {"PrivateIpAddresses": "10.0.0.1"},
        {"PrivateIpAddresses": [1]},
        {"Tags": [{"Key": "a", "Value": "b"}, None]},
        {"Tags": [["Key", "a"]]},
        {"Tags": {"Key": "a"}},
        {"Placement": "ap-guangzhou-3"},
        {"Placement": MappingProxyType({"Zone": "ap-guangzhou-3"})},
        {"[tencent.compute.v1.ext]": 1},
        {1: "not a name"},
    ],
)
def test_hand_picked_inputs_give_parse_dicts_result(data: dict[Any, Any]) -> None:
    assert_same(data)


def test_any_mapping_is_accepted_at_the_top() -> None:
    assert_same(MappingProxyType({"InstanceId": "ins-1", "Placement": {"Zone": "z"}}))


def test_a_message_with_fields_set_is_merged_into_as_parse_dict_does() -> None:
    def prefill(message: Any) -> None:
        message.InstanceId = "ins-old"
        message.PrivateIpAddresses.append("10.0.0.9")
        message.Placement.Zone = "old-zone"
        message.Placement.ProjectId = 3

    data = {"PrivateIpAddresses": ["10.0.0.1"], "Placement": {"Zone": "new-zone"}, "InstanceName": "n"}
    assert_same(data, prefill=prefill)
    assert_same({"PrivateIpAddresses": None, "Placement": None}, prefill=prefill)


@pytest.mark.parametrize(
    ("message_type", "data"),
    [
        # google.protobuf.Value: null means null_value there, not "clear"
        (pb.InspectResponse, {"scode": 0, "stack": None, "data": {"InstanceId": "ins-1"}}),
        (pb.InspectResponse, {"message_cn": "成功", "messageCn": "两次"}),  # JSON name and field name
        (pb.ListData, {"TotalCount": 2, "List": [{"InstanceId": "a"}, {"CPU": 1}], "VpcName": ["v", ""]}),
        (pb.CreateRequest, {"InstanceCount": 0, "DataDisks": [{"DiskSize": 10}]}),
        (struct_pb2.Value, {"a": 1}),
        (struct_pb2.Struct, {"a": [1, "b", None]}),
    ],
)
def test_other_message_types_give_parse_dicts_result(message_type: type[Message], data: Any) -> None:
    assert_same(data, message_type)


# --- random inputs ------------------------------------------------------------------------------------------

_BAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from(["\udc00", "x\ud800", "\ud83d\ude00", "12", "1.0", " 3"]),
    st.lists(st.integers() | st.none() | st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers() | st.none(), max_size=2),
)


def _good_scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    cpp = field.cpp_type
    if cpp == FieldDescriptor.CPPTYPE_STRING:
        return st.text(max_size=8)
    if cpp == FieldDescriptor.CPPTYPE_BOOL:
        return st.booleans()
    if cpp == FieldDescriptor.CPPTYPE_DOUBLE:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**60), 2**60)
    if cpp == FieldDescriptor.CPPTYPE_UINT32:
        return st.integers(0, 2**32 - 1)
    return st.integers(-(2**31), 2**31 - 1)


def _member(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    nested = field.message_type
    if nested is not None:
        good: st.SearchStrategy[Any] = st.deferred(lambda: message_dicts(nested))
    else:
        good = _good_scalar(field)
    if field.is_repeated:
        good = st.lists(good, max_size=3) | st.lists(good, max_size=2).map(tuple)
    return st.one_of(good, good, good, _BAD_VALUES)  # mostly well-formed, sometimes anything


def message_dicts(descriptor: Descriptor) -> st.SearchStrategy[dict[Any, Any]]:
    known = st.fixed_dictionaries({}, optional={field.name: _member(field) for field in descriptor.fields})
    unknown_keys = st.sampled_from(["Unmodelled", "Password", "[x.y]", "x"])
    unknown = st.dictionaries(unknown_keys, _BAD_VALUES, max_size=2)
    return st.tuples(known, unknown).map(lambda parts: {**parts[1], **parts[0]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message_dicts(pb.Instance.DESCRIPTOR))
def test_random_instances_give_parse_dicts_result(data: dict[Any, Any]) -> None:
    assert_same(data)
