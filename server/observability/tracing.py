"""Send the current request ID to Tencent as the `X-TC-TraceId` header.

How the SDK (tencentcloud-sdk-python-common 3.1.195) does it: `AbstractClient._call` adds
`X-TC-TraceId: <uuid4>` only when the headers it is given have no `X-TC-TraceId` key (case-insensitive), so
the gateway's `client.call_json(action, params, headers=trace_headers(request_id))` sends our ID instead of
a random one.

The trap: the SDK writes into the dict it is given (X-TC-TraceId, then the signed Host, X-TC-Action,
X-TC-Timestamp, Authorization, ... headers), so a dict shared between calls or threads would race and carry
one call's signature into the next, and the dict holds the Authorization header afterwards (never log it).
Hence a fresh dict for every attempt.
"""

from __future__ import annotations

from server.observability.logs import current_request_id

TRACE_HEADER = "X-TC-TraceId"


def trace_headers(request_id: str | None = None) -> dict[str, str]:
    """A new headers dict carrying `request_id` (default: the current request's ID) as X-TC-TraceId; empty
    outside a request, in which case the SDK generates its own trace ID."""
    trace_id = request_id if request_id is not None else current_request_id()
    return {TRACE_HEADER: trace_id} if trace_id else {}
