"""The ONLY place that calls the Tencent SDK.

Per call: rate limiter -> retry policy -> SDK call with a timeout taken from the caller's deadline, Tencent
trace header (X-TC-TraceId) = our request id; SDK exceptions become `ServiceError` (server/tencent/errors.py).

Parts:
- `limiter`  (server/tencent/ratelimit.py): a token is taken before every attempt, retries included; the key
  is the cluster's Tencent account (SecretId);
- `retry`    (server/tencent/retry.py): which failures are tried again, and when to stop;
- `observer` (optional; server/observability/metrics.py `Metrics` fits): told about every attempt and
  limiter wait;
- `audit`    (optional; server/store/audit.py): told before and after every mutating call;
- mutation listeners (`add_mutation_listener`; the listing snapshot's invalidation): called after every
  mutating call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from server.compute.errors import DeadlineExceeded, ResourceExhausted, ServiceError, Unavailable
from server.compute.ports import Scope, TencentService
from server.observability.tracing import trace_headers
from server.tencent.clients import DEFAULT_TIMEOUT_SECONDS, ClientPool, call_timeout
from server.tencent.errors import upstream_error
from server.tencent.errors_policy import CLIENT_NETWORK_ERROR
from server.tencent.ratelimit import RateLimiter, RateLimitTimeout
from server.tencent.retry import RetryPolicy, repeat_is_harmless


class GatewayObserver(Protocol):
    def record_tencent_call(self, action: str, error_code: str | None, seconds: float) -> None:
        """One SDK attempt finished (error_code None = success)."""

    def record_ratelimit_wait(self, action: str, seconds: float) -> None:
        """Time spent waiting for a limiter token before one attempt."""

    def record_ratelimit_timeout(self, action: str) -> None:
        """No limiter token could come before the deadline."""


class CallAudit(Protocol):
    def started(self, scope: Scope, action: str, params: Mapping[str, Any]) -> object:
        """Before a mutating call; returns a handle passed to `finished`. Must not keep secrets
        (params may hold a password)."""

    def finished(
        self, handle: object, response: Mapping[str, Any] | None, error: ServiceError | None
    ) -> None: ...


MutationListener = Callable[[Scope, str], None]  # (scope, action) after a mutating call, even a failed one


class TencentGateway:
    def __init__(
        self,
        clients: ClientPool,
        *,
        limiter: RateLimiter,
        retry: RetryPolicy,
        observer: GatewayObserver | None = None,
        audit: CallAudit | None = None,
    ) -> None:
        self._clients = clients
        self._limiter = limiter
        self._retry = retry
        self._observer = observer
        self._audit = audit
        self._mutation_listeners: list[MutationListener] = []

    def add_mutation_listener(self, listener: MutationListener) -> None:
        """Wiring only (before serving): e.g. the listing snapshot's invalidation."""
        self._mutation_listeners.append(listener)

    def call(
        self,
        scope: Scope,
        service: TencentService,
        action: str,
        params: dict[str, Any],
        *,
        write: bool,
    ) -> dict[str, Any]:
        handle = self._audit.started(scope, action, params) if write and self._audit else None
        try:
            response = self._call_with_policies(scope, service, action, params, write=write)
        except ServiceError as error:
            if self._audit is not None and handle is not None:
                self._audit.finished(handle, None, error)
            raise
        finally:
            if write:
                for listener in self._mutation_listeners:
                    listener(scope, action)
        if self._audit is not None and handle is not None:
            self._audit.finished(handle, response, None)
        return response

    def _call_with_policies(
        self, scope: Scope, service: TencentService, action: str, params: dict[str, Any], *, write: bool
    ) -> dict[str, Any]:
        client = self._clients.get(scope.cluster, scope.region, service)

        def attempt(timeout: float | None) -> dict[str, Any]:
            waited = self._limiter.acquire(scope.cluster.account, action, scope.deadline)
            if self._observer is not None:
                self._observer.record_ratelimit_wait(action, waited)
            remaining = scope.remaining()
            if timeout is not None:
                remaining = timeout if remaining is None else min(timeout, remaining)
            if remaining is not None and remaining <= 0:
                raise _deadline_exceeded(action)
            started = time.monotonic()
            try:
                with call_timeout(remaining if remaining is not None else DEFAULT_TIMEOUT_SECONDS):
                    # A fresh headers dict per attempt: the SDK adds to the one it is given.
                    body = client.call_json(action, params, headers=trace_headers(scope.request_id))
            except TencentCloudSDKException as exc:
                self._observe(action, str(exc.get_code()), started)
                raise
            except ValueError as exc:  # json.JSONDecodeError: a 200 reply that is not JSON
                self._observe(action, type(exc).__name__, started)
                raise
            self._observe(action, None, started)
            response: dict[str, Any] = body["Response"]
            return response

        try:
            return self._retry.run(
                attempt,
                action=action,
                write=write,
                deadline=scope.deadline,
                retry_safe=repeat_is_harmless(action, params),
            )
        except TencentCloudSDKException as exc:
            if (
                exc.get_code() == CLIENT_NETWORK_ERROR
                and scope.deadline is not None
                and not scope.remaining()
            ):
                raise _deadline_exceeded(action) from None
            raise upstream_error(exc, action) from None
        except json.JSONDecodeError:
            raise Unavailable(
                f"Tencent Cloud answered {action} with a reply that is not JSON",
                f"腾讯云对 {action} 的应答不是合法的 JSON",
                reason="MALFORMED_UPSTREAM_REPLY",
                metadata={"tencent_action": action},
            ) from None
        except RateLimitTimeout:
            if self._observer is not None:
                self._observer.record_ratelimit_timeout(action)
            raise ResourceExhausted(
                f"too many {action} calls for this cluster's Tencent account; none could be made before "
                "the request's deadline, retry later",
                f"该集群腾讯云账号的 {action} 调用过多，在请求截止时间前无法发出，请稍后重试",
                reason="CLIENT_RATE_LIMITED",
                metadata={"tencent_action": action},
            ) from None

    def _observe(self, action: str, error_code: str | None, started: float) -> None:
        if self._observer is not None:
            self._observer.record_tencent_call(action, error_code, time.monotonic() - started)


def _deadline_exceeded(action: str) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"the request's deadline passed before Tencent Cloud {action} completed",
        f"请求在腾讯云 {action} 完成前已超时",
        reason="DEADLINE_EXCEEDED",
        metadata={"tencent_action": action},
    )
