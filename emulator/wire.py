"""Tencent's wire format: request parameters in (JSON body or flattened query), JSON envelopes out.

Parsing keeps values as they arrived (GET values stay strings): the model coerces them by the spec,
because only the spec knows whether `Limit=5` is an integer or `Offset=5` a string (VPC).
Rendering encodes each reply exactly once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from emulator.errors import ApiError

# The SDK raises API errors only for this exact value; `application/json; charset=utf-8` makes it return
# an empty model instead, so every reply must carry exactly this.
JSON_CONTENT_TYPE = "application/json"

DEFAULT_LANGUAGE = "zh-CN"
SUPPORTED_LANGUAGES = frozenset({"zh-CN", "en-US"})


@dataclass(frozen=True)
class Reply:
    """An HTTP reply ready to send: every cloud reply is HTTP 200 JSON unless a fault says otherwise."""

    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE


def new_request_id() -> str:
    return str(uuid.uuid4())


def choose_language(header_value: str | None) -> str:
    """`X-TC-Language`: en-US when asked for, zh-CN otherwise (Tencent's default)."""
    if header_value is not None and header_value.strip() in SUPPORTED_LANGUAGES:
        return header_value.strip()
    return DEFAULT_LANGUAGE


def parse_json_body(body: bytes) -> dict[str, Any]:
    """A POST body: a JSON object (an empty body means no parameters)."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            "InvalidParameter",
            "The request body is not valid JSON.",
            "请求体不是合法的 JSON。",
        ) from exc
    if not isinstance(value, dict):
        raise ApiError(
            "InvalidParameter",
            "The request body must be a JSON object.",
            "请求体必须是 JSON 对象。",
        )
    return value


def parse_query(query: str) -> dict[str, Any]:
    """GET parameters as the SDK flattens them, back into nested objects and lists.

    `InstanceIds.0=a&Filters.0.Name=zone&Filters.0.Values.1=b&Placement.Zone=z` becomes
    `{"InstanceIds": ["a"], "Filters": [{"Name": "zone", "Values": [..., "b"]}], "Placement": {"Zone": "z"}}`.
    A numeric path segment is a list index (API member names never are numbers).
    """
    tree: dict[str, Any] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError as exc:
        raise _bad_parameter("the query string is not valid UTF-8") from exc
    for key, value in pairs:
        _insert(tree, key, value)
    return _listify(tree)


def _insert(tree: dict[str, Any], key: str, value: str) -> None:
    segments = key.split(".")
    if any(segment == "" for segment in segments):
        raise _bad_parameter(f"malformed parameter name `{key}`")
    node = tree
    for depth, segment in enumerate(segments[:-1]):
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise _bad_parameter(f"parameter `{'.'.join(segments[: depth + 1])}` is given twice")
        node = child
    last = segments[-1]
    if last in node:
        raise _bad_parameter(f"parameter `{key}` is given twice")
    node[last] = value


def _listify(node: dict[str, Any]) -> Any:
    """Turn every mapping whose keys are all list indexes into a list, depth first."""
    for key, child in node.items():
        if isinstance(child, dict):
            node[key] = _listify(child)
    if node and all(key.isdigit() for key in node):
        indexes = sorted(int(key) for key in node)
        if indexes != list(range(len(indexes))):
            raise _bad_parameter("list indexes must run 0, 1, 2, ... without gaps")
        return [node[str(index)] for index in indexes]
    return node


def _bad_parameter(detail: str) -> ApiError:
    return ApiError(
        "InvalidParameter", f"Invalid request parameters: {detail}.", f"请求参数不合法：{detail}。"
    )


def encode_success(body: dict[str, Any], request_id: str) -> bytes:
    """`{"Response": {...body..., "RequestId": id}}`, encoded once (only the top level is copied)."""
    response = dict(body)
    response["RequestId"] = request_id
    return _encode({"Response": response})


def encode_error(error: ApiError, language: str, request_id: str) -> bytes:
    return _encode(
        {
            "Response": {
                "Error": {"Code": error.code, "Message": error.message(language)},
                "RequestId": request_id,
            }
        }
    )


def encode_json(value: Any) -> bytes:
    """Plain JSON (the control API's replies)."""
    return _encode(value)


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
