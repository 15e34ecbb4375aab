"""Proto messages <-> the plain dicts the use cases speak (Tencent's field names, which the contract copies).

Request side: only what the caller set goes to Tencent, so Tencent's own defaults apply to the rest. A field
with explicit presence (`optional`, messages) counts as set when present; a plain scalar when it differs
from its zero value (proto3 cannot tell an explicit zero from an absent field, and for those fields the
contract makes zero mean "Tencent's default").

Reply side: Tencent's dicts are parsed into the reply messages; members the contract does not model are
ignored, nulls become the proto zero values. The rule is `json_format.ParseDict(data, message,
ignore_unknown_fields=True)`, but ParseDict costs about 85 µs per instance (1.7 s of a 20,000-instance
listing), so `dict_to_message` fills the message directly from a field table cached per message type
(about 10 µs) and hands every value it does not handle exactly like ParseDict to ParseDict itself: the
result is always ParseDict's, message or error (tests/unit/test_convert.py compares the two).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
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
    """Merge `data` into `message` exactly as `json_format.ParseDict(data, message,
    ignore_unknown_fields=True)` does (same message, same errors), fast for the common case."""
    plan = _plan_of(message.DESCRIPTOR)
    # The direct path writes each field once, which equals ParseDict only on a message with nothing set.
    if plan.supported and message.ByteSize() == 0:
        try:
            _fill(data if type(data) is dict else dict(data), message, plan.fields)
            return message
        except (_Defer, ValueError, TypeError, OverflowError):
            message.Clear()  # let ParseDict decide, from the same empty message
    json_format.ParseDict(dict(data), message, ignore_unknown_fields=True)
    return message


# --- the direct path ------------------------------------------------------------------------------------


class _Defer(Exception):  # noqa: N818 - control flow, never leaves this module
    """A value the direct path does not handle exactly like ParseDict: ParseDict takes over."""


# Field kinds. Anything ParseDict treats specially (enums, bytes, float32 ranges, maps, well-known types,
# real oneofs, JSON names that differ from the field name, recursive types) is _OTHER and always deferred.
_STRING, _INT, _BOOL, _DOUBLE, _MESSAGE, _REPEATED_SCALAR, _REPEATED_MESSAGE, _OTHER = range(8)

# Field = (kind, field name, item kind for repeated scalars, nested field table for messages)
_Field = tuple[int, str, int, "dict[Any, _Field] | None"]

# ParseDict rejects strings with unpaired surrogates; only non-ASCII text needs the (slower) check.
_UNPAIRED_SURROGATE = re.compile("[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")
# ParseDict's own default max_recursion_depth: deeper messages are left to it.
_PARSE_DICT_MAX_DEPTH = 100

_INT_TYPES = frozenset(
    {
        FieldDescriptor.CPPTYPE_INT32,
        FieldDescriptor.CPPTYPE_INT64,
        FieldDescriptor.CPPTYPE_UINT32,
        FieldDescriptor.CPPTYPE_UINT64,
    }
)


class _Plan:
    """The field table of one message type: JSON key -> _Field. `supported` is False when the type itself
    must go to ParseDict (a well-known type, or nested too deep)."""

    __slots__ = ("depth", "fields", "supported")

    def __init__(self) -> None:
        self.fields: dict[Any, _Field] = {}
        self.supported = True
        self.depth = 1


_plans: dict[str, _Plan] = {}


def _plan_of(descriptor: Any) -> _Plan:  # Any: the stubs type DESCRIPTOR as one of two classes
    plan = _plans.get(descriptor.full_name)
    if plan is None:
        plan = _build_plan(descriptor, in_progress=set())
        _plans[descriptor.full_name] = plan  # idempotent: concurrent builders produce equal tables
    return plan


def _build_plan(descriptor: Descriptor, in_progress: set[str]) -> _Plan:
    plan = _Plan()
    if descriptor.full_name.startswith("google.protobuf."):  # JSON mappings of their own (Value, ...)
        plan.supported = False
        return plan
    in_progress.add(descriptor.full_name)
    for field in descriptor.fields:
        kind, item_kind, nested = _OTHER, _OTHER, None
        if field.json_name != field.name or (
            field.containing_oneof is not None and len(field.containing_oneof.fields) > 1
        ):
            pass  # two keys could set one field, or one oneof: ParseDict's checks apply
        elif field.message_type is not None:
            message_type = field.message_type
            if not message_type.GetOptions().map_entry and message_type.full_name not in in_progress:
                sub = _plans.get(message_type.full_name) or _build_plan(message_type, in_progress)
                if sub.supported:
                    kind = _REPEATED_MESSAGE if field.is_repeated else _MESSAGE
                    nested = sub.fields
                    plan.depth = max(plan.depth, sub.depth + 1)
        else:
            scalar = _scalar_kind(field)
            if field.is_repeated and scalar != _OTHER:
                kind, item_kind = _REPEATED_SCALAR, scalar
            else:
                kind = scalar
        plan.fields[field.json_name] = (kind, field.name, item_kind, nested)
        plan.fields.setdefault(field.name, (_OTHER, field.name, _OTHER, None))
    in_progress.discard(descriptor.full_name)
    plan.supported = plan.depth < _PARSE_DICT_MAX_DEPTH
    return plan


def _scalar_kind(field: FieldDescriptor) -> int:
    cpp_type = field.cpp_type
    if cpp_type == FieldDescriptor.CPPTYPE_STRING:
        return _STRING if field.type == FieldDescriptor.TYPE_STRING else _OTHER  # bytes are base64
    if cpp_type in _INT_TYPES:
        return _INT
    if cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        return _BOOL
    if cpp_type == FieldDescriptor.CPPTYPE_DOUBLE:
        return _DOUBLE
    return _OTHER  # enums (names or numbers), float32 (range checks)


def _scalar(kind: int, value: Any) -> Any:
    """`value` as ParseDict would store it in a field of this kind, or _Defer when it might differ."""
    value_type = type(value)
    if kind == _STRING:
        if value_type is str and (value.isascii() or not _UNPAIRED_SURROGATE.search(value)):
            return value
    elif kind == _INT:
        if value_type is int:  # bool is not: ParseDict rejects it; range errors come from protobuf
            return value
    elif kind == _BOOL:
        if value_type is bool:
            return value
    elif kind == _DOUBLE:
        if value_type is float:
            if value - value == 0.0:  # finite: ParseDict rejects NaN and infinities
                return value
        elif value_type is int:
            return float(value)
    raise _Defer


def _fill(data: dict[Any, Any], message: Any, fields: dict[Any, _Field]) -> None:
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            if type(key) is str and not key.startswith("["):  # "[...]" would name an extension
                continue  # a member the contract does not model
            raise _Defer
        kind, name, item_kind, nested = field
        if value is None:
            if kind == _OTHER:  # null has meanings of its own for google.protobuf.Value and NullValue
                raise _Defer
            continue  # null clears the field, which is not set yet
        if kind == _STRING:
            if type(value) is not str or not (value.isascii() or not _UNPAIRED_SURROGATE.search(value)):
                raise _Defer
            setattr(message, name, value)
        elif kind == _REPEATED_SCALAR:
            if type(value) is not list and type(value) is not tuple:
                raise _Defer
            if not value:
                continue
            if item_kind == _STRING:
                for item in value:
                    if type(item) is not str or not (item.isascii() or not _UNPAIRED_SURROGATE.search(item)):
                        raise _Defer
                getattr(message, name).extend(value)
            else:
                getattr(message, name).extend([_scalar(item_kind, item) for item in value])
        elif kind == _MESSAGE:
            if type(value) is not dict:
                raise _Defer
            sub = getattr(message, name)
            sub.SetInParent()  # `{}` still makes the member present
            _fill(value, sub, nested)  # type: ignore[arg-type]  # set for message kinds
        elif kind == _REPEATED_MESSAGE:
            if type(value) is not list and type(value) is not tuple:
                raise _Defer
            container = getattr(message, name)
            for item in value:
                if type(item) is not dict:
                    raise _Defer
                _fill(item, container.add(), nested)  # type: ignore[arg-type]
        elif kind == _INT:
            if type(value) is not int:  # bool is not: ParseDict rejects it; range errors come from protobuf
                raise _Defer
            setattr(message, name, value)
        elif kind == _BOOL:
            if type(value) is not bool:
                raise _Defer
            setattr(message, name, value)
        elif kind == _DOUBLE:
            setattr(message, name, _scalar(kind, value))
        else:
            raise _Defer
