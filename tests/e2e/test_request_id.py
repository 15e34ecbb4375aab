"""Request ids across Envoy (envoy.yaml: preserve_external_request_id, always_set_request_id_in_response):
a JSON caller always gets `x-request-id` back, its own id is kept rather than replaced, and it is the id the
server logged the call under; native gRPC callers through Envoy keep theirs too."""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc

from tests.e2e.error_cases import legacy
from tests.e2e.helpers import example
from tests.service.helpers import eventually, failure_of
from tests.support.envoy import EnvoyProcess
from tests.support.server import ServerProcess


def logged_request_ids(server: ServerProcess) -> set[str]:
    """The request ids of the server's JSON log lines."""
    ids = set()
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            ids.add(json.loads(line).get("request_id"))
    return ids


def test_json_caller_gets_the_id_the_server_logged(
    envoy: EnvoyProcess, grpc_server: ServerProcess, fresh_emulator: Any
) -> None:
    reply = envoy.post(example("inspect").path, example("inspect").request_example)

    assert reply.status == 200
    request_id = reply.headers.get("x-request-id")
    assert request_id, reply.headers
    eventually(lambda: request_id in logged_request_ids(grpc_server), "the server to log the call")


def test_json_caller_keeps_its_own_id_on_success_and_on_error(
    envoy: EnvoyProcess, grpc_server: ServerProcess, fresh_emulator: Any
) -> None:
    mine = f"e2e-{uuid.uuid4().hex}"
    success = envoy.post(example("list").path, example("list").request_example, {"x-request-id": mine})
    not_found = envoy.post(
        example("inspect").path,
        json.dumps(legacy("inspect", InstanceId="ins-zzzzzzzz")).encode(),
        {"x-request-id": mine + "-2"},
    )

    assert (success.status, success.headers.get("x-request-id")) == (200, mine)
    assert (not_found.status, not_found.headers.get("x-request-id")) == (404, mine + "-2")
    eventually(lambda: {mine, mine + "-2"} <= logged_request_ids(grpc_server), "the server to log both")


def test_native_grpc_caller_keeps_its_own_id_through_envoy(
    envoy: EnvoyProcess, grpc_server: ServerProcess, fresh_emulator: Any, pb: Any
) -> None:
    mine = f"e2e-{uuid.uuid4().hex}"
    request = pb.InspectRequest(**legacy("inspect", InstanceId="ins-zzzzzzzz"))
    with grpc.insecure_channel(envoy.grpc_target) as channel:
        stub = grpc_server.stub(channel)
        failure = failure_of(lambda: stub.Inspect(request, metadata=(("x-request-id", mine),), timeout=30))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.trailers["x-request-id"] == mine
    assert failure.metadata["request_id"] == mine
