"""Errors over native gRPC: canonical codes, google.rpc details (ErrorInfo, BadRequest) and the
`x-legacy-envelope` trailer, for each error class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from tests.service.helpers import FIXTURE_INSTANCE, demo_scope, failure_of, other_scope
from tests.support.server import DEMO_CLUSTER, DEMO_TENANT, OTHER_CLUSTER, start_server

DOMAIN = "compute.tencent.v1"


def test_unknown_and_unowned_clusters_look_the_same(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    not_found = failure_of(
        lambda: grpc_stub.List(pb.ListRequest(**demo_scope(ClusterUuid=unknown)), timeout=30)
    )
    not_owned = failure_of(
        lambda: grpc_stub.List(pb.ListRequest(**demo_scope(ClusterUuid=OTHER_CLUSTER)), timeout=30)
    )

    for failure in (not_found, not_owned):
        assert failure.code == grpc.StatusCode.NOT_FOUND
        assert failure.reason == "CLUSTER_NOT_FOUND"
        assert failure.error_info is not None and failure.error_info.domain == DOMAIN
        assert failure.envelope["scode"] == 5
        assert failure.envelope["desc"] == "CLUSTER_NOT_FOUND"
        assert failure.envelope["stack"] is None
        assert failure.envelope["data"] == {}
    # Identical apart from the UUID the caller sent.
    assert not_found.details.replace(unknown, "X") == not_owned.details.replace(OTHER_CLUSTER, "X")
    assert not_found.envelope["message_cn"].replace(unknown, "X") == not_owned.envelope["message_cn"].replace(
        OTHER_CLUSTER, "X"
    )
    assert set(not_found.metadata) == set(not_owned.metadata)


def test_tenants_see_only_their_own_account(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    demo = grpc_stub.List(pb.ListRequest(**demo_scope()), timeout=30)
    other = grpc_stub.List(pb.ListRequest(**other_scope()), timeout=30)

    demo_ids = {i.InstanceId for i in demo.data.List}
    other_ids = {i.InstanceId for i in other.data.List}
    assert FIXTURE_INSTANCE in demo_ids
    assert other_ids
    assert not demo_ids & other_ids
    # The other account's instance, asked for through the demo cluster: not found.
    foreign = sorted(other_ids)[0]
    failure = failure_of(
        lambda: grpc_stub.Inspect(pb.InspectRequest(**demo_scope(), InstanceId=foreign), timeout=30)
    )
    assert failure.code == grpc.StatusCode.NOT_FOUND


def test_inspect_unknown_instance_is_not_found(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    failure = failure_of(
        lambda: grpc_stub.Inspect(pb.InspectRequest(**demo_scope(), InstanceId="ins-zzzzzzzz"), timeout=30)
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.reason == "INSTANCE_NOT_FOUND"
    assert failure.metadata["instance_id"] == "ins-zzzzzzzz"
    assert failure.metadata["request_id"]
    assert failure.envelope == {
        "scode": 5,
        "desc": "INSTANCE_NOT_FOUND",
        "message": failure.details,
        "message_cn": failure.envelope["message_cn"],
        "stack": None,
        "data": {},
    }
    assert "ins-zzzzzzzz" in failure.envelope["message_cn"]


def test_invalid_input_lists_every_field(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.reset_counters()

    failure = failure_of(lambda: grpc_stub.List(pb.ListRequest(PageNum=-1), timeout=30))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.envelope["scode"] == 3
    assert {"TenantUuid", "ClusterUuid", "Region", "PageNum"} <= set(failure.violated_fields)
    assert cloud.counters()["Calls"] == {}  # rejected before any cloud call


def test_tencent_error_carries_its_code_and_request_id(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    request = pb.ResetRequest(
        **demo_scope(),
        InstanceId=FIXTURE_INSTANCE,
        ImageId="img-zzzzzzzz",  # well-formed, does not exist: Tencent's InvalidImageId.NotFound
        LoginSettings=pb.LoginSettings(Password="964322396.cda"),
    )

    failure = failure_of(lambda: grpc_stub.Reset(request, timeout=30))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.reason.startswith("InvalidImageId")
    assert failure.envelope["desc"] == failure.reason
    assert failure.metadata["tencent_action"] == "ResetInstance"
    assert len(failure.metadata["tencent_request_id"]) >= 8


def test_tencent_internal_error_on_a_write_is_internal(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.add_fault(Action="ModifyInstancesAttribute", ErrorCode="InternalError", ErrorProbability=1.0)
    cloud.reset_counters()
    request = pb.UpdateRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE], InstanceName="x")

    failure = failure_of(lambda: grpc_stub.Update(request, timeout=30))

    assert failure.code == grpc.StatusCode.INTERNAL
    assert failure.reason == "InternalError"
    assert failure.envelope["scode"] == 13
    assert "tencent_request_id" in failure.metadata
    calls = cloud.counters()["Calls"]["AKIDEMULATORDEMO"]["ModifyInstancesAttribute"]
    assert calls == 1  # a write is never repeated after InternalError


def test_throttling_that_persists_is_resource_exhausted(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.add_fault(Action="DescribeInstances", ErrorCode="RequestLimitExceeded", ErrorProbability=1.0)

    failure = failure_of(lambda: grpc_stub.List(pb.ListRequest(**demo_scope()), timeout=3))

    assert failure.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert failure.reason == "RequestLimitExceeded"
    assert failure.envelope["scode"] == 8


def test_tencent_unreachable_is_unavailable(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.add_fault(Action="DescribeInstances", HttpStatus=502, HttpStatusProbability=1.0)

    failure = failure_of(lambda: grpc_stub.List(pb.ListRequest(**demo_scope()), timeout=3))

    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert failure.reason == "ServerNetworkError"
    assert failure.envelope["scode"] == 14


def test_rejected_cluster_credentials_are_internal_and_never_leak(
    cloud: Any, pb: Any, tmp_path: Path
) -> None:
    wrong_key = "definitely-not-the-demo-secret"
    config = f"""
[server]
listen = "127.0.0.1:0"
[[clusters]]
uuid = "{DEMO_CLUSTER}"
tenants = ["{DEMO_TENANT}"]
endpoint = "{cloud.endpoint}"
[clusters.credentials]
secret_id = "AKIDEMULATORDEMO"
secret_key = "{wrong_key}"
[auth]
mode = "none"
[observability]
metrics_enabled = false
[store]
path = "{(tmp_path / "compute.db").as_posix()}"
"""
    with start_server(cloud.endpoint, config_text=config) as server:
        with server.channel() as channel:
            stub = server.stub(channel)
            failure = failure_of(lambda: stub.List(pb.ListRequest(**demo_scope()), timeout=30))
        log = server.log_text()

    assert failure.code == grpc.StatusCode.INTERNAL
    assert failure.reason.startswith("AuthFailure")
    assert "credentials" in failure.details
    for text in (failure.details, failure.envelope["message_cn"], str(failure.metadata), log):
        assert wrong_key not in text
