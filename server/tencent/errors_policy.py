"""Which failures of a Tencent call are transient, and which of those may be retried for which kind of call.

This module only classifies; the retry loop is server/tencent/retry.py and the mapping of final errors to
gRPC codes is server/tencent/errors.py.

Classes (`ErrorClass`) and what each proves about the failed attempt:

| class           | what was seen                                                | did Tencent act?  |
|-----------------|--------------------------------------------------------------|-------------------|
| THROTTLED       | RequestLimitExceeded, .UinLimitExceeded,                     | no: rejected at   |
|                 | .GlobalRegionUinLimitExceeded (any RequestLimitExceeded.*    | the door          |
|                 | except .IPLimitExceeded)                                     |                   |
| IN_PROGRESS     | OperationDenied.InstanceOperationInProgress                  | no: denied        |
| BUSY            | ResourceInUse*, ResourceBusy*                                | no: denied        |
| NETWORK         | SDK ClientNetworkError (refused, reset, timeout), requests / | unknown           |
|                 | socket connection and timeout errors                         |                   |
| BAD_STATUS      | SDK ServerNetworkError: an HTTP status other than 200        | unknown           |
| MALFORMED_REPLY | a 200 reply whose body is not JSON                           | unknown           |
| INTERNAL        | InternalError*                                               | unknown           |
| PERMANENT       | everything else (bad parameters, wrong state, not found,     | no                |
|                 | auth, quota, IPLimitExceeded, our own RateLimitTimeout)      |                   |

Retry rules (`may_retry`), by the kind of call:
- reads: every class but PERMANENT. Repeating a read is always harmless, InternalError included.
- writes declared retry-safe by the caller (repeating is harmless: RunInstances with a ClientToken that stays
  the same across attempts; Start/Stop/Terminate of the same IDs): THROTTLED, IN_PROGRESS, BUSY, NETWORK,
  BAD_STATUS, MALFORMED_REPLY. Never INTERNAL: Tencent may have half-done the write, and Tencent's own
  tooling (Terraform) does not repeat writes after it.
- other writes (ModifyInstancesAttribute, ResetInstance, RunInstances without a ClientToken): only the
  classes that prove Tencent did nothing, THROTTLED, IN_PROGRESS and BUSY. Repeating those is harmless for
  any call; repeating after an unknown outcome is not (a lost RunInstances reply retried without a token
  makes a second machine).

`RequestLimitExceeded.IPLimitExceeded` is deliberately PERMANENT (not retried), as in the SDK's own
StandardRetryer: it limits the source IP, which every process behind the same egress address shares and
our per-account limiter cannot see. Retrying would add load to exactly the limit that is exhausted; the
caller gets RESOURCE_EXHAUSTED at once and can back off.
"""

from __future__ import annotations

import enum
import json

import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

THROTTLING_PREFIX = "RequestLimitExceeded"
IP_LIMIT_EXCEEDED = "RequestLimitExceeded.IPLimitExceeded"
IN_PROGRESS = "OperationDenied.InstanceOperationInProgress"
# The SDK's own codes when Tencent gave no API reply: connection refused, reset or timed out; or an HTTP
# status other than 200 (body not parsed).
CLIENT_NETWORK_ERROR = "ClientNetworkError"
SERVER_NETWORK_ERROR = "ServerNetworkError"
# The SDK's action methods wrap a non-SDK exception as TencentCloudSDKException(type(e).__name__, str(e));
# a body that is not JSON therefore surfaces with this code (call_json raises the bare JSONDecodeError).
JSON_DECODE_ERROR = "JSONDecodeError"


class ErrorClass(enum.Enum):
    THROTTLED = "throttled"
    IN_PROGRESS = "in_progress"
    BUSY = "busy"
    NETWORK = "network"
    BAD_STATUS = "bad_status"
    MALFORMED_REPLY = "malformed_reply"
    INTERNAL = "internal"
    PERMANENT = "permanent"


# Classes proving the attempt was refused before Tencent did anything.
NOTHING_DONE = frozenset({ErrorClass.THROTTLED, ErrorClass.IN_PROGRESS, ErrorClass.BUSY})
# Classes where the attempt may or may not have taken effect.
OUTCOME_UNKNOWN = frozenset({ErrorClass.NETWORK, ErrorClass.BAD_STATUS, ErrorClass.MALFORMED_REPLY})

_RETRYABLE_READ = NOTHING_DONE | OUTCOME_UNKNOWN | {ErrorClass.INTERNAL}
_RETRYABLE_SAFE_WRITE = NOTHING_DONE | OUTCOME_UNKNOWN
_RETRYABLE_UNSAFE_WRITE = NOTHING_DONE

# Transport failures raised outside the SDK's wrapping (e.g. by a requests call of our own).
_NETWORK_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,  # builtin: refused, reset, aborted, broken pipe
    TimeoutError,  # also socket.timeout
)


def error_code(exc: BaseException) -> str:
    """A short, low-cardinality name for a failure: Tencent's code, the SDK's pseudo-code, or the type."""
    if isinstance(exc, TencentCloudSDKException):
        code = exc.get_code()
        return str(code) if code else "TencentCloudSDKException"
    return type(exc).__name__


def classify_code(code: str) -> ErrorClass:
    """The class of a Tencent error code (or one of the SDK's pseudo-codes)."""
    if code == IP_LIMIT_EXCEEDED:
        return ErrorClass.PERMANENT
    if code == THROTTLING_PREFIX or code.startswith(THROTTLING_PREFIX + "."):
        return ErrorClass.THROTTLED
    if code == IN_PROGRESS:
        return ErrorClass.IN_PROGRESS
    if code.startswith(("ResourceInUse", "ResourceBusy")):
        return ErrorClass.BUSY
    if code == CLIENT_NETWORK_ERROR:
        return ErrorClass.NETWORK
    if code == SERVER_NETWORK_ERROR:
        return ErrorClass.BAD_STATUS
    if code == JSON_DECODE_ERROR:
        return ErrorClass.MALFORMED_REPLY
    if code == "InternalError" or code.startswith("InternalError."):
        return ErrorClass.INTERNAL
    return ErrorClass.PERMANENT


def classify(exc: BaseException) -> ErrorClass:
    """The class of any exception raised by one attempt of a Tencent call."""
    if isinstance(exc, TencentCloudSDKException):
        return classify_code(error_code(exc))
    if isinstance(exc, json.JSONDecodeError):
        return ErrorClass.MALFORMED_REPLY
    if isinstance(exc, _NETWORK_EXCEPTIONS):
        return ErrorClass.NETWORK
    return ErrorClass.PERMANENT


def may_retry(error_class: ErrorClass, *, write: bool, retry_safe: bool) -> bool:
    """Whether an attempt that failed with `error_class` may be repeated (see the module docstring)."""
    if not write:
        return error_class in _RETRYABLE_READ
    if retry_safe:
        return error_class in _RETRYABLE_SAFE_WRITE
    return error_class in _RETRYABLE_UNSAFE_WRITE
