"""Who is calling: set by the auth interceptor around each handler, read by the handler.

The handler never parses credentials itself; it asks `current_caller()` and checks the request's TenantUuid
with `Caller.require_tenant`. Asking outside an authenticated call is a programming error and fails loudly
rather than defaulting to an all-powerful caller.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

from server.compute.errors import PermissionDenied


@dataclass(frozen=True)
class Caller:
    subject: str  # who: token subject from the config, or the JWT's subject claim; "anonymous" in mode none
    tenants: frozenset[str] | None  # tenants this caller may act for; None = any tenant

    def may_act_for(self, tenant: str) -> bool:
        return self.tenants is None or tenant in self.tenants

    def require_tenant(self, tenant: str) -> None:
        """Raise PermissionDenied (the service's own ServiceError, answered as PERMISSION_DENIED with reason
        TENANT_NOT_ALLOWED) unless this caller may act for `tenant`."""
        if not self.may_act_for(tenant):
            raise PermissionDenied(
                f"caller {self.subject!r} may not act for tenant {tenant!r}",
                f"调用方 {self.subject!r} 无权操作租户 {tenant!r}",
                reason="TENANT_NOT_ALLOWED",
                metadata={"tenant_uuid": tenant},
            )


ANONYMOUS = Caller(subject="anonymous", tenants=None)


class NoCallerError(RuntimeError):
    """current_caller() was called outside a call the auth interceptor let through (a wiring bug)."""


_current: contextvars.ContextVar[Caller] = contextvars.ContextVar("compute_caller")


def current_caller() -> Caller:
    try:
        return _current.get()
    except LookupError:
        raise NoCallerError(
            "no authenticated caller in this context: is AuthInterceptor installed on the server?"
        ) from None


@contextlib.contextmanager
def caller_context(caller: Caller) -> Iterator[Caller]:
    """Make `caller` the current caller for the duration of the block (the interceptor uses this)."""
    token = _current.set(caller)
    try:
        yield caller
    finally:
        _current.reset(token)
