"""ServiceError -> what a gRPC caller receives, and what Envoy turns into the JSON envelope.

On error the call ends with:
- status code = the error's canonical code, details = its English message;
- `grpc-status-details-bin`: google.rpc.Status with an ErrorInfo (reason, domain, metadata incl.
  tencent_request_id) and, for invalid input, a BadRequest with one field violation per problem;
- `x-legacy-envelope`: the complete legacy envelope as ASCII-only JSON (Envoy's Lua filter copies it into
  the body for JSON callers): {"scode", "desc", "message", "message_cn", "stack": null, "data": {}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from server.compute.errors import ServiceError
from server.observability.interceptor import request_id_for_context

ERROR_DOMAIN = "compute.tencent.v1"
ENVELOPE_TRAILER = "x-legacy-envelope"
STATUS_DETAILS_TRAILER = "grpc-status-details-bin"


def status_code(error: ServiceError) -> grpc.StatusCode:
    try:
        return grpc.StatusCode[error.code]
    except KeyError:
        return grpc.StatusCode.UNKNOWN


def code_number(error: ServiceError) -> int:
    number: int = status_code(error).value[0]
    return number


def legacy_envelope(error: ServiceError) -> dict[str, Any]:
    return {
        "scode": code_number(error),
        "desc": error.reason,
        "message": error.message,
        "message_cn": error.message_cn,
        "stack": None,
        "data": {},
    }


def rich_status(error: ServiceError) -> status_pb2.Status:
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata)
    details = [info]
    if error.field_violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in error.field_violations
                ]
            )
        )
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(code=code_number(error), message=error.message, details=packed)


@dataclass(frozen=True)
class _Status(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def abort_with_error(context: grpc.ServicerContext, error: ServiceError) -> NoReturn:
    """End the RPC with `error`. Both trailers go into one grpc.Status: `abort_with_status` replaces any
    trailing metadata set before it, so setting the envelope separately would lose it."""
    # Every error names the request id (the one in the logs), whichever layer raised it: the servicer,
    # or an interceptor that rejects the call before the servicer runs.
    error.metadata.setdefault("request_id", request_id_for_context(context))
    envelope = json.dumps(legacy_envelope(error), ensure_ascii=True)
    status = _Status(
        code=status_code(error),
        details=error.message,
        trailing_metadata=(
            (STATUS_DETAILS_TRAILER, rich_status(error).SerializeToString()),
            (ENVELOPE_TRAILER, envelope),
        ),
    )
    context.abort_with_status(status)
    raise AssertionError("unreachable: abort_with_status raises")  # pragma: no cover
