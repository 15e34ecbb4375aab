"""Caller authentication (auth modes none / token / jwt) and the current caller of an RPC.

Wiring (server/app.py):
    settings = AuthSettings.from_mapping(config["auth"])
    warn_if_insecure(settings, log)
    server = grpc.server(executor, interceptors=[..., AuthInterceptor(settings)])
The servicer (through server/transport/access.py):
    caller = current_caller(); caller.require_tenant(request.TenantUuid)  # raises PermissionDenied
"""

from server.compute.errors import PermissionDenied
from server.security.auth import AuthInterceptor, warn_if_insecure
from server.security.caller import Caller, NoCallerError, caller_context, current_caller
from server.security.errors import AuthenticationError
from server.security.settings import AuthConfigError, AuthMode, AuthSettings

__all__ = [
    "AuthConfigError",
    "AuthInterceptor",
    "AuthMode",
    "AuthSettings",
    "AuthenticationError",
    "Caller",
    "NoCallerError",
    "PermissionDenied",
    "caller_context",
    "current_caller",
    "warn_if_insecure",
]
