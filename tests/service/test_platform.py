"""Health checking, server reflection (grpcurl) and graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import subprocess
import threading
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from tests.service.helpers import FIXTURE_INSTANCE, calls, demo_scope, eventually
from tests.support.processes import REPO_ROOT
from tests.support.server import start_server

GRPCURL = REPO_ROOT / ".venv" / "bin" / "grpcurl"
SERVICE = "tencent.compute.v1.ComputeService"


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRPCURL), "-plaintext", *args], capture_output=True, text=True, timeout=60)


def test_health_reports_serving(grpc_server: Any) -> None:
    with grpc_server.channel() as channel:
        health = grpc_server.health_stub(channel)
        for service in ("", SERVICE):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_and_calls_every_method(grpc_server: Any, cloud: Any) -> None:
    listed = grpcurl(grpc_server.target, "list")
    assert listed.returncode == 0, listed.stderr
    assert SERVICE in listed.stdout.split()

    described = grpcurl(grpc_server.target, "describe", SERVICE)
    assert described.returncode == 0, described.stderr
    for method in ("Create", "Delete", "Update", "Reset", "List", "Inspect", "TurnOn", "TurnOff"):
        assert f"rpc {method} (" in described.stdout

    body = json.dumps(demo_scope(InstanceId=FIXTURE_INSTANCE))
    called = grpcurl("-d", body, grpc_server.target, f"{SERVICE}/Inspect")
    assert called.returncode == 0, called.stderr
    reply = json.loads(called.stdout)
    assert reply["message"] == "success"
    assert reply["data"]["InstanceId"] == FIXTURE_INSTANCE


def test_sigterm_lets_the_in_flight_call_finish(cloud: Any, pb: Any) -> None:
    # Every Tencent call takes a while and List makes several (DescribeInstances, then the enrichment), so the
    # List below is surely still in flight when SIGTERM arrives right after its first call reached Tencent.
    cloud.add_fault(Action="*", SecretId="AKIDEMULATORDEMO", LatencyMs=1000)
    cloud.reset_counters()
    with start_server(cloud.endpoint) as server:
        outcome: dict[str, Any] = {}

        def call() -> None:
            with server.channel() as channel:
                try:
                    outcome["reply"] = server.stub(channel).List(pb.ListRequest(**demo_scope()), timeout=60)
                except grpc.RpcError as error:
                    outcome["error"] = error

        caller = threading.Thread(target=call)
        caller.start()
        eventually(lambda: calls(cloud, "DescribeInstances") >= 1, "the List call to reach Tencent")
        server.terminate()
        caller.join(timeout=60)
        exit_code = server.process.wait(timeout=60)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["reply"].scode == 0
    assert outcome["reply"].data.TotalCount >= 1
    assert exit_code == 0
