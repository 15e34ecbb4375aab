"""One cloud API call, from bytes received to bytes to send, in Tencent's order of checks:
parse -> signature -> injected fault (latency, drop, non-200, error) -> throttle -> the model.

Nothing here knows HTTP server mechanics (http_server.py) or the cloud model (the Backend).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.backend import Backend, CallContext
from emulator.counters import Counters
from emulator.errors import ApiError
from emulator.faults import FaultInjector
from emulator.journal import Journal
from emulator.signature import SignedRequest, verify
from emulator.throttle import Throttle, rate_limit_exceeded
from emulator.wire import (
    Reply,
    choose_language,
    encode_error,
    encode_success,
    new_request_id,
    parse_json_body,
    parse_query,
)

log = logging.getLogger(__name__)

_ACTION = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,79}$")
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class CloudRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lowercased names -> values as received
    body: bytes


class CloudApi:
    def __init__(
        self,
        backend: Backend,
        throttle: Throttle,
        faults: FaultInjector,
        counters: Counters,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        journal: Journal | None = None,
    ) -> None:
        self._backend = backend
        self._journal = journal if journal is not None else Journal()
        self._throttle = throttle
        self._faults = faults
        self._counters = counters
        self._clock = clock
        self._sleep = sleep

    def handle(self, request: CloudRequest) -> Reply | None:
        """The reply to send, or None to drop the connection without a reply (an injected fault)."""
        request_id = new_request_id()
        language = choose_language(request.headers.get("x-tc-language"))
        self._counters.request_started()
        try:
            return self._handle(request, request_id, language)
        except ApiError as error:
            return Reply(200, encode_error(error, language, request_id))
        except Exception:
            log.exception(
                "internal error in %s (RequestId %s)", request.headers.get("x-tc-action"), request_id
            )
            return Reply(200, encode_error(_internal_error(), language, request_id))
        finally:
            self._counters.request_finished()

    def _handle(self, request: CloudRequest, request_id: str, language: str) -> Reply | None:
        if request.method not in ("GET", "POST"):
            error = ApiError(
                "UnsupportedProtocol",
                f"HTTP method {request.method} is not supported; use GET or POST.",
                f"不支持 HTTP 方法 {request.method}，请使用 GET 或 POST。",
            )
            return Reply(405, encode_error(error, language, request_id))
        params = self._parameters(request)
        action = _required_header(request, "x-tc-action", "Action")
        if not _ACTION.match(action):
            raise ApiError(
                "InvalidAction", f"The action `{action[:80]}` is not valid.", f"接口 `{action[:80]}` 不存在。"
            )
        version = _required_header(request, "x-tc-version", "Version")
        try:
            caller = verify(
                SignedRequest(request.method, request.path, request.query, request.headers, request.body),
                self._backend.secret_key_for,
                self._clock(),
            )
        except ApiError:
            self._counters.auth_failed()
            raise
        self._counters.call(caller.secret_id, action)

        fault = self._faults.decide(caller.secret_id, action)
        if fault.latency_seconds > 0:
            self._sleep(fault.latency_seconds)
        if fault.injected:
            self._counters.fault_injected()
            if fault.drop:
                return None
            if fault.http_status is not None:
                return _gateway_failure(fault.http_status)
            if fault.error is not None:
                raise fault.error

        if not self._throttle.try_acquire(caller.secret_id, action):
            self._counters.throttled(action)
            raise rate_limit_exceeded(action)

        context = CallContext(
            account=caller.secret_id,
            service=caller.service,
            action=action,
            version=version,
            region=request.headers.get("x-tc-region", "").strip(),
            language=language,
            request_id=request_id,
        )
        self._journal.record(context, params)
        return Reply(200, encode_success(self._backend.dispatch(context, params), request_id))

    @staticmethod
    def _parameters(request: CloudRequest) -> dict[str, Any]:
        if request.method == "GET":
            return parse_query(request.query)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == _FORM_CONTENT_TYPE:
            try:
                return parse_query(request.body.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise ApiError(
                    "InvalidParameter", "The request body is not valid UTF-8.", "请求体不是合法的 UTF-8。"
                ) from exc
        return parse_json_body(request.body)


def _required_header(request: CloudRequest, header: str, parameter: str) -> str:
    value = request.headers.get(header, "").strip()
    if not value:
        raise ApiError(
            "MissingParameter",
            f"The request is missing a required parameter `{parameter}`.",
            f"缺少必选参数 `{parameter}`。",
        )
    return value


def _gateway_failure(status: int) -> Reply:
    """What a load balancer in front of the API sends when it fails: a small HTML page, not JSON."""
    body = f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>\n"
    return Reply(status, body.encode("ascii"), "text/html")


def _internal_error() -> ApiError:
    return ApiError(
        "InternalError",
        "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
        "内部错误，请重试；如果问题持续存在，请联系我们。",
    )
