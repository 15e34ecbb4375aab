"""The request ID reaches Tencent as X-TC-TraceId: the real SDK over real HTTP to a tiny recording endpoint,
alone and behind the observability interceptor on a real grpc server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

from server.observability.interceptor import ObservabilityInterceptor
from server.observability.logs import bind_request_id
from server.observability.metrics import Metrics
from server.observability.tracing import TRACE_HEADER, trace_headers


class RecordingTencent(ThreadingHTTPServer):
    """Answers every call with an empty DescribeInstances reply and remembers each request's trace header."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.trace_ids: list[str | None] = []


class _Handler(BaseHTTPRequestHandler):
    server: RecordingTencent

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.trace_ids.append(self.headers.get(TRACE_HEADER))
        body = json.dumps({"Response": {"TotalCount": 0, "InstanceSet": [], "RequestId": "tc-req"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tencent() -> Iterator[RecordingTencent]:
    server = RecordingTencent()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(tencent: RecordingTencent) -> cvm_client.CvmClient:
    endpoint = f"127.0.0.1:{tencent.server_address[1]}"
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    return cvm_client.CvmClient(Credential("AKIDTESTONLY", "test-only-secret"), "ap-guangzhou", profile)


def test_trace_headers_follow_the_current_request() -> None:
    assert trace_headers() == {}
    with bind_request_id("rid-1"):
        first, second = trace_headers(), trace_headers()
        assert first == {TRACE_HEADER: "rid-1"}
        assert first is not second  # the SDK writes into the dict: never share one
    assert trace_headers("explicit") == {TRACE_HEADER: "explicit"}


def describe(client: cvm_client.CvmClient) -> None:
    """DescribeInstances the way the gateway calls Tencent: `call_json` with a fresh trace headers dict."""
    client.call_json("DescribeInstances", {}, headers=trace_headers())


def test_sdk_sends_the_request_id_as_trace_id(tencent: RecordingTencent) -> None:
    client = client_for(tencent)
    with bind_request_id("rid-sdk-1"):
        describe(client)
        describe(client)  # a retry: the same id again
    describe(client)  # outside a request: the SDK's own uuid4
    assert tencent.trace_ids[:2] == ["rid-sdk-1", "rid-sdk-1"]
    assert tencent.trace_ids[2] not in (None, "rid-sdk-1")


def test_request_id_flows_from_grpc_metadata_to_tencent(tencent: RecordingTencent) -> None:
    client = client_for(tencent)

    def list_instances(request: bytes, context: grpc.ServicerContext) -> bytes:
        describe(client)
        return b""

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2), interceptors=[ObservabilityInterceptor(Metrics())]
    )
    handler = grpc.unary_unary_rpc_method_handler(list_instances)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.Gateway", {"List": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            channel.unary_unary("/test.Gateway/List")(b"", metadata=[("x-request-id", "envoy-abc-123")])
    finally:
        server.stop(grace=None)
    assert tencent.trace_ids == ["envoy-abc-123"]
