"""Proto messages <-> the plain dicts the use cases speak (Tencent's field names, which the contract copies).

Request side: only what the caller set goes to Tencent, so Tencent's own defaults apply to the rest. A field
with explicit presence (`optional`, messages) counts as set when present; a plain scalar when it differs
from its zero value (proto3 cannot tell an explicit zero from an absent field, and for those fields the
contract makes zero mean "Tencent's default").

Reply side: Tencent's dicts are parsed into the reply messages; members the contract does not model are
ignored, nulls become the proto zero values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


def message_to_params(message: Message, exclude: Collection[str] = ()) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        name = field.name
        if name in exclude:
            continue
        value = getattr(message, name)
        if field.is_repeated:
            if len(value):
                params[name] = [
                    message_to_params(item) if field.message_type is not None else item for item in value
                ]
        elif field.message_type is not None or field.has_presence:
            if message.HasField(name):
                params[name] = message_to_params(value) if field.message_type is not None else value
        elif value != field.default_value:
            params[name] = value
    return params


def dict_to_message(data: Mapping[str, Any], message: M) -> M:
    json_format.ParseDict(dict(data), message, ignore_unknown_fields=True)
    return message
