"""ResponseFirstExecutor / run_after_response (server/observability/interceptor.py): the access-log line of
an RPC is written after grpc has started sending the response, still once per RPC and with the same fields."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from server.observability.interceptor import (
    ACCESS_LOGGER_NAME,
    ObservabilityInterceptor,
    ResponseFirstExecutor,
    run_after_response,
)
from server.observability.logs import JsonFormatter
from server.observability.metrics import Metrics

SERVICE = "test.AfterResponse"


def test_outside_the_executor_the_task_runs_at_once() -> None:
    ran: list[str] = []
    run_after_response(lambda: ran.append("task"))
    assert ran == ["task"]


def test_tasks_run_after_the_work_item_in_its_thread_in_order() -> None:
    events: list[tuple[str, int]] = []

    def work() -> str:
        run_after_response(lambda: events.append(("first", threading.get_ident())))

        def fails() -> None:
            raise ZeroDivisionError

        run_after_response(fails)  # logged, does not stop the others
        run_after_response(lambda: events.append(("second", threading.get_ident())))
        events.append(("work done", threading.get_ident()))
        return "result"

    with ResponseFirstExecutor(max_workers=2) as pool:
        assert pool.submit(work).result(timeout=30) == "result"
        # The future completes after the deferred tasks; the next item starts with no tasks pending.
        pool.submit(lambda: run_after_response(lambda: events.append(("inline", 0)))).result(timeout=30)

    assert [name for name, _ in events] == ["work done", "first", "second", "inline"]
    assert len({thread for name, thread in events if name != "inline"}) == 1


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request


def _not_found(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    raise AssertionError


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def _lines(stream: io.StringIO, count: int) -> list[dict[str, Any]]:
    """The first `count` access lines, waiting for them (they may land just after the reply)."""
    for _ in range(1000):
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        if len(lines) >= count:
            return lines
        time.sleep(0.005)
    raise AssertionError(f"expected {count} access lines, got: {stream.getvalue()!r}")


def _serve(handlers: dict[str, Callable[[bytes, grpc.ServicerContext], bytes]]) -> tuple[Any, Any]:
    server = grpc.server(
        ResponseFirstExecutor(max_workers=2), interceptors=[ObservabilityInterceptor(Metrics())]
    )
    generic = {name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in handlers.items()}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, generic),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, grpc.insecure_channel(f"127.0.0.1:{port}")


def test_each_rpc_still_gets_one_access_line_with_its_fields(access_log: io.StringIO) -> None:
    server, channel = _serve({"Echo": _echo, "NotFound": _not_found})
    try:
        body, call = channel.unary_unary(f"/{SERVICE}/Echo").with_call(
            b"hello", metadata=[("x-request-id", "rid-1")]
        )
        with pytest.raises(grpc.RpcError) as error:
            channel.unary_unary(f"/{SERVICE}/NotFound")(b"", metadata=[("x-request-id", "rid-2")])
        first, second = _lines(access_log, 2)
    finally:
        channel.close()
        server.stop(grace=None)

    assert body == b"hello" and dict(call.trailing_metadata())["x-request-id"] == "rid-1"
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert list(first) == [
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "code",
        "duration_ms",
        "peer",
    ]
    assert (first["request_id"], first["method"], first["code"], first["level"]) == (
        "rid-1",
        f"/{SERVICE}/Echo",
        "OK",
        "INFO",
    )
    assert (second["request_id"], second["code"]) == ("rid-2", "NOT_FOUND")
    assert len(access_log.getvalue().splitlines()) == 2
