"""Each error class, provoked for real (bad input, unknown cluster or instance, wrong state, Tencent
throttling that outlasts the retries, Tencent unreachable, Tencent InternalError on a write, a reused
idempotency key), observed on both surfaces:

- native gRPC, directly and through Envoy's port: the canonical code, a google.rpc.Status with an
  ErrorInfo (and BadRequest for invalid input), the legacy envelope in the `x-legacy-envelope` trailer;
- JSON through Envoy: that same envelope as the body, keys in legacy order, with the mapped HTTP status,
  and with HTTP 200 on a rendered copy of envoy.yaml whose documented always-200 switch is on.

The server under test runs the demo config with a small retry budget, so Tencent faults that outlast the
retries fail fast and always the same way. (A short gRPC deadline would do it too, but races: the server
gives up at most min_attempt_seconds before the deadline the caller enforces as well, and under load the
caller's own DEADLINE_EXCEEDED, without details, can come first.)

No reply carries a traceback or a secret. Credentials errors (UNAUTHENTICATED, PERMISSION_DENIED) need a
server in token mode: test_auth_surfaces.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from tests.e2e.error_cases import Case, Surfaces, legacy, observe_everywhere
from tests.e2e.helpers import FIXTURE_INSTANCE, example_as_grpc_request
from tests.service.helpers import calls
from tests.support.emulator import EmulatorProcess
from tests.support.envoy import EnvoyProcess, always_200_config, start_envoy
from tests.support.server import ServerProcess, start_server

# --- setups ---------------------------------------------------------------------------------------------


def stopping_for_a_while(surfaces: Surfaces) -> None:
    """The fixture instance in STOPPING for longer than the test takes (the next reset restores timings)."""
    surfaces.cloud.configure(TransitionSeconds=60)
    surfaces.cloud.common_client().call_json("StopInstances", {"InstanceIds": [FIXTURE_INSTANCE]})


def fault(**rule: Any) -> Callable[[Surfaces], None]:
    return lambda surfaces: surfaces.cloud.add_fault(**rule)


IDEMPOTENCY_KEY = f"e2e-{uuid.uuid4().hex}"  # unique per run: the server's store outlives each test


def key_already_used(surfaces: Surfaces) -> None:
    """A create under IDEMPOTENCY_KEY that succeeded; the case then sends a different create under it."""
    from tencent.compute.v1 import compute_pb2

    request = example_as_grpc_request("create", compute_pb2)
    with surfaces.server.channel() as channel:
        stub = surfaces.server.stub(channel)
        reply = stub.Create(request, metadata=(("idempotency-key", IDEMPOTENCY_KEY),), timeout=30)
    assert reply.scode == 0


CASES = {
    "invalid-argument": Case(
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        "list",
        {"PageNum": -1, "PageSize": 10},
        bad_fields={"TenantUuid", "ClusterUuid", "Region", "PageNum"},
    ),
    "unknown-cluster": Case(
        grpc.StatusCode.NOT_FOUND,
        "CLUSTER_NOT_FOUND",
        "inspect",
        legacy("inspect", ClusterUuid="a7d3bc11-e5dd-4fc3-90cf-f9bb466ba9df"),  # the examples' stray UUID
    ),
    "unknown-instance": Case(
        grpc.StatusCode.NOT_FOUND,
        "INSTANCE_NOT_FOUND",
        "inspect",
        legacy("inspect", InstanceId="ins-zzzzzzzz"),
    ),
    "wrong-state": Case(
        grpc.StatusCode.FAILED_PRECONDITION,
        "INSTANCE_STATE_TRANSITIONAL",
        "turn_on",
        legacy("turn_on"),
        setup=stopping_for_a_while,
    ),
    "throttled-past-the-retries": Case(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "RequestLimitExceeded",
        "list",
        legacy("list"),
        setup=fault(Action="DescribeInstances", ErrorCode="RequestLimitExceeded", ErrorProbability=1.0),
    ),
    "tencent-answers-502": Case(
        grpc.StatusCode.UNAVAILABLE,
        "ServerNetworkError",
        "list",
        legacy("list"),
        setup=fault(Action="DescribeInstances", HttpStatus=502, HttpStatusProbability=1.0),
    ),
    "tencent-drops-the-connection": Case(
        grpc.StatusCode.UNAVAILABLE,
        "ClientNetworkError",
        "list",
        legacy("list"),
        setup=fault(Action="DescribeInstances", DropProbability=1.0),
    ),
    "internal-error-on-a-write": Case(
        grpc.StatusCode.INTERNAL,
        "InternalError",
        "update",
        legacy("update"),
        setup=fault(Action="ModifyInstancesAttribute", ErrorCode="InternalError", ErrorProbability=1.0),
    ),
    "idempotency-key-reused": Case(
        grpc.StatusCode.ALREADY_EXISTS,
        "IDEMPOTENCY_KEY_REUSED",
        "create",
        {**legacy("create"), "InstanceName": "not-the-first-request"},
        setup=key_already_used,
        metadata=(("idempotency-key", IDEMPOTENCY_KEY),),
    ),
}


# Three quick attempts per Tencent call: every retryable fault below outlasts them within a second.
RETRY_ATTEMPTS = 3
RETRY_BUDGET = f"[retry]\nmax_attempts = {RETRY_ATTEMPTS}\nbase_delay = 0.01\nmax_delay = 0.05\n"
OUTLASTING_THE_RETRIES = {"throttled-past-the-retries", "tencent-answers-502", "tencent-drops-the-connection"}


@pytest.fixture(scope="module")
def quick_retry_server(emulator: EmulatorProcess) -> Iterator[ServerProcess]:
    """A server on the session's emulator (reset per test by fresh_emulator) with the small retry budget."""
    with start_server(emulator.endpoint, extra_toml=RETRY_BUDGET) as server:
        yield server


@pytest.fixture(scope="module")
def envoys(quick_retry_server: ServerProcess) -> Iterator[tuple[EnvoyProcess, EnvoyProcess]]:
    """envoy.yaml as is, and a rendered copy with its documented always-200 switch on."""
    with (
        start_envoy(quick_retry_server.port) as mapped,
        start_envoy(quick_retry_server.port, always_200_config()) as always_200,
    ):
        yield mapped, always_200


@pytest.fixture
def surfaces(
    quick_retry_server: ServerProcess,
    envoys: tuple[EnvoyProcess, EnvoyProcess],
    fresh_emulator: EmulatorProcess,
) -> Surfaces:
    return Surfaces(quick_retry_server, *envoys, fresh_emulator)


@pytest.mark.parametrize("name", list(CASES))
def test_error_class_on_both_surfaces(surfaces: Surfaces, pb: Any, name: str) -> None:
    case = CASES[name]
    if case.setup is not None:
        case.setup(surfaces)

    observe_everywhere(case, surfaces, pb)

    if name in OUTLASTING_THE_RETRIES:
        # Each of the four callers' calls was tried the full budget before the error came back.
        assert calls(surfaces.cloud, "DescribeInstances") >= 4 * RETRY_ATTEMPTS


def test_every_documented_error_class_is_provoked() -> None:
    covered = {case.code for case in CASES.values()}
    # UNAUTHENTICATED and PERMISSION_DENIED: test_auth_surfaces.py.
    assert covered | {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED} == {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.ALREADY_EXISTS,
    }
