# Error classes are named after the canonical status codes they carry (NotFound, not NotFoundError).
# ruff: noqa: N818
"""The service's own error type. Every failure a caller can see is a `ServiceError`.

A ServiceError carries what both surfaces need, and nothing transport-specific:
- `code`: the gRPC canonical code *name* ("NOT_FOUND"); the transport turns it into a status;
- `reason`: the Tencent error code ("InvalidInstanceId.NotFound") or our own UPPER_SNAKE reason;
- `message` (English) and `message_cn` (Chinese) for the legacy envelope;
- `metadata`: dynamic values for google.rpc.ErrorInfo, e.g. `tencent_request_id`;
- `field_violations`: (field, description) pairs for google.rpc.BadRequest.

Messages must never contain secrets (SecretKeys, passwords): build them from IDs and codes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    field: str  # the request field path, legacy spelling ("Placement.Zone", "InstanceIds[2]")
    description: str


class ServiceError(Exception):
    code = "UNKNOWN"
    default_reason = "UNKNOWN"

    def __init__(
        self,
        message: str,
        message_cn: str | None = None,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        field_violations: Iterable[FieldViolation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_cn = message_cn if message_cn is not None else message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations: tuple[FieldViolation, ...] = tuple(field_violations)

    def with_context(self, message: str, message_cn: str, **metadata: str) -> ServiceError:
        """The same error (same class, reason, details) with a message that says more, e.g. which part of
        a batch had already been applied when it happened."""
        clone = type(self)(
            message,
            message_cn,
            reason=self.reason,
            metadata={**self.metadata, **metadata},
            field_violations=self.field_violations,
        )
        clone.__cause__ = self
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, reason={self.reason!r}, message={self.message!r})"


class InvalidArgument(ServiceError):
    code = "INVALID_ARGUMENT"
    default_reason = "INVALID_ARGUMENT"


class NotFound(ServiceError):
    code = "NOT_FOUND"
    default_reason = "NOT_FOUND"


class FailedPrecondition(ServiceError):
    code = "FAILED_PRECONDITION"
    default_reason = "FAILED_PRECONDITION"


class Aborted(ServiceError):
    code = "ABORTED"
    default_reason = "ABORTED"


class AlreadyExists(ServiceError):
    code = "ALREADY_EXISTS"
    default_reason = "ALREADY_EXISTS"


class PermissionDenied(ServiceError):
    code = "PERMISSION_DENIED"
    default_reason = "PERMISSION_DENIED"


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"
    default_reason = "UNAUTHENTICATED"


class ResourceExhausted(ServiceError):
    code = "RESOURCE_EXHAUSTED"
    default_reason = "RESOURCE_EXHAUSTED"


class DeadlineExceeded(ServiceError):
    code = "DEADLINE_EXCEEDED"
    default_reason = "DEADLINE_EXCEEDED"


class Unavailable(ServiceError):
    code = "UNAVAILABLE"
    default_reason = "UNAVAILABLE"


class Internal(ServiceError):
    code = "INTERNAL"
    default_reason = "INTERNAL"


class Unknown(ServiceError):
    code = "UNKNOWN"
    default_reason = "UNKNOWN"


# code name -> class, so code that learns a code at run time (Tencent error mapping) can build the right one.
ERROR_CLASSES: Mapping[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        FailedPrecondition,
        Aborted,
        AlreadyExists,
        PermissionDenied,
        Unauthenticated,
        ResourceExhausted,
        DeadlineExceeded,
        Unavailable,
        Internal,
        Unknown,
    )
}
