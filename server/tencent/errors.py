"""Tencent error codes -> the service's canonical codes (the table documented in docs/errors.md).

The rules are ordered: the first that matches a code wins. `NotFound` comes before `Invalid*` so that
`InvalidInstanceId.NotFound` is NOT_FOUND while `InvalidInstanceId.Malformed` is INVALID_ARGUMENT.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from server.compute.errors import ERROR_CLASSES, ServiceError
from server.tencent.errors_policy import CLIENT_NETWORK_ERROR, SERVER_NETWORK_ERROR

log = logging.getLogger(__name__)

Rule = tuple[Callable[[str], bool], str]


def _prefix(*prefixes: str) -> Callable[[str], bool]:
    return lambda code: code.startswith(prefixes)


def _contains(part: str) -> Callable[[str], bool]:
    return lambda code: part in code


def _suffix(*suffixes: str) -> Callable[[str], bool]:
    return lambda code: code.endswith(suffixes)


RULES: tuple[Rule, ...] = (
    (_prefix(CLIENT_NETWORK_ERROR, SERVER_NETWORK_ERROR), "UNAVAILABLE"),
    (_prefix("RequestLimitExceeded"), "RESOURCE_EXHAUSTED"),  # only seen after the retries gave up
    # The cluster's API key is wrong, expired or lacks a CAM permission: the caller cannot fix that, the
    # operator must (registry configuration), so it is the service's fault, not the request's.
    (_prefix("AuthFailure", "UnauthorizedOperation"), "INTERNAL"),
    (_contains("NotFound"), "NOT_FOUND"),
    (
        _prefix("UnsupportedOperation", "OperationDenied", "ResourceInUse", "ResourceUnavailable"),
        "FAILED_PRECONDITION",
    ),
    (
        _prefix("ResourceInsufficient", "ResourcesSoldOut", "LimitExceeded", "InstancesQuotaLimitExceeded"),
        "RESOURCE_EXHAUSTED",
    ),
    (_prefix("ResourceBusy"), "UNAVAILABLE"),
    (_prefix("InvalidAction", "NoSuchVersion", "ClientParamsError", "ClientError"), "INTERNAL"),
    (_prefix("Invalid", "MissingParameter", "UnknownParameter", "UnsupportedRegion"), "INVALID_ARGUMENT"),
    (_suffix(".Malformed"), "INVALID_ARGUMENT"),
    (_prefix("InternalError"), "INTERNAL"),
)


def canonical_code(tencent_code: str) -> str:
    for matches, code in RULES:
        if matches(tencent_code):
            return code
    return "UNKNOWN"


_CN_BY_CODE = {
    "UNAVAILABLE": "腾讯云暂时不可用",
    "RESOURCE_EXHAUSTED": "腾讯云请求频率或资源超限",
    "INTERNAL": "服务内部错误",
    "NOT_FOUND": "资源不存在",
    "FAILED_PRECONDITION": "资源当前状态不允许该操作",
    "INVALID_ARGUMENT": "参数错误",
    "UNKNOWN": "未知错误",
}


def _tencent_message(exc: TencentCloudSDKException) -> str:
    message = exc.get_message()
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    text = str(message or "").strip()
    # A non-200 reply carries an arbitrary body (an HTML error page, say): keep the error short.
    return text if len(text) <= 300 else text[:300] + "..."


def upstream_error(exc: TencentCloudSDKException, action: str) -> ServiceError:
    """The ServiceError for an SDK exception raised by `action`.

    reason = Tencent's code; metadata carries tencent_request_id (when Tencent answered) and the action.
    """
    tencent_code = str(exc.get_code() or "InternalError")
    code = canonical_code(tencent_code)
    detail = _tencent_message(exc)
    request_id = exc.get_request_id()
    metadata = {"tencent_action": action, "tencent_code": tencent_code}
    if request_id:
        metadata["tencent_request_id"] = str(request_id)
    if tencent_code.startswith(("AuthFailure", "UnauthorizedOperation")):
        message = (
            f"Tencent Cloud rejected this cluster's API credentials for {action} ({tencent_code}); "
            "the service's cluster registry must be fixed by its operator"
        )
        message_cn = f"腾讯云拒绝了该集群的 API 密钥（{action}，{tencent_code}），请联系运维修正集群配置"
    elif tencent_code in (CLIENT_NETWORK_ERROR, SERVER_NETWORK_ERROR):
        # The SDK's text here is transport internals (urllib3 pool reprs, a gateway's HTML page): the caller
        # gets a fixed sentence, the detail goes to the server log under the request id.
        log.warning("Tencent Cloud unreachable for %s: %s", action, detail)
        message = f"Tencent Cloud could not be reached for {action}; try again later"
        message_cn = f"暂时无法访问腾讯云（{action}），请稍后重试"
    else:
        message = f"Tencent Cloud {action} failed: {tencent_code}: {detail}"
        message_cn = f"{_CN_BY_CODE.get(code, '腾讯云错误')}：腾讯云 {action} 失败：{tencent_code}：{detail}"
    return ERROR_CLASSES[code](message, message_cn, reason=tencent_code, metadata=metadata)
