"""Request validation against the official spec: names, required members, types, nesting.

Parameters arrive as the wire layer parsed them: JSON values from a POST body, or strings from a GET query
already folded back into objects and lists. Scalars are coerced to the type the spec names (`"5"` -> 5,
`"true"`/`"True"` -> True), so both modes reach the actions identically; nulls count as absent, as the SDK
never sends them. The result is a fresh dict the actions may read without further type checks.
"""

from __future__ import annotations

import re
from typing import Any

from emulator import apierrors
from emulator.errors import ApiError
from emulator.spec import ObjectSpec, ServiceSpec

_INT = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def validate_request(spec: ServiceSpec, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """The request's parameters checked and coerced per `spec`; raises the ApiError Tencent would."""
    return _object(spec, spec.request(action), params, prefix="")


def _object(spec: ServiceSpec, obj: ObjectSpec, value: dict[str, Any], prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        member = obj.member(key)
        if member is None:
            raise apierrors.unknown_parameter(prefix + key)
        if item is None:
            continue
        path = prefix + key
        if member.type == "list":
            result[key] = _list(spec, member.member, item, path)
        else:
            result[key] = _scalar_or_object(spec, member.member, item, path)
    for member in obj.members:
        if member.required and member.name not in result:
            raise apierrors.missing_parameter(prefix + member.name)
    return result


def _list(spec: ServiceSpec, element: str, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong_shape(path, "a list")
    return [_scalar_or_object(spec, element, item, f"{path}.{index}") for index, item in enumerate(value)]


def _scalar_or_object(spec: ServiceSpec, type_name: str, value: Any, path: str) -> Any:
    nested = spec.objects.get(type_name)
    if nested is not None:
        if not isinstance(value, dict):
            raise _wrong_shape(path, "an object")
        return _object(spec, nested, value, prefix=path + ".")
    if isinstance(value, (dict, list)):
        raise _wrong_shape(path, "a single value")
    return _coerce(type_name, value, path)


def _coerce(type_name: str, value: Any, path: str) -> Any:
    if type_name in ("int64", "uint64"):
        number = _integer(value, path)
        if type_name == "uint64" and number < 0:
            raise _wrong_value(path, value, "a non-negative integer")
        return number
    if type_name == "bool":
        return _boolean(value, path)
    if type_name == "float":
        return _float(value, path)
    # strings (and datetime strings): numbers are accepted as their decimal text, booleans are not
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _wrong_value(path, value, "a string")


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise _wrong_value(path, value, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    raise _wrong_value(path, value, "an integer")


def _boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _wrong_value(path, value, "a boolean")


def _float(value: Any, path: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _wrong_value(path, value, "a number")


def _wrong_shape(path: str, expected: str) -> ApiError:
    return apierrors.invalid_parameter(
        f"The parameter `{path}` must be {expected}.",
        f"参数`{path}`的类型不正确，应为{_ZH_SHAPES.get(expected, expected)}。",
    )


def _wrong_value(path: str, value: Any, expected: str) -> ApiError:
    if path.endswith("Password"):
        value = "******"  # secrets never appear in errors
    return apierrors.invalid_value(
        f"The value `{value}` of parameter `{path}` is invalid: expected {expected}.",
        f"参数`{path}`的取值`{value}`不合法，应为{_ZH_SHAPES.get(expected, expected)}。",
    )


_ZH_SHAPES = {
    "a list": "数组",
    "an object": "对象",
    "a single value": "单个值",
    "an integer": "整数",
    "a non-negative integer": "非负整数",
    "a boolean": "布尔值",
    "a number": "数值",
    "a string": "字符串",
}
