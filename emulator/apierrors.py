"""The Tencent errors the cloud model raises more than once, with English and Chinese messages.

Codes come from Tencent's per-action error lists (Go SDK `errors.go`) and the facts file; messages follow
Tencent's wording where it is known (UnknownParameter, MissingParameter, InstanceOperationInProgress).
Errors specific to one action are built where they are raised.
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.errors import ApiError


def id_list(ids: Sequence[str]) -> str:
    """Tencent quotes offending IDs as a Python-style list: `['ins-xxxxxxxx']`."""
    return "[" + ", ".join(f"'{value}'" for value in ids) + "]"


def unknown_parameter(name: str) -> ApiError:
    return ApiError(
        "UnknownParameter", f"The parameter `{name}` is not recognized.", f"参数`{name}`无法识别。"
    )


def missing_parameter(name: str) -> ApiError:
    return ApiError(
        "MissingParameter",
        f"The request is missing a required parameter `{name}`.",
        f"请求缺少必需参数`{name}`。",
    )


def invalid_parameter(detail_en: str, detail_zh: str, code: str = "InvalidParameter") -> ApiError:
    return ApiError(code, detail_en, detail_zh)


def invalid_value(detail_en: str, detail_zh: str, code: str = "InvalidParameterValue") -> ApiError:
    return ApiError(code, detail_en, detail_zh)


def out_of_range(name: str, value: object, low: int, high: int) -> ApiError:
    return ApiError(
        "InvalidParameterValue.Range",
        f"The value `{value}` of parameter `{name}` must be between {low} and {high}.",
        f"参数`{name}`的取值`{value}`超出范围，应在 {low} 到 {high} 之间。",
    )


def not_one_of(name: str, value: object, allowed: Sequence[str]) -> ApiError:
    choices = ", ".join(allowed)
    return ApiError(
        "InvalidParameterValue",
        f"The value `{value}` of parameter `{name}` is invalid; valid values: {choices}.",
        f"参数`{name}`的取值`{value}`无效，可选值：{choices}。",
    )


def conflict(names: Sequence[str]) -> ApiError:
    joined = "`, `".join(names)
    return ApiError(
        "InvalidParameterCombination",
        f"The parameters `{joined}` cannot be specified at the same time.",
        f"参数`{joined}`不能同时指定。",
    )


def too_many(name: str, limit: int, code: str = "InvalidParameterValue.LimitExceeded") -> ApiError:
    return ApiError(
        code,
        f"The number of values in `{name}` exceeds the limit of {limit}.",
        f"参数`{name}`的取值数量超过上限 {limit}。",
    )


def invalid_action(action: str, service: str) -> ApiError:
    return ApiError(
        "InvalidAction",
        f"The action `{action}` does not exist in service `{service}`.",
        f"接口`{action}`在服务`{service}`中不存在。",
    )


def no_such_version(version: str, action: str) -> ApiError:
    return ApiError(
        "NoSuchVersion",
        f"The API version `{version}` does not exist or the action `{action}` is not in this version.",
        f"接口版本`{version}`不存在，或接口`{action}`不属于该版本。",
    )


def region_not_found(region: str) -> ApiError:
    return ApiError(
        "InvalidRegion.NotFound", f"The region `{region}` does not exist.", f"地域`{region}`不存在。"
    )


def unsupported_region(region: str, service: str) -> ApiError:
    return ApiError(
        "UnsupportedRegion",
        f"The service `{service}` is not available in region `{region}`.",
        f"服务`{service}`不支持地域`{region}`。",
    )


def malformed_ids(code: str, kind_en: str, kind_zh: str, ids: Sequence[str]) -> ApiError:
    return ApiError(
        code,
        f"The {kind_en} ID `{id_list(ids)}` is malformed.",
        f"{kind_zh}ID`{id_list(ids)}`格式不正确。",
    )


def malformed_instance_ids(ids: Sequence[str]) -> ApiError:
    return malformed_ids("InvalidInstanceId.Malformed", "instance", "实例", ids)


def instance_not_found(ids: Sequence[str]) -> ApiError:
    return ApiError(
        "InvalidInstanceId.NotFound",
        f"The instance `{id_list(ids)}` is not found.",
        f"实例`{id_list(ids)}`不存在。",
    )


def wrong_state(ids: Sequence[str], state: str) -> ApiError:
    """`UnsupportedOperation.InstanceState<State>`, e.g. `...InstanceStateRunning` for RUNNING."""
    camel = "".join(part.capitalize() for part in state.split("_"))
    return ApiError(
        f"UnsupportedOperation.InstanceState{camel}",
        f"The instance `{id_list(ids)}` is in state `{state}`, which does not support this operation.",
        f"实例`{id_list(ids)}`处于`{state}`状态，不支持该操作。",
    )


def operation_in_progress(ids: Sequence[str]) -> ApiError:
    return ApiError(
        "OperationDenied.InstanceOperationInProgress",
        f"The instance `{id_list(ids)}` already has operation in progress. Please try again later.",
        f"实例`{id_list(ids)}`有操作正在进行中，请稍后再试。",
    )
