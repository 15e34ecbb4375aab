"""Observing one error on every surface at once: native gRPC straight to the server and through Envoy's
port (code, google.rpc ErrorInfo/BadRequest, the `x-legacy-envelope` trailer), and JSON through Envoy (the
envelope as the body with the mapped HTTP status, and HTTP 200 behind a rendered copy of envoy.yaml with
the always-200 switch on). No surface may show a traceback or a secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import json_format

from tests.contract.legacy_api import ENVELOPE_KEYS, RPC_BY_VERB
from tests.e2e.helpers import assert_no_leak, example, reply_text
from tests.service.helpers import RpcFailure, failure_of
from tests.support.emulator import EmulatorProcess
from tests.support.envoy import EnvoyProcess, HttpReply
from tests.support.server import ServerProcess

DOMAIN = "compute.tencent.v1"
# docs/errors.md: the HTTP status a JSON caller gets for each scode (when always-200 is off).
HTTP_BY_CODE = {3: 400, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401}


def legacy(verb: str, **changes: Any) -> dict[str, Any]:
    """The document's request example for `verb` with `changes` applied (the stray key dropped)."""
    body = dict(example(verb).request_example_json)
    body.pop("cluster_uuid", None)
    body.update(changes)
    return body


@dataclass
class Surfaces:
    """Where one error case is sent from: gRPC stubs (direct, through Envoy) and the two Envoys."""

    server: ServerProcess
    envoy: EnvoyProcess
    envoy_always_200: EnvoyProcess
    cloud: EmulatorProcess

    def grpc_targets(self) -> dict[str, str]:
        return {"direct": self.server.target, "via-envoy": self.envoy.grpc_target}


@dataclass
class Case:
    """One error class: how to provoke it and what every surface must then show."""

    code: grpc.StatusCode
    reason: str
    verb: str
    body: dict[str, Any]
    setup: Callable[[Surfaces], None] | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    bad_fields: set[str] = field(default_factory=set)

    def grpc_call(self, target: str, pb: Any) -> RpcFailure:
        request = getattr(pb, f"{RPC_BY_VERB[self.verb]}Request")()
        json_format.ParseDict(self.body, request)
        with grpc.insecure_channel(target) as channel:
            method = getattr(_stub(channel), RPC_BY_VERB[self.verb])
            return failure_of(lambda: method(request, metadata=self.metadata, timeout=30))

    def json_call(self, envoy: EnvoyProcess) -> HttpReply:
        headers = {name.title(): value for name, value in self.metadata}
        return envoy.post(example(self.verb).path, json.dumps(self.body).encode(), headers)


def _stub(channel: grpc.Channel) -> Any:
    from tencent.compute.v1 import compute_pb2_grpc

    return compute_pb2_grpc.ComputeServiceStub(channel)


def assert_grpc_failure(case: Case, failure: RpcFailure, *secrets: str) -> None:
    assert failure.code == case.code, (failure.code, failure.details)
    assert failure.error_info is not None, "no ErrorInfo in the google.rpc.Status"
    assert (failure.reason, failure.error_info.domain) == (case.reason, DOMAIN)
    assert failure.trailers.get("x-request-id")
    # docs/errors.md: ErrorInfo metadata names the request id always, interceptor rejections included.
    assert failure.metadata.get("request_id") == failure.trailers["x-request-id"]
    if case.bad_fields:
        assert case.bad_fields <= set(failure.violated_fields)
    assert tuple(failure.envelope) == ENVELOPE_KEYS
    assert failure.envelope["scode"] == case.code.value[0]
    assert failure.envelope["desc"] == case.reason
    assert (failure.envelope["stack"], failure.envelope["data"]) == (None, {})
    assert_no_leak(failure.details + json.dumps(failure.envelope) + json.dumps(failure.metadata), *secrets)


def assert_json_failure(
    case: Case, reply: HttpReply, http_status: int, like: dict[str, Any], *secrets: str
) -> None:
    body = reply.body
    assert isinstance(body, dict), f"not a JSON envelope: {reply.status} {body!r}"
    assert (reply.status, reply.headers["content-type"]) == (http_status, "application/json"), body
    assert tuple(body) == ENVELOPE_KEYS
    assert (body["scode"], body["desc"]) == (case.code.value[0], case.reason)
    assert (body["stack"], body["data"]) == (None, {})
    assert body["message"] and body["message_cn"]
    # The same words the gRPC caller got (Tencent's request id is in ErrorInfo, never in the envelope).
    assert {k: body[k] for k in ("message", "message_cn")} == {k: like[k] for k in ("message", "message_cn")}
    for internal in ("x-legacy-envelope", "grpc-message", "grpc-status-details-bin"):
        assert internal not in reply.headers
    assert_no_leak(reply_text(reply), *secrets)


def observe_everywhere(case: Case, surfaces: Surfaces, pb: Any, *secrets: str) -> None:
    """Send `case` from the four callers at once (a case that waits out the retries then waits once, not
    four times) and check what each one got; `secrets` must appear nowhere."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        targets = surfaces.grpc_targets()
        grpc_futures = {label: pool.submit(case.grpc_call, target, pb) for label, target in targets.items()}
        mapped_future = pool.submit(case.json_call, surfaces.envoy)
        always_200_future = pool.submit(case.json_call, surfaces.envoy_always_200)
        failures = {label: future.result() for label, future in grpc_futures.items()}
        mapped, always_200 = mapped_future.result(), always_200_future.result()

    for failure in failures.values():
        assert_grpc_failure(case, failure, *secrets)
    direct, via_envoy = failures["direct"], failures["via-envoy"]
    assert (via_envoy.code, via_envoy.details) == (direct.code, direct.details)
    assert_json_failure(case, mapped, HTTP_BY_CODE[case.code.value[0]], direct.envelope, *secrets)
    assert_json_failure(case, always_200, 200, direct.envelope, *secrets)
