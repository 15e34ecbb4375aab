"""Every RPC's happy path over native gRPC, each effect checked in the emulator through the SDK."""

from __future__ import annotations

from typing import Any

from tests.service.helpers import (
    FIXTURE_INSTANCE,
    ZONE,
    assert_success_envelope,
    calls,
    demo_scope,
    describe,
    describe_all,
    wait_for_states,
    wait_until_gone,
)


def create_request(pb: Any, **overrides: Any) -> Any:
    """The legacy document's create example, as a gRPC request."""
    fields: dict[str, Any] = {
        "Placement": pb.Placement(Zone=ZONE),
        "ImageId": "img-9id7emv7",
        "SystemDisk": pb.SystemDisk(DiskType="CLOUD_PREMIUM", DiskSize=50),
        "InternetAccessible": pb.InternetAccessible(InternetMaxBandwidthOut=1, PublicIpAssigned=True),
        "securityGroupId": ["sg-n5ihii7d"],
        "InstanceCount": 1,
        "InstanceName": "123",
        "LoginSettings": pb.LoginSettings(Password="964322396.cda"),
        "InstanceType": "MA2.SMALL8",
        "EnhancedService": pb.EnhancedService(
            SecurityService=pb.RunSecurityServiceEnabled(Enabled=False),
            MonitorService=pb.RunMonitorServiceEnabled(Enabled=False),
        ),
    }
    fields.update(overrides)
    return pb.CreateRequest(**demo_scope(), **fields)


def test_create_runs_instances_with_the_legacy_example(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    reply = grpc_stub.Create(create_request(pb), timeout=30)

    assert_success_envelope(reply)
    ids = list(reply.data.InstanceIds)
    assert len(ids) == 1
    instance = describe(cloud, ids)[ids[0]]
    assert instance["InstanceName"] == "123"
    assert instance["InstanceType"] == "MA2.SMALL8"
    assert instance["InstanceChargeType"] == "POSTPAID_BY_HOUR"  # the default: the example omits it
    assert instance["SecurityGroupIds"] == ["sg-n5ihii7d"]  # given as the example's `securityGroupId`
    assert instance["Placement"]["Zone"] == ZONE
    wait_for_states(cloud, ids, "RUNNING")


def test_create_defaults_name_and_count(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    request = create_request(pb)
    request.ClearField("InstanceName")
    request.ClearField("InstanceCount")

    reply = grpc_stub.Create(request, timeout=30)

    ids = list(reply.data.InstanceIds)
    assert len(ids) == 1
    assert describe(cloud, ids)[ids[0]]["InstanceName"] == "未命名"


def test_create_with_the_same_client_token_creates_once(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    request = create_request(pb, InstanceCount=2, ClientToken="create-once-7f3a")
    before = cloud.counters()["Instances"]["AKIDEMULATORDEMO"]["ap-guangzhou"]

    first = grpc_stub.Create(request, timeout=30)
    second = grpc_stub.Create(request, timeout=30)

    assert len(first.data.InstanceIds) == 2
    assert list(second.data.InstanceIds) == list(first.data.InstanceIds)
    assert cloud.counters()["Instances"]["AKIDEMULATORDEMO"]["ap-guangzhou"] == before + 2


def test_create_with_the_same_idempotency_key_header_creates_once(
    grpc_stub: Any, cloud: Any, pb: Any
) -> None:
    request = create_request(pb, InstanceName="keyed")
    metadata = (("idempotency-key", "header-key-5c21"),)

    first = grpc_stub.Create(request, metadata=metadata, timeout=30)
    second = grpc_stub.Create(request, metadata=metadata, timeout=30)
    other = grpc_stub.Create(request, timeout=30)  # no key: a new machine

    assert list(second.data.InstanceIds) == list(first.data.InstanceIds)
    assert set(other.data.InstanceIds).isdisjoint(first.data.InstanceIds)
    named = [i for i in describe_all(cloud) if i["InstanceName"] == "keyed"]
    assert len(named) == 2


def test_delete_terminates(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    reply = grpc_stub.Delete(pb.DeleteRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)

    assert_success_envelope(reply)
    wait_until_gone(cloud, [FIXTURE_INSTANCE])


def test_update_name(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    request = pb.UpdateRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE], InstanceName="1234")

    assert_success_envelope(grpc_stub.Update(request, timeout=30))

    assert describe(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]["InstanceName"] == "1234"


def test_update_name_and_security_groups_makes_two_calls(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.reset_counters()
    request = pb.UpdateRequest(
        **demo_scope(), InstanceIds=[FIXTURE_INSTANCE], InstanceName="both", SecurityGroups=["sg-n5ihii7d"]
    )

    assert_success_envelope(grpc_stub.Update(request, timeout=30))

    instance = describe(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]
    assert instance["InstanceName"] == "both"
    assert instance["SecurityGroupIds"] == ["sg-n5ihii7d"]
    # Tencent takes one attribute per call: two calls at least (a second one denied while the first
    # operation still reads OPERATING is retried by the service).
    assert calls(cloud, "ModifyInstancesAttribute") >= 2


def test_reset_reinstalls_the_os(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    before = describe(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]
    assert before["ImageId"] == "img-9id7emv7"
    request = pb.ResetRequest(
        **demo_scope(),
        InstanceId=FIXTURE_INSTANCE,
        SystemDisk=pb.SystemDisk(DiskType="CLOUD_PREMIUM", DiskSize=50),
        LoginSettings=pb.LoginSettings(Password="964322396.cda"),
        EnhancedService=pb.EnhancedService(
            SecurityService=pb.RunSecurityServiceEnabled(Enabled=False),
            MonitorService=pb.RunMonitorServiceEnabled(Enabled=False),
        ),
        ImageId="img-n7nyt2d7",
    )

    assert_success_envelope(grpc_stub.Reset(request, timeout=30))

    wait_for_states(cloud, [FIXTURE_INSTANCE], "RUNNING")
    after = describe(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]
    assert after["ImageId"] == "img-n7nyt2d7"
    assert after["OsName"] == "CentOS 8.2 64位"


def test_list_matches_the_legacy_example(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    reply = grpc_stub.List(pb.ListRequest(**demo_scope(), PageSize=10, Fuzzy="", PageNum=0), timeout=30)

    assert_success_envelope(reply)
    assert reply.data.TotalCount == 1
    assert len(reply.data.List) == 1
    instance = reply.data.List[0]
    assert instance.InstanceId == FIXTURE_INSTANCE
    assert instance.CPU == 1
    assert instance.Memory == 8
    assert instance.Placement.ProjectId == 1196468
    assert instance.SystemDisk.DiskSize == 50
    assert list(instance.PrivateIpAddresses) == ["172.16.16.4"]
    assert instance.VirtualPrivateCloud.VpcId == "vpc-evvn0y6d"
    assert instance.InstanceTypeName == "内存型MA2"
    assert list(reply.data.VpcName) == ["Default-VPC"]


def test_inspect_returns_the_instance(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    reply = grpc_stub.Inspect(pb.InspectRequest(**demo_scope(), InstanceId=FIXTURE_INSTANCE), timeout=30)

    assert_success_envelope(reply)
    assert reply.data.InstanceId == FIXTURE_INSTANCE
    assert reply.data.InstanceName == "123"
    assert reply.data.InstanceState == "RUNNING"
    assert reply.data.InstanceTypeName == "内存型MA2"
    assert reply.data.Uuid == "e9c8f253-a621-40d5-9615-8ee7a2d53e84"
    assert "Password" not in reply.data.LoginSettings.DESCRIPTOR.fields_by_name  # never returned


def test_turn_off_then_turn_on(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    off = pb.TurnOffRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE], ForceStop=False)
    assert_success_envelope(grpc_stub.TurnOff(off, timeout=30))
    wait_for_states(cloud, [FIXTURE_INSTANCE], "STOPPED")
    # Tencent's default StopType (SOFT) is what a plain turn_off asks for.
    assert [call["Params"].get("StopType", "SOFT") for call in cloud.requests("StopInstances")] == ["SOFT"]

    on = pb.TurnOnRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE])
    assert_success_envelope(grpc_stub.TurnOn(on, timeout=30))
    wait_for_states(cloud, [FIXTURE_INSTANCE], "RUNNING")


def test_turn_off_with_force_stop(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    off = pb.TurnOffRequest(**demo_scope(), InstanceId=[FIXTURE_INSTANCE], ForceStop=True)

    assert_success_envelope(grpc_stub.TurnOff(off, timeout=30))

    wait_for_states(cloud, [FIXTURE_INSTANCE], "STOPPED")
    # ForceStop is Tencent's deprecated flag for "force after a failed soft stop": StopType SOFT_FIRST.
    stops = cloud.requests("StopInstances")
    assert [call["Params"].get("StopType") for call in stops] == ["SOFT_FIRST"]
    assert "ForceStop" not in stops[0]["Params"]  # Tencent refuses the two together


def test_sdk_connections_are_reused(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    request = pb.InspectRequest(**demo_scope(), InstanceId=FIXTURE_INSTANCE)
    grpc_stub.Inspect(request, timeout=30)  # the clients for this cluster and region exist from here on
    cloud.reset_counters()

    for _ in range(20):
        grpc_stub.Inspect(request, timeout=30)

    # 40 Tencent calls (DescribeInstances + DescribeInstanceFamilyConfigs each); kept-alive connections.
    assert calls(cloud, "DescribeInstances") == 20
    assert cloud.counters()["ConnectionsAccepted"] <= 2
