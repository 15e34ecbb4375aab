"""DescribeInstances: every documented filter, AND/OR semantics, paging, order, and their errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.model_support import DEMO, REGION, SEED_INSTANCE, Model
from tests.emulator.sdk_support import no_sdk_warnings
from tests.support.emulator import EmulatorProcess


@pytest.fixture
def model() -> Model:
    return Model()


def _ids(model: Model, filters: list[dict[str, Any]], **params: Any) -> list[str]:
    reply = model.call("DescribeInstances", {"Filters": filters, "Limit": 100, **params})
    return [item["InstanceId"] for item in reply["InstanceSet"]]


def _filter(name: str, *values: str) -> dict[str, Any]:
    return {"Name": name, "Values": list(values)}


@pytest.fixture
def fleet(model: Model) -> dict[str, str]:
    """A few instances that differ in one attribute each, created at distinct times."""
    made: dict[str, str] = {"seed": SEED_INSTANCE}
    model.clock.advance(60)
    [made["tagged"]] = model.running(
        1,
        InstanceName="web",
        TagSpecification=[{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "prod"}]}],
        InternetAccessible={"InternetMaxBandwidthOut": 2},
    )
    model.clock.advance(60)
    [made["zone4"]] = model.running(
        1,
        InstanceName="web-2",
        Placement={"Zone": "ap-guangzhou-4", "ProjectId": 7},
        SecurityGroupIds=["sg-n5ihii7d"],
    )
    model.clock.advance(60)
    [made["app_vpc"]] = model.running(
        1,
        InstanceName="db",
        VirtualPrivateCloud={"VpcId": "vpc-2x7lhtse", "SubnetId": "subnet-a1pp0g3z"},
        TagSpecification=[{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "dev"}]}],
    )
    model.clock.advance(60)
    [made["prepaid"]] = model.running(
        1, InstanceName="db", InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 1}
    )
    model.call("StopInstances", {"InstanceIds": [made["prepaid"]]})
    model.settle()
    return made


def test_each_documented_filter(model: Model, fleet: dict[str, str]) -> None:
    tagged = model.instance(fleet["tagged"])
    zone4 = model.instance(fleet["zone4"])
    expectations: list[tuple[dict[str, Any], set[str]]] = [
        (_filter("zone", "ap-guangzhou-4"), {fleet["zone4"]}),
        (_filter("project-id", "7"), {fleet["zone4"]}),
        (_filter("project-id", "1196468"), {SEED_INSTANCE}),
        (_filter("host-id", "host-12345678"), set()),
        (_filter("dedicated-cluster-id", "cluster-1"), set()),
        (_filter("vpc-id", "vpc-2x7lhtse"), {fleet["app_vpc"]}),
        (_filter("subnet-id", "subnet-a1pp0g3z"), {fleet["app_vpc"]}),
        (_filter("instance-id", fleet["tagged"]), {fleet["tagged"]}),
        (_filter("uuid", tagged["Uuid"]), {fleet["tagged"]}),
        (_filter("security-group-id", "sg-n5ihii7d"), {fleet["zone4"]}),
        (_filter("instance-name", "web"), {fleet["tagged"]}),  # exact: "web-2" does not match
        (_filter("instance-name", "we"), set()),
        (_filter("instance-name", "db"), {fleet["app_vpc"], fleet["prepaid"]}),
        (_filter("instance-charge-type", "PREPAID"), {fleet["prepaid"]}),
        (_filter("instance-state", "STOPPED"), {fleet["prepaid"]}),
        (_filter("private-ip-address", zone4["PrivateIpAddresses"][0]), {fleet["zone4"]}),
        (_filter("public-ip-address", tagged["PublicIpAddresses"][0]), {fleet["tagged"]}),
        (_filter("public-ip-address", "119.29.162.50"), {SEED_INSTANCE}),
        (_filter("ipv6-address", "2001:db8::1"), set()),
        (_filter("tag-key", "env"), {fleet["tagged"], fleet["app_vpc"]}),
        (_filter("tag-value", "prod"), {fleet["tagged"]}),
        (_filter("tag:env", "dev"), {fleet["app_vpc"]}),
        (_filter("tag:owner", "dev"), set()),
        (_filter("creation-start-time", tagged["CreatedTime"]), set(fleet.values()) - {SEED_INSTANCE}),
        (_filter("creation-end-time", "2021-08-27 07:11:56"), {SEED_INSTANCE}),
        (_filter("creation-start-time", "2021-08-28"), set(fleet.values()) - {SEED_INSTANCE}),
    ]
    for entry, expected in expectations:
        assert set(_ids(model, [entry])) == expected, entry


def test_and_across_filters_or_within_one(model: Model, fleet: dict[str, str]) -> None:
    assert set(_ids(model, [_filter("instance-name", "web", "web-2")])) == {fleet["tagged"], fleet["zone4"]}
    both = [_filter("instance-name", "db"), _filter("instance-state", "RUNNING")]
    assert _ids(model, both) == [fleet["app_vpc"]]
    nothing = [_filter("zone", "ap-guangzhou-4"), _filter("instance-name", "db")]
    assert _ids(model, nothing) == []


def test_filter_errors(model: Model) -> None:
    def code(params: dict[str, Any]) -> str:
        return model.error("DescribeInstances", params).code

    assert code({"Filters": [_filter("name", "x")]}) == "InvalidFilter"
    assert (
        code({"Filters": [_filter("zone", *[f"z{n}" for n in range(6)])]})
        == "InvalidFilterValue.LimitExceeded"
    )
    assert code({"Filters": [_filter("zone", "x")] * 11}) == "InvalidParameterValue.LimitExceeded"
    assert code({"Filters": [_filter("project-id", "seven")]}) == "InvalidFilterValue"
    assert (
        code({"Filters": [_filter("creation-start-time", "yesterday")]})
        == "InvalidParameterValue.InvalidTimeFormat"
    )
    assert (
        code({"InstanceIds": [SEED_INSTANCE], "Filters": [_filter("zone", "x")]})
        == "InvalidParameterCombination"
    )
    assert code({"InstanceIds": ["ins-2n9b"]}) == "InvalidInstanceId.Malformed"
    assert (
        code({"InstanceIds": [f"ins-{n:08d}" for n in range(101)]}) == "InvalidParameterValue.LimitExceeded"
    )
    assert code({"Limit": 101}) == "InvalidParameterValue.Range"
    assert code({"Limit": 0}) == "InvalidParameterValue.Range"
    assert code({"Offset": -1}) == "InvalidParameterValue.Range"


def test_unknown_well_formed_ids_are_simply_absent(model: Model) -> None:
    reply = model.call("DescribeInstances", {"InstanceIds": ["ins-zzzzzzzz", SEED_INSTANCE]})
    assert reply["TotalCount"] == 1
    assert model.call("DescribeInstances", {"InstanceIds": ["ins-zzzzzzzz"]}) == {
        "TotalCount": 0,
        "InstanceSet": [],
    }


def test_paging_defaults_and_order(model: Model) -> None:
    model.world.seed_instances(DEMO, REGION, 250)
    first = model.call("DescribeInstances")
    assert first["TotalCount"] == 251
    assert len(first["InstanceSet"]) == 20  # default Limit
    seen: list[tuple[str, str]] = []
    offset = 0
    while True:
        page = model.call("DescribeInstances", {"Offset": offset, "Limit": 100})
        assert page["TotalCount"] == 251
        if not page["InstanceSet"]:
            break
        seen.extend((item["CreatedTime"], item["InstanceId"]) for item in page["InstanceSet"])
        offset += 100
    assert len(seen) == 251
    assert seen == sorted(seen)  # CreatedTime, then InstanceId
    assert seen[0][1] == SEED_INSTANCE  # the oldest


def test_seeded_instances_are_distinct_for_filters(model: Model) -> None:
    ids = model.world.seed_instances(DEMO, REGION, 300, zone="ap-guangzhou-4", name_prefix="bench")
    assert len(set(ids)) == 300
    reply = model.call("DescribeInstances", {"InstanceIds": ids[:100], "Limit": 100})
    names = {item["InstanceName"] for item in reply["InstanceSet"]}
    addresses = {item["PrivateIpAddresses"][0] for item in reply["InstanceSet"]}
    assert len(names) == 100
    assert len(addresses) == 100
    assert all(name.startswith("bench-") for name in names)
    one = reply["InstanceSet"][0]
    assert _ids(model, [_filter("instance-name", one["InstanceName"])]) == [one["InstanceId"]]
    assert _ids(model, [_filter("private-ip-address", one["PrivateIpAddresses"][0])]) == [one["InstanceId"]]
    zone4 = model.call("DescribeInstances", {"Filters": [_filter("zone", "ap-guangzhou-4")]})
    assert zone4["TotalCount"] == 300
    states = {item["InstanceState"] for item in reply["InstanceSet"]}
    assert states == {"RUNNING"}


def test_seeding_spills_into_new_subnets_when_a_zone_fills(model: Model) -> None:
    ids = model.world.seed_instances(DEMO, REGION, 5000, zone="ap-guangzhou-3")
    assert len(ids) == 5000
    subnets = model.call(
        "DescribeSubnets", {"Filters": [_filter("zone", "ap-guangzhou-3")], "Limit": "100"}, service="vpc"
    )["SubnetSet"]
    assert any(subnet["SubnetName"] == "Seed-Subnet" for subnet in subnets)
    counts = model.world.instance_counts()
    assert counts[DEMO][REGION] == 5001


def test_seed_hook_errors(model: Model) -> None:
    with pytest.raises(ValueError):
        model.world.seed_instances("AKIDNOBODY", REGION, 1)
    with pytest.raises(ValueError):
        model.world.seed_instances(DEMO, "ap-nowhere", 1)
    with pytest.raises(ValueError):
        model.world.seed_instances(DEMO, REGION, 1, zone="ap-shanghai-2")
    with pytest.raises(ValueError):
        model.world.seed_instances(DEMO, REGION, 1, colour="blue")


def test_status_paging(model: Model) -> None:
    model.world.seed_instances(DEMO, REGION, 30)
    reply = model.call("DescribeInstancesStatus", {"Offset": 25, "Limit": 10})
    assert reply["TotalCount"] == 31
    assert len(reply["InstanceStatusSet"]) == 6


# ---------------------------------------------------------------- end to end


def test_ten_thousand_seeded_instances_page_through_the_sdk(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.cvm.v20170312 import models

    fresh_emulator.set_throttle(False)
    seeded = fresh_emulator.seed(10_000)["InstanceIds"]
    assert len(set(seeded)) == 10_000
    client = fresh_emulator.cvm_client()
    seen: set[str] = set()
    offset = 0
    with no_sdk_warnings():
        while True:
            request = models.DescribeInstancesRequest()
            request.Offset = offset
            request.Limit = 100
            reply = client.DescribeInstances(request)
            assert reply.TotalCount == 10_001
            if not reply.InstanceSet:
                break
            seen.update(item.InstanceId for item in reply.InstanceSet)
            offset += 100
    assert seen == {*seeded, SEED_INSTANCE}
    assert fresh_emulator.counters()["Instances"][DEMO][REGION] == 10_001


def test_filters_through_the_sdk_in_get_mode(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.cvm.v20170312 import models

    client = fresh_emulator.cvm_client(method="GET")
    request = models.DescribeInstancesRequest()
    request.from_json_string(
        '{"Filters": [{"Name": "instance-name", "Values": ["123", "nothing"]},'
        ' {"Name": "project-id", "Values": ["1196468"]}], "Limit": 5}'
    )
    reply = client.DescribeInstances(request)
    assert reply.TotalCount == 1
    assert reply.InstanceSet[0].InstanceId == SEED_INSTANCE
    assert reply.InstanceSet[0].Placement.ProjectId == 1196468
