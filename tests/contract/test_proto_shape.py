"""The proto carries every legacy key (tables and examples) and every SDK Instance member, with wire types
that print as the legacy JSON does, and response messages shaped as the legacy envelope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor
from tencent.compute.v1 import compute_pb2

from tests.contract.legacy_api import RPC_BY_VERB, VERBS, endpoints

FILE: FileDescriptor = compute_pb2.DESCRIPTOR
SERVICE = FILE.services_by_name["ComputeService"]
SDK_API_JSON = (
    Path(__file__).resolve().parents[2]
    / ".venv/lib/python3.11/site-packages/tccli/services/cvm/v20170312/api.json"
)
ENVELOPE = [
    ("scode", FieldDescriptor.TYPE_INT32, None),
    ("desc", FieldDescriptor.TYPE_STRING, None),
    ("message", FieldDescriptor.TYPE_STRING, None),
    ("message_cn", FieldDescriptor.TYPE_STRING, None),
    ("stack", FieldDescriptor.TYPE_MESSAGE, "google.protobuf.Value"),
    ("data", FieldDescriptor.TYPE_MESSAGE, None),
]
# Types that Envoy prints as JSON numbers (64-bit integers print as strings).
NUMBER_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_DOUBLE,
    FieldDescriptor.TYPE_FLOAT,
}
INTEGER_TYPES = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_SINT32}
SIXTY_FOUR_BIT = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}
# A table says `string` where Tencent returns a list (IPv6Addresses); the SDK model is the authority there.
TABLE_TYPE_SLIPS = {"IPv6Addresses"}
# SDK members a reply-side message leaves out on purpose, by proto message name: a reply never shows a
# password, not even as an empty key (Tencent's Instance.LoginSettings returns only the key IDs).
REPLY_OMITTED_SDK_MEMBERS = {"InstanceLoginSettings": {"Password"}}


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _msg(field: FieldDescriptor) -> Descriptor:
    """The message type of a message field."""
    message = field.message_type
    assert message is not None, field.full_name
    return message


def _request(verb: str) -> Descriptor:
    return SERVICE.methods_by_name[RPC_BY_VERB[verb]].input_type


def _response(verb: str) -> Descriptor:
    return SERVICE.methods_by_name[RPC_BY_VERB[verb]].output_type


def _all_messages() -> list[Descriptor]:
    found: list[Descriptor] = []

    def walk(message: Descriptor) -> None:
        found.append(message)
        for nested in message.nested_types:
            walk(nested)

    for message in FILE.message_types_by_name.values():
        walk(message)
    return found


def _assert_table_type(owner: str, field: FieldDescriptor, legacy_type: str) -> None:
    """A legacy table's type word against the proto field."""
    where = f"{owner}.{field.name} (legacy {legacy_type!r})"
    if field.name in TABLE_TYPE_SLIPS:
        assert _is_repeated(field) and field.type == FieldDescriptor.TYPE_STRING, where
        return
    legacy = legacy_type.lower()
    if legacy == "string":
        assert not _is_repeated(field) and field.type == FieldDescriptor.TYPE_STRING, where
    elif legacy in ("string array", "array") and field.type != FieldDescriptor.TYPE_MESSAGE:
        assert _is_repeated(field) and field.type == FieldDescriptor.TYPE_STRING, where
    elif legacy in ("array", "struct array"):
        assert _is_repeated(field) and field.type == FieldDescriptor.TYPE_MESSAGE, where
    elif legacy == "struct":
        assert not _is_repeated(field) and field.type == FieldDescriptor.TYPE_MESSAGE, where
    elif legacy in ("int", "int64"):
        assert not _is_repeated(field) and field.type in INTEGER_TYPES, where
    elif legacy == "bool":
        assert not _is_repeated(field) and field.type == FieldDescriptor.TYPE_BOOL, where
    else:
        pytest.fail(f"unknown legacy type in {where}")


def _assert_json_value_fits(path: str, message: Descriptor, value: dict[str, Any]) -> None:
    """Every key of a legacy JSON object is a field of `message` whose type prints like the value."""
    assert isinstance(value, dict), path
    for key, item in value.items():
        assert key in message.fields_by_name, f"{path}: legacy key {key!r} missing from {message.full_name}"
        field = message.fields_by_name[key]
        _assert_field_fits(f"{path}.{key}", field, item)


def _assert_field_fits(path: str, field: FieldDescriptor, item: Any) -> None:
    if isinstance(item, list):
        assert _is_repeated(field), f"{path}: legacy value is an array, field is not repeated"
        for element in item:
            _assert_scalar_or_message_fits(path + "[]", field, element)
    else:
        assert not _is_repeated(field), f"{path}: field is repeated, legacy value is not an array"
        _assert_scalar_or_message_fits(path, field, item)


def _assert_scalar_or_message_fits(path: str, field: FieldDescriptor, item: Any) -> None:
    if field.type == FieldDescriptor.TYPE_MESSAGE and _msg(field).full_name == "google.protobuf.Value":
        return  # any JSON value (the envelope's stack)
    if isinstance(item, bool):
        assert field.type == FieldDescriptor.TYPE_BOOL, path
    elif isinstance(item, int):
        assert field.type in NUMBER_TYPES, f"{path}: legacy JSON number needs a 32-bit/double field"
    elif isinstance(item, str):
        assert field.type == FieldDescriptor.TYPE_STRING, path
    elif isinstance(item, dict):
        assert field.type == FieldDescriptor.TYPE_MESSAGE, path
        _assert_json_value_fits(path, _msg(field), item)
    elif item is None:
        pytest.fail(f"{path}: null only fits google.protobuf.Value")


@pytest.mark.parametrize("verb", VERBS)
def test_rpc_has_legacy_post_binding(verb: str) -> None:
    method = SERVICE.methods_by_name[RPC_BY_VERB[verb]]
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    assert rule.post == endpoints()[verb].path
    assert rule.body == "*"
    assert method.input_type.name == f"{method.name}Request"
    assert method.output_type.name == f"{method.name}Response"


def test_service_has_exactly_the_legacy_operations() -> None:
    assert FILE.package == "tencent.compute.v1"
    assert set(SERVICE.methods_by_name) == set(RPC_BY_VERB.values())
    assert set(endpoints()) == set(VERBS)


@pytest.mark.parametrize("verb", VERBS)
def test_request_table_fields_exist_with_compatible_types(verb: str) -> None:
    request = _request(verb)
    for param in endpoints()[verb].request_table:
        assert param.name in request.fields_by_name, f"{request.name} lacks legacy field {param.name}"
        _assert_table_type(request.name, request.fields_by_name[param.name], param.type)


@pytest.mark.parametrize("verb", VERBS)
def test_request_example_keys_exist_with_compatible_types(verb: str) -> None:
    example = dict(endpoints()[verb].request_example_json)
    # The stray snake_case key must stay unknown: a field named like it would let it pick the cluster.
    example.pop("cluster_uuid", None)
    _assert_json_value_fits(f"{verb} request", _request(verb), example)


def test_stray_cluster_uuid_is_no_field_anywhere() -> None:
    for message in _all_messages():
        names = {field.name for field in message.fields} | {field.json_name for field in message.fields}
        assert "cluster_uuid" not in names, message.full_name


def test_create_accepts_the_documented_slips_and_idempotency_token() -> None:
    create = _request("create")
    assert _is_repeated(create.fields_by_name["securityGroupId"])
    assert _is_repeated(create.fields_by_name["SecurityGroupIds"])
    assert create.fields_by_name["ClientToken"].type == FieldDescriptor.TYPE_STRING
    assert _msg(create.fields_by_name["LoginSettings"]).name == "LoginSettings"
    for verb in ("turn_on", "turn_off"):
        fields = _request(verb).fields_by_name
        assert _is_repeated(fields["InstanceId"]) and _is_repeated(fields["InstanceIds"]), verb
    assert _request("turn_off").fields_by_name["ForceStop"].type == FieldDescriptor.TYPE_BOOL


@pytest.mark.parametrize("verb", VERBS)
def test_response_is_the_envelope_in_legacy_key_order(verb: str) -> None:
    response = _response(verb)
    by_number = sorted(response.fields, key=lambda field: field.number)
    assert [(field.name, field.number) for field in by_number] == [
        (name, number) for number, (name, _, _) in enumerate(ENVELOPE, start=1)
    ]
    for field, (name, wire_type, type_name) in zip(by_number, ENVELOPE, strict=True):
        assert field.type == wire_type, name
        if type_name:
            assert _msg(field).full_name == type_name
    # The legacy examples print the envelope keys in this order.
    assert list(endpoints()[verb].response_example) == [name for name, _, _ in ENVELOPE]


@pytest.mark.parametrize("verb", VERBS)
def test_response_example_fits(verb: str) -> None:
    _assert_json_value_fits(f"{verb} response", _response(verb), endpoints()[verb].response_example)


def test_data_shapes() -> None:
    assert _is_repeated(_msg(_response("create").fields_by_name["data"]).fields_by_name["InstanceIds"])
    list_data = _msg(_response("list").fields_by_name["data"])
    assert [field.name for field in sorted(list_data.fields, key=lambda f: f.number)] == [
        "TotalCount",
        "List",
        "VpcName",
    ]
    assert _msg(list_data.fields_by_name["List"]).name == "Instance"
    # Inspect's data is the instance object itself.
    assert _msg(_response("inspect").fields_by_name["data"]).name == "Instance"


def test_list_and_inspect_tables_are_instance_fields() -> None:
    instance = compute_pb2.Instance.DESCRIPTOR
    list_endpoint = endpoints()["list"]
    list_data = _msg(_response("list").fields_by_name["data"])
    for param in list_endpoint.response_table:
        _assert_table_type("ListData", list_data.fields_by_name[param.name], param.type)
    for param in list_endpoint.list_object_table + endpoints()["inspect"].response_table:
        assert param.name in instance.fields_by_name, param.name
        _assert_table_type("Instance", instance.fields_by_name[param.name], param.type)
    assert "InstanceTypeName" in instance.fields_by_name


def test_instance_field_order_follows_the_legacy_example() -> None:
    """Envoy prints in field-number order: the example's keys must come out in the example's order."""
    instance = compute_pb2.Instance.DESCRIPTOR
    example_keys = list(endpoints()["inspect"].response_example["data"])
    numbers = [instance.fields_by_name[key].number for key in example_keys]
    assert numbers == sorted(numbers)


def _sdk_objects() -> dict[str, Any]:
    objects: dict[str, Any] = json.loads(SDK_API_JSON.read_text(encoding="utf-8"))["objects"]
    return objects


def _assert_sdk_member_fits(
    owner: str, field: FieldDescriptor, member: dict[str, Any], seen: set[str]
) -> None:
    where = f"{owner}.{field.name}"
    kind, element = member["type"], member.get("member", "")
    if kind == "list":
        assert _is_repeated(field), f"{where}: SDK list, proto not repeated"
    else:
        assert not _is_repeated(field), f"{where}: proto repeated, SDK {kind}"
    sdk_type = element if kind == "list" else kind
    if sdk_type == "object" or element in _sdk_objects():
        assert field.type == FieldDescriptor.TYPE_MESSAGE, where
        _assert_sdk_object_fits(element, _msg(field), seen)
    elif sdk_type in ("int", "int64", "uint64"):
        assert field.type in INTEGER_TYPES, f"{where}: SDK integer needs int32/uint32 (prints as a number)"
    elif sdk_type == "float":
        assert field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT), where
    elif sdk_type == "bool":
        assert field.type == FieldDescriptor.TYPE_BOOL, where
    else:
        assert sdk_type in ("string", "datetime_iso"), f"{where}: unexpected SDK type {sdk_type}"
        assert field.type == FieldDescriptor.TYPE_STRING, where


def _assert_sdk_object_fits(sdk_name: str, message: Descriptor, seen: set[str]) -> None:
    if sdk_name in seen:
        return
    seen.add(sdk_name)
    for member in _sdk_objects()[sdk_name]["members"]:
        name = member["name"]
        if name in REPLY_OMITTED_SDK_MEMBERS.get(message.name, ()):
            assert name not in message.fields_by_name, f"{message.name}.{name} must stay out of replies"
            continue
        assert name in message.fields_by_name, f"{message.name} lacks SDK {sdk_name}.{name}"
        _assert_sdk_member_fits(message.name, message.fields_by_name[name], member, seen)


def test_instance_has_every_sdk_instance_member_recursively() -> None:
    _assert_sdk_object_fits("Instance", compute_pb2.Instance.DESCRIPTOR, set())


def test_reply_login_settings_have_no_password() -> None:
    """list/inspect replies print LoginSettings without a "Password" key; requests still take one."""
    reply_side = _msg(compute_pb2.Instance.DESCRIPTOR.fields_by_name["LoginSettings"])
    assert reply_side.name == "InstanceLoginSettings"
    assert [field.name for field in reply_side.fields] == ["KeyIds", "KeepImageLogin"]
    for message in _all_messages():
        if message.name != "LoginSettings":
            for field in message.fields:
                assert "password" not in field.name.lower(), f"{message.name}.{field.name}"
    for verb in ("create", "reset"):
        assert _msg(_request(verb).fields_by_name["LoginSettings"]).name == "LoginSettings"


@pytest.mark.parametrize(
    ("message", "sdk_object"),
    [
        ("EnhancedService", "EnhancedService"),
        ("InstanceChargePrepaid", "InstanceChargePrepaid"),
        ("DataDisk", "DataDisk"),
        ("LoginSettings", "LoginSettings"),
    ],
)
def test_request_structs_have_every_sdk_member(message: str, sdk_object: str) -> None:
    _assert_sdk_object_fits(sdk_object, FILE.message_types_by_name[message], set())


def _default_json_name(name: str) -> str:
    """protoc's json_name when no json_name option is given: drop '_' and capitalise the next letter."""
    out, upper = [], False
    for char in name:
        if char == "_":
            upper = True
        else:
            out.append(char.upper() if upper else char)
            upper = False
    return "".join(out)


def test_no_json_name_options_and_no_64_bit_integers() -> None:
    for message in _all_messages():
        for field in message.fields:
            assert field.json_name == _default_json_name(field.name), f"{message.name}.{field.name} json_name"
            assert field.type not in SIXTY_FOUR_BIT, f"{message.name}.{field.name} would print as a string"
