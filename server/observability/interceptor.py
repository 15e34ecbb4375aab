"""Server interceptor: request ID, RPC metrics and one access-log line per RPC (sync grpc server).

Install it FIRST in `grpc.server(interceptors=[...])`, so that it is the outermost layer: it then times
and counts everything, authentication failures included, and the request ID is set before any other layer
logs. The request ID comes from the `x-request-id` metadata (Envoy sets it on every request; native gRPC
callers may) when it is well-formed, otherwise a new uuid4. It is set in the HANDLER's thread (the behaviour
is wrapped, not just looked up), so the servicer, the gateway and every log line see it, and it is sent back
to the caller as trailing metadata `x-request-id` (appended to whatever trailing metadata the servicer sets,
error envelope included). Request and response bodies are never logged.

The access-log line is the one piece of an RPC's bookkeeping the caller does not need to wait for: when the
server's handler pool is a `ResponseFirstExecutor`, it is written right after grpc has handed the response
to the transport, in the same handler thread; metrics and the trailing metadata stay before the response.
(Writing a JSON line costs about 0.15 ms of a paced call's latency; see docs/performance.md.)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import grpc

from server.observability.logs import current_request_id, new_request_id, request_id_var
from server.observability.metrics import UNKNOWN_METHOD, Metrics

P = ParamSpec("P")
T = TypeVar("T")

REQUEST_ID_METADATA_KEY = "x-request-id"
ACCESS_LOGGER_NAME = "compute.access"

# A caller-supplied ID is reused only if it is short and plain: it goes into logs and, as X-TC-TraceId, to
# Tencent, so nothing that could break a line or a header is accepted. Envoy's uuid4s always pass.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

# Probes are counted but logged at DEBUG when they succeed, so they do not drown the access log.
DEFAULT_QUIET_METHODS = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})

_ERROR_CODES = frozenset({"UNKNOWN", "INTERNAL", "DATA_LOSS"})
_WARNING_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "UNIMPLEMENTED"})
_MAX_LOGGED_METHOD = 200


def request_id_from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The caller's `x-request-id` when well-formed, else a fresh uuid4."""
    for key, value in metadata or ():
        if (
            key.lower() == REQUEST_ID_METADATA_KEY
            and isinstance(value, str)
            and _VALID_REQUEST_ID.fullmatch(value)
        ):
            return value
    return new_request_id()


def request_id_for_context(context: grpc.ServicerContext) -> str:
    """The request ID of the RPC being handled, for code that is handed a servicer context: the one this
    interceptor assigned (so servicer, logs, Tencent trace header and reply metadata all agree), or, when the
    interceptor is not installed, one derived from the metadata by the same rule."""
    return current_request_id() or request_id_from_metadata(context.invocation_metadata())


def _code_name(code: Any) -> str:
    if isinstance(code, grpc.StatusCode):
        return code.name
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate.name
    return str(code)


def final_code(context: grpc.ServicerContext, error: BaseException | None) -> str:
    """The status the caller receives: a code set by abort()/set_code() wins; an exception without one is
    UNKNOWN (what grpc sends); a handler that returned after the caller left is CANCELLED or
    DEADLINE_EXCEEDED; otherwise OK."""
    code = context.code()
    if code is not None:
        return _code_name(code)
    if isinstance(error, GeneratorExit):  # a response stream abandoned because the caller went away
        return "CANCELLED"
    if error is not None:
        return "UNKNOWN"
    if not context.is_active():
        return "DEADLINE_EXCEEDED" if context.time_remaining() <= 0 else "CANCELLED"
    return "OK"


def _append_request_id(context: grpc.ServicerContext, request_id: str) -> None:
    existing = tuple(context.trailing_metadata() or ())
    if any(key.lower() == REQUEST_ID_METADATA_KEY for key, _ in existing):
        return
    context.set_trailing_metadata((*existing, (REQUEST_ID_METADATA_KEY, request_id)))


# --- work that may wait until the response is on its way ---------------------------------------------------

_after_response = threading.local()  # .tasks: the list of the work item running in this thread, if deferring


def run_after_response(task: Callable[[], None]) -> None:
    """Run `task` once grpc has handed this RPC's response to the transport, in this same thread, when the
    server's handler pool is a ResponseFirstExecutor; right now otherwise (another pool, outside an RPC)."""
    tasks: list[Callable[[], None]] | None = getattr(_after_response, "tasks", None)
    if tasks is None:
        task()
    else:
        tasks.append(task)


def _run_then_deferred(work: Callable[[], T]) -> T:
    tasks: list[Callable[[], None]] = []
    _after_response.tasks = tasks
    try:
        return work()
    finally:
        _after_response.tasks = None
        for task in tasks:
            try:
                task()
            except Exception:  # a failed log line must not take the worker thread down
                logging.getLogger(__name__).exception("work deferred after an RPC's response failed")


class ResponseFirstExecutor(ThreadPoolExecutor):
    """grpc's handler pool. grpc runs each RPC in one work item: deserialize, call the handler, serialize,
    start sending the response. Work handed to `run_after_response` while it runs is done at the end of
    that work item, after the send has started, instead of delaying the response."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return super().submit(_run_then_deferred, functools.partial(fn, *args, **kwargs))


class ObservabilityInterceptor(grpc.ServerInterceptor):
    """See the module docstring. `metrics`: where RPC counts, latencies and in-flight gauges go."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        access_logger: logging.Logger | None = None,
        quiet_methods: frozenset[str] = DEFAULT_QUIET_METHODS,
    ) -> None:
        self._metrics = metrics
        self._log = access_logger if access_logger is not None else logging.getLogger(ACCESS_LOGGER_NAME)
        self._quiet_methods = quiet_methods

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        request_id = request_id_from_metadata(handler_call_details.invocation_metadata)
        if handler is None:
            # grpc answers UNIMPLEMENTED; the method name is the caller's, so it is not used as a label.
            self._metrics.record_unknown_method()
            self._log.warning(
                "rpc",
                extra={
                    "method": method[:_MAX_LOGGED_METHOD],
                    "code": "UNIMPLEMENTED",
                    "duration_ms": 0.0,
                    "request_id": request_id,
                },
            )
            return None
        return self._wrap(handler, method, request_id)

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str, request_id: str) -> grpc.RpcMethodHandler:
        serializers = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._single(handler.unary_unary, method, request_id), **serializers
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._streaming(handler.unary_stream, method, request_id), **serializers
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._single(handler.stream_unary, method, request_id), **serializers
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._streaming(handler.stream_stream, method, request_id), **serializers
            )
        return handler

    def _single(
        self, behavior: Callable[[Any, grpc.ServicerContext], Any], method: str, request_id: str
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        """For RPCs with one response: the behaviour's whole run is the RPC."""

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            token = request_id_var.set(request_id)
            self._metrics.rpc_started(method)
            start = time.perf_counter()
            error: BaseException | None = None
            try:
                return behavior(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._finish(context, method, request_id, start, error)
                request_id_var.reset(token)

        return observed

    def _streaming(
        self, behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]], method: str, request_id: str
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        """For RPCs with a response stream: the RPC lasts until the stream ends, so the behaviour is called
        and drained inside a generator that grpc iterates in the handler thread."""

        def observed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            token = request_id_var.set(request_id)
            self._metrics.rpc_started(method)
            start = time.perf_counter()
            error: BaseException | None = None
            try:
                yield from behavior(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._finish(context, method, request_id, start, error)
                # ValueError: closed by the garbage collector in another context, nothing to restore there.
                with contextlib.suppress(ValueError):
                    request_id_var.reset(token)

        return observed

    def _finish(
        self,
        context: grpc.ServicerContext,
        method: str,
        request_id: str,
        start: float,
        error: BaseException | None,
    ) -> None:
        seconds = time.perf_counter() - start
        code = final_code(context, error)
        _append_request_id(context, request_id)
        self._metrics.rpc_finished(method, code, seconds)

        if code in _ERROR_CODES:
            level = logging.ERROR
        elif code in _WARNING_CODES:
            level = logging.WARNING
        elif method in self._quiet_methods:
            level = logging.DEBUG
        else:
            level = logging.INFO
        if not self._log.isEnabledFor(level):  # e.g. health checks at DEBUG: no fields, no peer lookup
            return
        fields: dict[str, Any] = {
            "method": method or UNKNOWN_METHOD,
            "code": code,
            "duration_ms": round(seconds * 1000.0, 3),
            "peer": context.peer(),
            "request_id": request_id,
        }
        if error is not None and context.code() is None and not isinstance(error, GeneratorExit):
            fields["error"] = type(error).__name__  # grpc logs the traceback itself ("Exception calling ...")
        run_after_response(lambda: self._log.log(level, "rpc", extra=fields))
