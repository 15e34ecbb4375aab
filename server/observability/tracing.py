"""Send the current request ID to Tencent as the `X-TC-TraceId` header.

How the SDK (tencentcloud-sdk-python-common 3.1.195) does it: every typed client method (e.g.
`CvmClient.DescribeInstances(req)`) passes `req.headers` to `AbstractClient.call(...)`, and `_call` adds
`X-TC-TraceId: <uuid4>` only when the given headers have no `X-TC-TraceId` key (case-insensitive). So setting
`req.headers = {"X-TC-TraceId": request_id}` on the request model sends our ID instead of a random one;
`call_json(action, params, headers=...)` takes the same dict.

Two traps, both handled by always building a fresh dict:
- the SDK writes into the dict it is given (X-TC-TraceId, then the signed Host, X-TC-Action, X-TC-Timestamp,
  Authorization, ... headers), so a dict shared between calls or threads would race and carry one call's
  signature into the next;
- after the call the model's `headers` therefore holds the Authorization header: never log `req.headers`.
"""

from __future__ import annotations

from typing import TypeVar

from server.observability.logs import current_request_id

TRACE_HEADER = "X-TC-TraceId"

ModelT = TypeVar("ModelT")


def trace_headers(request_id: str | None = None) -> dict[str, str]:
    """A new headers dict carrying `request_id` (default: the current request's ID) as X-TC-TraceId; empty
    outside a request, in which case the SDK generates its own trace ID."""
    trace_id = request_id if request_id is not None else current_request_id()
    return {TRACE_HEADER: trace_id} if trace_id else {}


def with_trace_header(request: ModelT, request_id: str | None = None) -> ModelT:
    """Give an SDK request model (any `AbstractModel`) fresh headers carrying the trace ID, and return it:
    `client.DescribeInstances(with_trace_header(req))`. Call it per attempt when a model is reused."""
    request.headers = trace_headers(request_id)  # type: ignore[attr-defined]
    return request
