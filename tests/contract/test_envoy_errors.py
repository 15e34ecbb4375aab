"""Every JSON error through the real Envoy is the legacy envelope with the mapped HTTP status: Envoy's own
local replies (malformed JSON, wrong types, unknown path or method, 413, upstream down) and the server's
errors (its x-legacy-envelope copied verbatim); native gRPC through the same port is left untouched; the
always-200 switch. The `envoy` fixture runs in front of the real gRPC server (tests/support/server.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status
from tencent.compute.v1 import compute_pb2, compute_pb2_grpc

from tests.contract.legacy_api import ENVELOPE_KEYS
from tests.support.envoy import EnvoyProcess, HttpReply, always_200_config, refused_port, start_envoy

# google/rpc/code.proto's HTTP mapping, as the contract states it (envoy.yaml's Lua table must agree).
HTTP_BY_CODE = {
    0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
    9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}  # fmt: skip
ONE_MIB = 1024 * 1024
LIST = "/v1/tencent/compute/list"
INSPECT = "/v1/tencent/compute/inspect"
# A well-formed request the server must refuse (a cluster nobody owns): it reaches the server, which
# answers with an error envelope whatever the emulator's state.
UNKNOWN_CLUSTER_INSPECT = {
    "Region": "ap-guangzhou",
    "InstanceId": "ins-00000000",
    "TenantUuid": "system",
    "ClusterUuid": "00000000-0000-4000-8000-000000000000",
}


def assert_envelope(reply: HttpReply, status: int, scode: int, desc: str | None = None) -> dict[str, Any]:
    """The reply is the legacy error envelope, keys in legacy order, with `status` and `scode`."""
    body = reply.body
    assert isinstance(body, dict), f"not a JSON envelope: {reply.status} {body!r}"
    assert (reply.status, body["scode"]) == (status, scode), body
    assert reply.headers["content-type"] == "application/json"
    assert tuple(body) == ENVELOPE_KEYS
    assert body["stack"] is None and body["data"] == {}
    assert body["message"] and body["message_cn"]
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", body["desc"]), body["desc"]
    if desc is not None:
        assert body["desc"] == desc
    # Internals never reach JSON callers: no copy of the envelope header, no gRPC message or details.
    for header in ("x-legacy-envelope", "grpc-message", "grpc-status-details-bin"):
        assert header not in reply.headers
    return body


@pytest.fixture(scope="module")
def envoy_upstream_down() -> Iterator[EnvoyProcess]:
    with refused_port() as port, start_envoy(port) as envoy:
        yield envoy


@pytest.fixture(scope="module")
def envoy_always_200_upstream_down() -> Iterator[EnvoyProcess]:
    with refused_port() as port, start_envoy(port, always_200_config()) as envoy:
        yield envoy


# --- Envoy's own local replies ------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"Region": ', b"[1]", b'"text"', b'{"Region" "x"}', b"{,}"])
def test_malformed_json_is_the_400_envelope(envoy: EnvoyProcess, body: bytes) -> None:
    assert_envelope(envoy.post(LIST, body), 400, 3, "MALFORMED_JSON")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"PageSize": "ten"}', "PageSize"),
        (b'{"PageSize": 10.5}', "PageSize"),
        (b'{"PageSize": 99999999999}', "PageSize"),
        (b'{"Region": 5}', "Region"),
        (b'{"TenantUuid": {"a": 1}}', "TenantUuid"),
    ],
)
def test_wrong_json_type_is_the_400_envelope_naming_the_field(
    envoy: EnvoyProcess, body: bytes, field: str
) -> None:
    reply = envoy.post(LIST, body)
    envelope = assert_envelope(reply, 400, 3, "INVALID_FIELD_VALUE")
    assert field in envelope["message"] and field in envelope["message_cn"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"LoginSettings": {"Password": 31415926535}}',
        b'{"LoginSettings": "pw-31415926535"}',
        b'{"LoginSettings": {"Password": ["pw-31415926535"]}}',
    ],
)
def test_wrong_type_error_does_not_echo_the_value(envoy: EnvoyProcess, body: bytes) -> None:
    """Envoy's own text quotes the bad value (here a password); the envelope must not."""
    reply = envoy.post("/v1/tencent/compute/reset", body)
    assert_envelope(reply, 400, 3, "INVALID_FIELD_VALUE")
    assert "31415926535" not in json.dumps(reply.body)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/tencent/compute/nope"),
        ("POST", "/v1/tencent/compute/list/extra"),
        ("POST", "/"),
        ("GET", LIST),
        ("PUT", "/v1/tencent/compute/create"),
        ("DELETE", "/v1/tencent/compute/delete"),
    ],
)
def test_unknown_path_or_method_is_the_404_envelope(envoy: EnvoyProcess, method: str, path: str) -> None:
    assert_envelope(envoy.request(method, path, b"{}"), 404, 5, "METHOD_NOT_FOUND")


def test_body_over_1_mib_is_the_413_envelope(envoy: EnvoyProcess) -> None:
    body = b'{"Fuzzy": "' + b"a" * ONE_MIB + b'"}'
    assert_envelope(envoy.post(LIST, body), 413, 8, "REQUEST_TOO_LARGE")


def test_body_just_under_1_mib_reaches_the_server(envoy: EnvoyProcess) -> None:
    padding = ONE_MIB - 1024
    body = json.dumps({**UNKNOWN_CLUSTER_INSPECT, "Region": "r" * padding}).encode()
    assert len(body) < ONE_MIB
    reply = envoy.post(INSPECT, body)
    assert reply.status != 413
    assert isinstance(reply.body, dict) and tuple(reply.body) == ENVELOPE_KEYS


def test_unknown_query_parameter_is_ignored(envoy: EnvoyProcess) -> None:
    plain = envoy.post(INSPECT, UNKNOWN_CLUSTER_INSPECT)
    with_query = envoy.post(INSPECT + "?t=123&_=x", UNKNOWN_CLUSTER_INSPECT)
    assert (with_query.status, with_query.body) == (plain.status, plain.body)
    assert isinstance(plain.body, dict)
    assert plain.body["desc"] not in ("METHOD_NOT_FOUND", "SERVICE_UNAVAILABLE")


def test_upstream_down_is_the_503_envelope(envoy_upstream_down: EnvoyProcess) -> None:
    reply = envoy_upstream_down.post(LIST, endpoints_list_example())
    assert_envelope(reply, 503, 14, "SERVICE_UNAVAILABLE")


def test_upstream_down_native_grpc_gets_unavailable(envoy_upstream_down: EnvoyProcess) -> None:
    with grpc.insecure_channel(envoy_upstream_down.grpc_target) as channel:
        stub = compute_pb2_grpc.ComputeServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Inspect(compute_pb2.InspectRequest(**UNKNOWN_CLUSTER_INSPECT), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


# --- the server's errors --------------------------------------------------------------------------------


def _native_error(target: str) -> grpc.RpcError:
    with grpc.insecure_channel(target) as channel:
        stub = compute_pb2_grpc.ComputeServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Inspect(compute_pb2.InspectRequest(**UNKNOWN_CLUSTER_INSPECT), timeout=10)
    return caught.value


def _trailer_envelope(error: grpc.RpcError) -> dict[str, Any]:
    trailers = dict(error.trailing_metadata() or ())
    assert "x-legacy-envelope" in trailers, "the server must send x-legacy-envelope (TEAM.md error model)"
    envelope: dict[str, Any] = json.loads(trailers["x-legacy-envelope"])
    return envelope


def test_server_error_envelope_is_copied_verbatim(envoy: EnvoyProcess, grpc_server: Any) -> None:
    expected = _trailer_envelope(_native_error(f"127.0.0.1:{grpc_server.port}"))
    reply = envoy.post(INSPECT, UNKNOWN_CLUSTER_INSPECT)
    assert expected["scode"] != 0
    assert_envelope(reply, HTTP_BY_CODE[expected["scode"]], expected["scode"], expected["desc"])
    assert reply.body == expected


def test_native_grpc_through_envoy_is_untouched(envoy: EnvoyProcess, grpc_server: Any) -> None:
    direct = _native_error(f"127.0.0.1:{grpc_server.port}")
    via_envoy = _native_error(envoy.grpc_target)
    assert via_envoy.code() == direct.code()
    assert via_envoy.details() == direct.details()
    assert _trailer_envelope(via_envoy) == _trailer_envelope(direct)
    status = rpc_status.from_call(via_envoy)
    assert status is not None and status.details, "google.rpc.Status details must survive Envoy"


# --- the always-200 switch ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "scode"),
    [
        ("POST", LIST, b'{"Region": ', 3),
        ("POST", LIST, b'{"PageSize": "ten"}', 3),
        ("POST", "/v1/tencent/compute/nope", b"{}", 5),
        ("GET", LIST, b"", 5),
        ("POST", LIST, b'{"Fuzzy": "' + b"a" * ONE_MIB + b'"}', 8),
        ("POST", LIST, b"{}", 14),
    ],
)
def test_always_200_switch_answers_200_with_the_same_envelope(
    envoy_always_200_upstream_down: EnvoyProcess, method: str, path: str, body: bytes, scode: int
) -> None:
    assert_envelope(envoy_always_200_upstream_down.request(method, path, body), 200, scode)


def test_always_200_switch_applies_to_server_errors(grpc_server: Any) -> None:
    with start_envoy(grpc_server.port, always_200_config()) as envoy:
        reply = envoy.post(INSPECT, UNKNOWN_CLUSTER_INSPECT)
    assert isinstance(reply.body, dict) and reply.body["scode"] != 0
    assert_envelope(reply, 200, reply.body["scode"])


def endpoints_list_example() -> bytes:
    from tests.contract.legacy_api import endpoints

    return endpoints()["list"].request_example


# --- the stray snake_case key of the legacy examples ----------------------------------------------------


def test_stray_cluster_uuid_never_chooses_the_cluster(envoy: EnvoyProcess) -> None:
    """`cluster_uuid` is an unknown key (dropped), wherever it sits in the body: only ClusterUuid counts."""
    demo = "72db4b34-1473-418f-ade4-de00b956f16b"
    unknown = "a7d3bc11-e5dd-4fc3-90cf-f9bb466ba9df"  # the stray value of the legacy examples
    base = {"Region": "ap-guangzhou", "PageSize": 1, "TenantUuid": "system"}
    known_last = envoy.post(LIST, {**base, "ClusterUuid": demo, "cluster_uuid": unknown})
    assert (known_last.status, known_last.body["scode"]) == (200, 0), known_last.body
    unknown_last = envoy.post(LIST, {**base, "ClusterUuid": unknown, "cluster_uuid": demo})
    assert_envelope(unknown_last, 404, 5)
