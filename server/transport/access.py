"""May the current caller act for the request's tenant? The answer comes from the caller the auth
interceptor (server/security/) put in the context; a refusal is the service's PERMISSION_DENIED, raised by
`Caller.require_tenant` itself."""

from __future__ import annotations

from server.security.caller import current_caller


class CallerTenantAccess:
    def authorize(self, tenant: str) -> str:
        """Raise PERMISSION_DENIED (TENANT_NOT_ALLOWED) unless the current caller may act for `tenant`;
        return the caller's subject, for the audit trail."""
        caller = current_caller()
        caller.require_tenant(tenant)
        return caller.subject
