"""grpcurl through Envoy's port: reflection lists and describes the service and a method can be called;
health reports SERVING through Envoy and directly, by grpcurl and by the grpc health stub.
(tests/service/test_platform.py covers grpcurl straight to the server and the health stub directly.)"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.contract.legacy_api import RPC_BY_VERB
from tests.e2e.helpers import FIXTURE_INSTANCE, example
from tests.support.envoy import EnvoyProcess
from tests.support.processes import REPO_ROOT
from tests.support.server import ServerProcess

GRPCURL = REPO_ROOT / ".venv" / "bin" / "grpcurl"
SERVICE = "tencent.compute.v1.ComputeService"
HEALTH = "grpc.health.v1.Health"


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRPCURL), "-plaintext", *args], capture_output=True, text=True, timeout=60)


def test_reflection_through_envoy_lists_and_describes_the_service(envoy: EnvoyProcess) -> None:
    listed = grpcurl(envoy.grpc_target, "list")
    assert listed.returncode == 0, listed.stderr
    assert {SERVICE, HEALTH} <= set(listed.stdout.split())

    described = grpcurl(envoy.grpc_target, "describe", SERVICE)
    assert described.returncode == 0, described.stderr
    for method in RPC_BY_VERB.values():
        assert f"rpc {method} (" in described.stdout


def test_grpcurl_calls_through_envoy(envoy: EnvoyProcess, fresh_emulator: Any) -> None:
    """The legacy inspect example, as is, is a valid grpcurl request body too (the stray key is the only
    unknown one, so grpcurl gets -allow-unknown-fields)."""
    body = example("inspect").request_example.decode("utf-8")
    called = grpcurl("-allow-unknown-fields", "-d", body, envoy.grpc_target, f"{SERVICE}/Inspect")

    assert called.returncode == 0, called.stderr
    reply = json.loads(called.stdout)
    assert (reply["message"], reply["data"]["InstanceId"]) == ("success", FIXTURE_INSTANCE)


@pytest.mark.parametrize("route", ["direct", "via-envoy"])
@pytest.mark.parametrize("service", ["", SERVICE])
def test_health_is_serving_by_grpcurl(
    grpc_server: ServerProcess, envoy: EnvoyProcess, route: str, service: str
) -> None:
    target = grpc_server.target if route == "direct" else envoy.grpc_target
    checked = grpcurl("-d", json.dumps({"service": service}), target, f"{HEALTH}/Check")

    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {"status": "SERVING"}


def test_health_stub_through_envoy(envoy: EnvoyProcess) -> None:
    with grpc.insecure_channel(envoy.grpc_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", SERVICE):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
