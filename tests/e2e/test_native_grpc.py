"""Every RPC over native gRPC, through Envoy's port (h2c on the JSON listener) and directly to the server:
the legacy example as a request message, the success envelope back, the effect in the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from tests.contract.legacy_api import RPC_BY_VERB
from tests.e2e.helpers import (
    FIXTURE_INSTANCE,
    assert_same_shape,
    example,
    example_as_grpc_request,
    instance,
    wait_gone,
    wait_settled,
)
from tests.service.helpers import assert_success_envelope
from tests.support.emulator import EmulatorProcess
from tests.support.envoy import EnvoyProcess
from tests.support.server import ServerProcess

TARGETS = ["direct", "via-envoy"]


@pytest.fixture(params=TARGETS)
def stub(request: pytest.FixtureRequest, grpc_server: ServerProcess, envoy: EnvoyProcess) -> Iterator[Any]:
    """A ComputeService stub straight to the server, or to Envoy's listener (the same port JSON uses)."""
    target = grpc_server.target if request.param == "direct" else envoy.grpc_target
    with grpc.insecure_channel(target) as channel:
        yield grpc_server.stub(channel)


def stop_with_the_sdk(cloud: EmulatorProcess) -> None:
    """turn_on needs a stopped instance; the fixtures start RUNNING."""
    cloud.common_client().call_json("StopInstances", {"InstanceIds": [FIXTURE_INSTANCE]})
    wait_settled(cloud, [FIXTURE_INSTANCE], "STOPPED")


def check_create(cloud: EmulatorProcess, reply: Any) -> None:
    (new_id,) = reply.data.InstanceIds
    created = wait_settled(cloud, [new_id], "RUNNING")[new_id]
    assert (created["InstanceName"], created["InstanceType"]) == ("123", "MA2.SMALL8")


def check_delete(cloud: EmulatorProcess, reply: Any) -> None:
    wait_gone(cloud, FIXTURE_INSTANCE)


def check_update(cloud: EmulatorProcess, reply: Any) -> None:
    assert wait_settled(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]["InstanceName"] == "1234"


def check_reset(cloud: EmulatorProcess, reply: Any) -> None:
    reset = wait_settled(cloud, [FIXTURE_INSTANCE], "RUNNING")[FIXTURE_INSTANCE]
    assert (reset["ImageId"], reset["OsName"]) == ("img-n7nyt2d7", "CentOS 8.2 64位")


def check_list(cloud: EmulatorProcess, reply: Any) -> None:
    assert [i.InstanceId for i in reply.data.List] == [FIXTURE_INSTANCE]
    assert reply.data.TotalCount == 1
    # Printed with Envoy's options (proto names, zero values too): the document's keys and JSON types.
    # (MessageToDict appends zero-valued fields last, so key order is Envoy's business: see the JSON tests.)
    printed = json_format.MessageToDict(
        reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    assert_same_shape(example("list").response_example, printed, ordered=False)


def check_inspect(cloud: EmulatorProcess, reply: Any) -> None:
    seen = instance(cloud, FIXTURE_INSTANCE)
    assert seen is not None
    assert (reply.data.InstanceId, reply.data.Uuid) == (FIXTURE_INSTANCE, seen["Uuid"])


def check_turn_on(cloud: EmulatorProcess, reply: Any) -> None:
    wait_settled(cloud, [FIXTURE_INSTANCE], "RUNNING")


def check_turn_off(cloud: EmulatorProcess, reply: Any) -> None:
    wait_settled(cloud, [FIXTURE_INSTANCE], "STOPPED")


# verb -> (what the emulator needs first, what must show afterwards)
CASES: dict[str, tuple[Callable[[EmulatorProcess], None] | None, Callable[[EmulatorProcess, Any], None]]] = {
    "create": (None, check_create),
    "list": (None, check_list),
    "inspect": (None, check_inspect),
    "update": (None, check_update),
    "reset": (None, check_reset),
    "turn_off": (None, check_turn_off),
    "turn_on": (stop_with_the_sdk, check_turn_on),
    "delete": (None, check_delete),
}


@pytest.mark.parametrize("verb", list(CASES))
def test_rpc_over_native_grpc(stub: Any, fresh_emulator: EmulatorProcess, pb: Any, verb: str) -> None:
    prepare, check = CASES[verb]
    if prepare is not None:
        prepare(fresh_emulator)

    reply = getattr(stub, RPC_BY_VERB[verb])(example_as_grpc_request(verb, pb), timeout=30)

    assert_success_envelope(reply)
    check(fresh_emulator, reply)


def test_every_rpc_is_covered() -> None:
    assert set(CASES) == set(RPC_BY_VERB)
