"""Authentication failures. They are ServiceErrors (code UNAUTHENTICATED), so the interceptor answers them
with the service's one error builder, server/transport/errors.py: rich google.rpc.Status with an ErrorInfo
plus the legacy envelope in the `x-legacy-envelope` trailer that Envoy shows JSON callers."""

from __future__ import annotations

from server.compute.errors import Unauthenticated


class AuthenticationError(Unauthenticated):
    """Missing or invalid credentials (a ServiceError, code UNAUTHENTICATED). Messages are fixed texts: they
    never echo any part of the token."""


def missing_credentials() -> AuthenticationError:
    return AuthenticationError(
        "missing credentials: send the header 'Authorization: Bearer <token>'",
        "缺少身份凭据：请在请求头中携带 'Authorization: Bearer <token>'",
        reason="MISSING_CREDENTIALS",
    )


def malformed_credentials() -> AuthenticationError:
    return AuthenticationError(
        "malformed Authorization header: expected exactly one 'Bearer <token>'",
        "Authorization 请求头格式错误：应为唯一的 'Bearer <token>'",
        reason="MALFORMED_CREDENTIALS",
    )


def invalid_credentials(detail: str = "the token is not valid") -> AuthenticationError:
    return AuthenticationError(f"invalid credentials: {detail}", "身份凭据无效", reason="INVALID_CREDENTIALS")


def expired_credentials() -> AuthenticationError:
    return AuthenticationError(
        "invalid credentials: the token has expired", "身份凭据已过期", reason="EXPIRED_CREDENTIALS"
    )
