"""The three ways the benchmark calls: the Tencent SDK straight at the emulator, native gRPC to the server,
and legacy JSON over HTTP/1.1 through Envoy. Each factory builds one caller's own connection, as a real
multi-threaded client would hold one."""

from __future__ import annotations

import http.client
import json
import sys
from types import ModuleType
from typing import Any

import grpc
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

from bench.processes import REPO_ROOT

# Large listings (20,000 instances) exceed grpc's default 4 MiB receive limit; the caller lifts it, as a
# platform listing whole fleets would.
GRPC_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", -1)]


def sdk_client(endpoint: str, secret_id: str, secret_key: str, region: str) -> cvm_client.CvmClient:
    """A CvmClient against the emulator: plain HTTP, keep-alive, no retries (the SDK's defaults otherwise).
    This is the baseline the service is compared with: the best a direct SDK caller can do."""
    http_profile = HttpProfile(protocol="http", endpoint=endpoint, keepAlive=True, reqTimeout=60)
    profile = ClientProfile(httpProfile=http_profile)
    return cvm_client.CvmClient(credential.Credential(secret_id, secret_key), region, profile)


def compute_modules() -> tuple[ModuleType, ModuleType]:
    """(compute_pb2, compute_pb2_grpc) from gen/, the committed generated code."""
    gen = str(REPO_ROOT / "gen")
    if gen not in sys.path:
        sys.path.insert(0, gen)
    from tencent.compute.v1 import compute_pb2, compute_pb2_grpc  # type: ignore[import-not-found,unused-ignore]

    return compute_pb2, compute_pb2_grpc


def grpc_channel(port: int) -> grpc.Channel:
    return grpc.insecure_channel(f"127.0.0.1:{port}", options=GRPC_CHANNEL_OPTIONS)


def compute_stub(channel: grpc.Channel) -> Any:
    _, compute_pb2_grpc = compute_modules()
    return compute_pb2_grpc.ComputeServiceStub(channel)


class LegacyJsonError(RuntimeError):
    def __init__(self, status: int, envelope: dict[str, Any] | None, raw: bytes) -> None:
        desc = envelope.get("desc") if envelope else raw[:200].decode(errors="replace")
        super().__init__(f"HTTP {status}: {desc}")
        self.status = status
        self.envelope = envelope


class LegacyJsonClient:
    """POSTs legacy JSON bodies to Envoy over one keep-alive HTTP/1.1 connection (reconnects if dropped)."""

    def __init__(self, port: int, timeout_s: float = 60.0) -> None:
        self._port = port
        self._timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout_s)
            try:
                self._conn.request("POST", path, body=payload, headers=headers)
                reply = self._conn.getresponse()
                raw = reply.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection closed by the peer between requests: reconnect once.
                self.close()
                if attempt == 2:
                    raise
                continue
            envelope = _json_or_none(raw)
            if reply.status != 200 or envelope is None or envelope.get("scode") != 0:
                raise LegacyJsonError(reply.status, envelope, raw)
            return envelope
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _json_or_none(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def classify_error(exc: BaseException) -> str:
    """A short, stable label for a failed call: the Tencent code, the gRPC code and reason, or the HTTP status
    and legacy `desc`. Used to count errors by kind in throughput runs."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    if isinstance(exc, TencentCloudSDKException):
        return f"sdk:{exc.get_code()}"
    if isinstance(exc, grpc.RpcError):
        code = exc.code() if hasattr(exc, "code") else None
        reason = ""
        trailers = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
        for key, value in trailers or ():
            if key == "x-legacy-envelope":
                envelope = _json_or_none(value.encode() if isinstance(value, str) else value)
                reason = str(envelope.get("desc", "")) if envelope else ""
        name = code.name if code is not None else "UNKNOWN"
        return f"grpc:{name}" + (f":{reason}" if reason else "")
    if isinstance(exc, LegacyJsonError):
        desc = exc.envelope.get("desc", "") if exc.envelope else ""
        return f"http:{exc.status}" + (f":{desc}" if desc else "")
    return f"other:{type(exc).__name__}"
