"""A checker for replies against the official api.json shipped in tccli (not the emulator's own copy).

Rules, recursively: every key is a member of its object; every `output_required` member is present;
types match (`int` is an integer and not a bool, `uint64` is non-negative, `float` is a number,
`datetime_iso` is `YYYY-MM-DDThh:mm:ssZ`); lists hold their member type; null appears only where the
spec allows it or Tencent is known to send it anyway (`NULL_AS_TENCENT_SENDS`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from emulator.spec import extract

# Members the spec does not flag as nullable but Tencent returns as null (pay-as-you-go instances).
NULL_AS_TENCENT_SENDS = frozenset({("Instance", "RenewFlag"), ("Instance", "ExpiredTime")})

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@cache
def official(service: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(extract.source_path(service).read_text(encoding="utf-8"))
    return loaded


def reply_problems(service: str, action: str, response: dict[str, Any]) -> list[str]:
    """Everything in `response` (the `Response` object, RequestId included) that breaks the spec."""
    source = official(service)
    problems: list[str] = []
    _check_object(source, source["actions"][action]["output"], response, "Response", problems)
    return problems


def _check_object(source: dict[str, Any], name: str, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object {name}, got {type(value).__name__}")
        return
    members = {member["name"]: member for member in source["objects"][name]["members"]}
    for key in value:
        if key not in members:
            problems.append(f"{path}.{key}: not a member of {name}")
    for member_name, member in members.items():
        if member_name not in value:
            if member.get("output_required"):
                problems.append(f"{path}.{member_name}: required member missing")
            continue
        item = value[member_name]
        where = f"{path}.{member_name}"
        if item is None:
            if not member.get("value_allowed_null") and (name, member_name) not in NULL_AS_TENCENT_SENDS:
                problems.append(f"{where}: null is not allowed")
            continue
        if member["type"] == "list":
            if not isinstance(item, list):
                problems.append(f"{where}: expected a list, got {type(item).__name__}")
                continue
            for index, element in enumerate(item):
                _check_value(source, member["member"], element, f"{where}[{index}]", problems)
        else:
            _check_value(source, member["member"], item, where, problems)


def _check_value(source: dict[str, Any], type_name: str, value: Any, path: str, problems: list[str]) -> None:
    if type_name in source["objects"]:
        _check_object(source, type_name, value, path, problems)
        return
    ok = {
        "string": isinstance(value, str),
        "datetime_iso": isinstance(value, str) and _ISO_TIME.fullmatch(value) is not None,
        "int64": isinstance(value, int) and not isinstance(value, bool),
        "uint64": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "bool": isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
    }.get(type_name)
    if ok is None:
        problems.append(f"{path}: the checker does not know type {type_name}")
    elif not ok:
        problems.append(f"{path}: {value!r} is not a valid {type_name}")
