"""Helpers for the service tests: request scopes and bodies, error unpacking, waiting on and counting the
emulator's state."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.server import DEMO_CLUSTER, DEMO_SECRET_ID, DEMO_TENANT, OTHER_CLUSTER, OTHER_TENANT

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"
FIXTURE_INSTANCE = "ins-2n9bmcww"  # the legacy examples' instance, RUNNING in the demo account
WAIT_SECONDS = 30.0  # a generous bound on emulator transitions (tests run them at ~0.02 s)

T = TypeVar("T")


def demo_scope(**overrides: Any) -> dict[str, Any]:
    return {"TenantUuid": DEMO_TENANT, "ClusterUuid": DEMO_CLUSTER, "Region": REGION, **overrides}


def other_scope(**overrides: Any) -> dict[str, Any]:
    return {"TenantUuid": OTHER_TENANT, "ClusterUuid": OTHER_CLUSTER, "Region": REGION, **overrides}


def create_body(count: int, name: str = "created-by-test", **overrides: Any) -> dict[str, Any]:
    """A valid create request in the demo cluster: `count` MA2.SMALL8 instances of CentOS 8.2 in ZONE."""
    return {
        **demo_scope(),
        "Placement": {"Zone": ZONE},
        "ImageId": "img-n7nyt2d7",
        "InstanceType": "MA2.SMALL8",
        "InstanceCount": count,
        "InstanceName": name,
        **overrides,
    }


@dataclass
class RpcFailure:
    code: grpc.StatusCode
    details: str
    error_info: error_details_pb2.ErrorInfo | None
    bad_request: error_details_pb2.BadRequest | None
    envelope: dict[str, Any]
    trailers: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.error_info.reason if self.error_info is not None else ""

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.error_info.metadata) if self.error_info is not None else {}

    @property
    def violated_fields(self) -> list[str]:
        return [v.field for v in self.bad_request.field_violations] if self.bad_request else []


def failure_of(call: Callable[[], Any]) -> RpcFailure:
    """Run an RPC that must fail; unpack the status, its google.rpc details and the envelope trailer."""
    try:
        call()
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)  # also checks code and message agree with the trailer
        assert status is not None, "no grpc-status-details-bin trailer"
        info = bad = None
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
        trailers = dict(error.trailing_metadata() or ())
        raw_envelope = trailers["x-legacy-envelope"]
        assert raw_envelope.isascii()
        return RpcFailure(error.code(), error.details(), info, bad, json.loads(raw_envelope), trailers)
    raise AssertionError("the RPC succeeded but was expected to fail")


def assert_success_envelope(reply: Any) -> None:
    assert reply.scode == 0
    assert reply.desc == ""
    assert reply.message == "success"
    assert reply.message_cn == "成功"
    assert reply.stack.WhichOneof("kind") == "null_value"
    assert reply.HasField("data")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Poll `probe` until it returns something other than None/False; never asserts on time itself."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def describe(emulator: Any, ids: Iterable[str], **client_args: Any) -> dict[str, dict[str, Any]]:
    """The instances among `ids` as the SDK sees them in the emulator, keyed by InstanceId."""
    ids = list(ids)
    client = emulator.common_client(**client_args)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        reply = client.call_json("DescribeInstances", {"InstanceIds": ids[start : start + 100], "Limit": 100})
        for instance in reply["Response"]["InstanceSet"]:
            found[instance["InstanceId"]] = instance
    return found


def describe_all(emulator: Any, region: str = REGION, **client_args: Any) -> list[dict[str, Any]]:
    """Every instance of the account in the region, in Tencent's order (Offset/Limit pages)."""
    client = emulator.common_client(region=region, **client_args)
    result: list[dict[str, Any]] = []
    while True:
        reply = client.call_json("DescribeInstances", {"Offset": len(result), "Limit": 100})["Response"]
        result.extend(reply["InstanceSet"])
        if not reply["InstanceSet"] or len(result) >= reply["TotalCount"]:
            return result


def wait_for_states(emulator: Any, ids: Iterable[str], state: str, **client_args: Any) -> None:
    """Until every instance is in `state` with no operation still running on it."""
    ids = list(ids)

    def settled() -> bool:
        found = describe(emulator, ids, **client_args)
        return len(found) == len(ids) and all(
            i["InstanceState"] == state and i.get("LatestOperationState") != "OPERATING"
            for i in found.values()
        )

    eventually(settled, f"{len(ids)} instance(s) to be {state}")


def wait_until_gone(emulator: Any, ids: Iterable[str], **client_args: Any) -> None:
    ids = list(ids)
    eventually(lambda: not describe(emulator, ids, **client_args), f"{len(ids)} instance(s) to be gone")


def calls(emulator: Any, action: str, secret_id: str = DEMO_SECRET_ID) -> int:
    """How many `action` calls the emulator received from `secret_id` since the last counter reset."""
    return int(emulator.counters()["Calls"].get(secret_id, {}).get(action, 0))


def machines(emulator: Any, secret_id: str = DEMO_SECRET_ID) -> int:
    """Instances the emulator holds for the account in REGION (every state)."""
    return int(emulator.counters()["Instances"].get(secret_id, {}).get(REGION, 0))
