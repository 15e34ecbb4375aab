"""May the current caller act for the request's tenant? The answer comes from the caller the auth
interceptor (server/security/) put in the context; a refusal becomes the service's PERMISSION_DENIED."""

from __future__ import annotations

from server.compute.errors import PermissionDenied
from server.security.caller import PermissionDenied as CallerNotAllowed
from server.security.caller import current_caller


class CallerTenantAccess:
    def authorize(self, tenant: str) -> str | None:
        caller = current_caller()
        try:
            caller.require_tenant(tenant)
        except CallerNotAllowed as refusal:
            raise PermissionDenied(
                refusal.message,
                refusal.message_cn,
                reason=refusal.reason,
                metadata={"tenant_uuid": tenant},
            ) from None
        return caller.subject
