"""Caller authentication for every RPC, gRPC and JSON alike, as one grpc server interceptor.

Envoy forwards the JSON caller's `Authorization` header as the `authorization` metadata, so both surfaces are
checked here the same way. The check runs in `intercept_service`, before the request body is even parsed;
it costs microseconds (one SHA-256 in token mode, a cached signature check in jwt mode). A rejected call
gets UNAUTHENTICATED with an ErrorInfo and the legacy envelope trailer. An accepted call runs its handler
with `current_caller()` set: the handler's behaviour function is wrapped so the contextvar is set in the
worker thread that runs it (interceptors run on grpc's polling thread, whose context the handler never sees).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import grpc

from server.security.caller import ANONYMOUS, Caller, caller_context
from server.security.errors import AuthenticationError, malformed_credentials, missing_credentials
from server.security.jwt_auth import JwtAuthenticator
from server.security.settings import AuthMode, AuthSettings
from server.security.tokens import StaticTokenAuthenticator
from server.transport.errors import abort_with_error

log = logging.getLogger(__name__)

AUTHORIZATION_METADATA = "authorization"
MAX_TOKEN_LENGTH = 8192  # far above any sane JWT; bounds the work an anonymous caller can cause


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Caller:
        """Return the caller the token identifies or raise AuthenticationError."""
        ...


class _AllowAnonymous:
    def authenticate(self, token: str) -> Caller:
        return ANONYMOUS


def build_authenticator(settings: AuthSettings) -> Authenticator:
    """Pick the verifier for the configured mode (loads JWT keys now, so bad key files fail the start)."""
    if settings.mode is AuthMode.TOKEN:
        return StaticTokenAuthenticator(settings.tokens)
    if settings.mode is AuthMode.JWT:
        assert settings.jwt is not None  # AuthSettings.from_mapping guarantees it
        return JwtAuthenticator(settings.jwt)
    return _AllowAnonymous()


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    """The token of the single `authorization: Bearer <token>` metadata entry, or AuthenticationError."""
    values = [value for key, value in metadata or () if key == AUTHORIZATION_METADATA]
    if not values:
        raise missing_credentials()
    if len(values) > 1 or not isinstance(values[0], str):
        raise malformed_credentials()
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token or len(token) > MAX_TOKEN_LENGTH:
        raise malformed_credentials()
    return token


class AuthInterceptor(grpc.ServerInterceptor):
    def __init__(self, settings: AuthSettings, authenticator: Authenticator | None = None) -> None:
        self._settings = settings
        self._authenticator = authenticator or build_authenticator(settings)
        self._exempt_prefixes = tuple(f"/{service}/" for service in settings.exempt_services)
        # method -> (handler, the handler wrapped with ANONYMOUS). Wrapping allocates new closures and a new
        # handler; in mode none every call has the same caller, so each method's wrapper is built once.
        # Bounded: only methods the server serves get here.
        self._anonymous_handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method
        if method.startswith(self._exempt_prefixes):
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # unknown method: grpc answers UNIMPLEMENTED, nothing to protect
        try:
            caller = self._authenticate(handler_call_details)
        except AuthenticationError as error:
            return _rejecting_handler(handler, error, method)
        if caller is ANONYMOUS:
            return self._anonymous_handler(method, handler)
        return _with_caller(handler, caller)

    def _anonymous_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        cached = self._anonymous_handlers.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = _with_caller(handler, ANONYMOUS)
        self._anonymous_handlers[method] = (handler, wrapped)
        return wrapped

    def _authenticate(self, details: grpc.HandlerCallDetails) -> Caller:
        if self._settings.mode is AuthMode.NONE:
            return ANONYMOUS
        metadata = details.invocation_metadata
        return self._authenticator.authenticate(bearer_token(metadata))


def warn_if_insecure(settings: AuthSettings, logger: logging.Logger) -> bool:
    """Call once at startup: logs a loud warning in mode none (returns True then), else one info line."""
    if settings.mode is AuthMode.NONE:
        banner = "!" * 72
        logger.warning(
            '%s\nAUTHENTICATION IS OFF ([auth] mode = "none"): every caller may act for EVERY tenant.\n'
            'This is for the local demo only. Set [auth] mode = "token" or "jwt" anywhere else.\n%s',
            banner,
            banner,
        )
        return True
    if settings.mode is AuthMode.TOKEN:
        logger.info("authentication: static bearer tokens (%d configured)", len(settings.tokens))
    elif settings.jwt is not None:
        logger.info(
            "authentication: JWT (%s) from issuer %s, audience %s",
            "/".join(sorted(settings.jwt.algorithms)),
            settings.jwt.issuer,
            ", ".join(settings.jwt.audiences),
        )
    return False


# --- handler wrapping ----------------------------------------------------------------------------------

_Behaviour = Callable[[Any, grpc.ServicerContext], Any]


def _with_caller(handler: grpc.RpcMethodHandler, caller: Caller) -> grpc.RpcMethodHandler:
    """The same handler, its behaviour run with `caller` as the current caller."""

    def unary_response(behaviour: _Behaviour) -> _Behaviour:
        def run(request: Any, context: grpc.ServicerContext) -> Any:
            with caller_context(caller):
                return behaviour(request, context)

        return run

    def stream_response(behaviour: _Behaviour) -> _Behaviour:
        def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            # grpc drains the iterator on this same worker thread, so the caller stays set throughout.
            with caller_context(caller):
                yield from behaviour(request, context)

        return run

    return _rebuild(handler, unary_response, stream_response)


def _rejecting_handler(
    handler: grpc.RpcMethodHandler, error: AuthenticationError, method: str
) -> grpc.RpcMethodHandler:
    def reject(request: Any, context: grpc.ServicerContext) -> Any:
        # Logged here, in the handler's thread, where the observability interceptor's request id is set.
        log.info("rejected call to %s: %s", method, error.reason)
        abort_with_error(context, error)

    def wrap(_: _Behaviour) -> _Behaviour:
        return reject

    # The request is never read: leave it as raw bytes so a garbled body still gets UNAUTHENTICATED.
    return _rebuild(handler, wrap, wrap, raw_request=True)


def _rebuild(
    handler: grpc.RpcMethodHandler,
    wrap_unary_response: Callable[[_Behaviour], _Behaviour],
    wrap_stream_response: Callable[[_Behaviour], _Behaviour],
    raw_request: bool = False,
) -> grpc.RpcMethodHandler:
    h: Any = handler  # RpcMethodHandler's attributes are not in grpc's type stubs
    deserializer = None if raw_request else h.request_deserializer
    serializer = h.response_serializer
    if h.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            wrap_unary_response(h.unary_unary), deserializer, serializer
        )
    if h.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            wrap_stream_response(h.unary_stream), deserializer, serializer
        )
    if h.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            wrap_unary_response(h.stream_unary), deserializer, serializer
        )
    return grpc.stream_stream_rpc_method_handler(
        wrap_stream_response(h.stream_stream), deserializer, serializer
    )
