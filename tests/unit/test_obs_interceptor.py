"""The observability interceptor on a real grpc server (free port) with a tiny bytes-in/bytes-out servicer."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from server.observability.interceptor import (
    ACCESS_LOGGER_NAME,
    ObservabilityInterceptor,
    request_id_for_context,
)
from server.observability.logs import JsonFormatter, current_request_id
from server.observability.metrics import Metrics

SERVICE = "test.Probe"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
handler_log = logging.getLogger("test.obs.handler")


def echo_request_id(request: bytes, context: grpc.ServicerContext) -> bytes:
    handler_log.info("inside the handler")
    return (current_request_id() or "").encode()


def echo_context_request_id(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request_id_for_context(context).encode()


def abort_not_found(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.abort(grpc.StatusCode.NOT_FOUND, "no such cluster")
    raise AssertionError("abort returns by raising")


def abort_with_envelope(request: bytes, context: grpc.ServicerContext) -> bytes:
    # Like the real servicer: the status carries its own trailing metadata (the legacy envelope).
    class Status(grpc.Status):
        code = grpc.StatusCode.FAILED_PRECONDITION
        details = "instance busy"
        trailing_metadata = (("x-legacy-envelope", '{"scode": 9}'),)

    context.abort_with_status(Status())
    raise AssertionError("abort_with_status returns by raising")


def set_code_and_return(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.set_code(grpc.StatusCode.INVALID_ARGUMENT)
    context.set_details("bad PageSize")
    return b""


def set_trailers_and_return(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.set_trailing_metadata((("x-legacy-envelope", '{"scode": 0}'),))
    return b"ok"


def crash(request: bytes, context: grpc.ServicerContext) -> bytes:
    raise RuntimeError("unexpected")


def stream_request_id(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    for _ in range(3):
        yield (current_request_id() or "").encode()


def wait_for_caller_to_leave(request: bytes, context: grpc.ServicerContext) -> bytes:
    gone = threading.Event()
    context.add_callback(gone.set)
    gone.wait(timeout=10)
    return b"too late"


UNARY: dict[str, Callable[[bytes, grpc.ServicerContext], bytes]] = {
    "Echo": echo_request_id,
    "ContextId": echo_context_request_id,
    "Abort": abort_not_found,
    "AbortWithStatus": abort_with_envelope,
    "SetCode": set_code_and_return,
    "Trailers": set_trailers_and_return,
    "Crash": crash,
    "Slow": wait_for_caller_to_leave,
}


class DenyAll(grpc.ServerInterceptor):
    """Stands in for the auth interceptor (installed after ours) rejecting a call before the servicer."""

    def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        if dict(details.invocation_metadata).get("deny") != "yes":
            return continuation(details)

        def reject(request: bytes, context: grpc.ServicerContext) -> bytes:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no token")
            raise AssertionError

        return grpc.unary_unary_rpc_method_handler(reject)


class Harness:
    def __init__(self, *, observed: bool = True) -> None:
        self.metrics = Metrics(process_metrics=False)
        self.log = io.StringIO()
        handlers: dict[str, grpc.RpcMethodHandler] = {
            name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in UNARY.items()
        }
        handlers["Stream"] = grpc.unary_stream_rpc_method_handler(stream_request_id)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4),
            interceptors=[ObservabilityInterceptor(self.metrics), DenyAll()] if observed else [],
        )
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")

    def unary(self, name: str) -> grpc.UnaryUnaryMultiCallable:
        return self.channel.unary_unary(f"/{SERVICE}/{name}")

    def count(self, name: str, code: str) -> float:
        found = self.metrics.registry.get_sample_value(
            "compute_rpc_requests_total", {"method": f"/{SERVICE}/{name}", "code": code}
        )
        return 0.0 if found is None else found

    def access_lines(self) -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in self.log.getvalue().splitlines()]
        return [line for line in parsed if line["logger"] == ACCESS_LOGGER_NAME]

    def close(self) -> None:
        self.channel.close()
        self.server.stop(grace=None)


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    handler = logging.StreamHandler(h.log)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(ACCESS_LOGGER_NAME), handler_log]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    try:
        yield h
    finally:
        h.close()
        for logger in loggers:
            logger.removeHandler(handler)
            logger.propagate = True


def trailing(call: Any) -> dict[str, str]:
    return dict(call.trailing_metadata())


def test_callers_request_id_reaches_handler_logs_and_comes_back(harness: Harness) -> None:
    body, call = harness.unary("Echo").with_call(b"", metadata=[("x-request-id", "envoy-req-1")])
    assert body == b"envoy-req-1"  # the handler's thread sees it
    assert trailing(call)["x-request-id"] == "envoy-req-1"

    records = [json.loads(line) for line in harness.log.getvalue().splitlines()]
    inside = [r for r in records if r["message"] == "inside the handler"]
    assert inside and inside[0]["request_id"] == "envoy-req-1"


def test_request_id_is_generated_when_missing_or_malformed(harness: Harness) -> None:
    body, call = harness.unary("Echo").with_call(b"")
    assert UUID4.fullmatch(body.decode())
    assert trailing(call)["x-request-id"] == body.decode()

    for bad in ("has spaces in it", "x" * 200, "../etc"):
        body, _ = harness.unary("Echo").with_call(b"", metadata=[("x-request-id", bad)])
        assert UUID4.fullmatch(body.decode()), bad


def test_request_id_for_context_agrees_with_the_interceptor(harness: Harness) -> None:
    generated, call = harness.unary("ContextId").with_call(b"")
    assert generated.decode() == trailing(call)["x-request-id"]
    malformed, call = harness.unary("ContextId").with_call(b"", metadata=[("x-request-id", "bad id")])
    assert malformed.decode() == trailing(call)["x-request-id"] != "bad id"


def test_request_id_for_context_without_the_interceptor() -> None:
    plain = Harness(observed=False)
    try:
        given = plain.unary("ContextId")(b"", metadata=[("x-request-id", "rid-plain")])
        generated = plain.unary("ContextId")(b"")
    finally:
        plain.close()
    assert given == b"rid-plain"
    assert UUID4.fullmatch(generated.decode())


def test_each_rpc_counted_timed_and_logged_once(harness: Harness) -> None:
    harness.unary("Echo")(b"SECRET-BODY-MARKER", metadata=[("x-request-id", "r-1")])
    harness.unary("Echo")(b"", metadata=[("x-request-id", "r-2")])

    assert harness.count("Echo", "OK") == 2
    labels = {"method": f"/{SERVICE}/Echo"}
    registry = harness.metrics.registry
    assert registry.get_sample_value("compute_rpc_duration_seconds_count", labels) == 2
    assert registry.get_sample_value("compute_rpc_in_flight", labels) == 0

    access = harness.access_lines()
    assert [line["request_id"] for line in access] == ["r-1", "r-2"]
    for line in access:
        assert line["method"] == f"/{SERVICE}/Echo"
        assert line["code"] == "OK"
        assert line["level"] == "INFO"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert "SECRET-BODY-MARKER" not in harness.log.getvalue()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Abort", grpc.StatusCode.NOT_FOUND),
        ("AbortWithStatus", grpc.StatusCode.FAILED_PRECONDITION),
        ("SetCode", grpc.StatusCode.INVALID_ARGUMENT),
        ("Crash", grpc.StatusCode.UNKNOWN),
    ],
)
def test_final_status_code_is_recorded(harness: Harness, name: str, code: grpc.StatusCode) -> None:
    with pytest.raises(grpc.RpcError) as error:
        harness.unary(name)(b"", metadata=[("x-request-id", f"rid-{name}")])
    assert error.value.code() == code
    assert trailing(error.value)["x-request-id"] == f"rid-{name}"
    assert harness.count(name, code.name) == 1
    (line,) = harness.access_lines()
    assert line["code"] == code.name
    assert line["request_id"] == f"rid-{name}"


def test_servicers_trailing_metadata_is_kept(harness: Harness) -> None:
    _, call = harness.unary("Trailers").with_call(b"", metadata=[("x-request-id", "rid-t")])
    assert trailing(call) == {"x-legacy-envelope": '{"scode": 0}', "x-request-id": "rid-t"}

    with pytest.raises(grpc.RpcError) as error:
        harness.unary("AbortWithStatus")(b"")
    assert trailing(error.value)["x-legacy-envelope"] == '{"scode": 9}'
    assert "x-request-id" in trailing(error.value)


def test_crash_is_logged_as_error_with_its_type(harness: Harness) -> None:
    with pytest.raises(grpc.RpcError):
        harness.unary("Crash")(b"")
    (line,) = harness.access_lines()
    assert (line["level"], line["error"]) == ("ERROR", "RuntimeError")


def test_rejection_by_a_later_interceptor_is_observed(harness: Harness) -> None:
    with pytest.raises(grpc.RpcError) as error:
        harness.unary("Echo")(b"", metadata=[("deny", "yes"), ("x-request-id", "rid-denied")])
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailing(error.value)["x-request-id"] == "rid-denied"
    assert harness.count("Echo", "UNAUTHENTICATED") == 1


def test_unknown_method_is_counted_under_one_label(harness: Harness) -> None:
    with pytest.raises(grpc.RpcError) as error:
        harness.unary("NoSuchMethod")(b"")
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    found = harness.metrics.registry.get_sample_value(
        "compute_rpc_requests_total", {"method": "unknown", "code": "UNIMPLEMENTED"}
    )
    assert found == 1
    (line,) = harness.access_lines()
    assert line["method"] == f"/{SERVICE}/NoSuchMethod"


def test_response_stream_keeps_request_id_and_is_counted(harness: Harness) -> None:
    replies = list(
        harness.channel.unary_stream(f"/{SERVICE}/Stream")(b"", metadata=[("x-request-id", "rid-s")])
    )
    assert replies == [b"rid-s"] * 3
    assert harness.count("Stream", "OK") == 1


def test_caller_that_gave_up_is_recorded_as_deadline_exceeded(harness: Harness) -> None:
    with pytest.raises(grpc.RpcError) as error:
        harness.unary("Slow")(b"", timeout=0.05)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The server side finishes after the caller saw the error: wait for the handler to return.
    for _ in range(200):
        if harness.count("Slow", "DEADLINE_EXCEEDED"):
            break
        time.sleep(0.01)
    assert harness.count("Slow", "DEADLINE_EXCEEDED") == 1
