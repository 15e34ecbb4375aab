"""list: PageNum is the record offset, PageSize the page size (0 = all, >100 paged internally), Fuzzy
matches name, ID and IPs case-insensitively over the whole listing, TotalCount counts every match,
VpcName[i] belongs to List[i], InstanceTypeName comes from the family; enrichment is fetched once per call."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.helpers import FIXTURE_INSTANCE, calls, demo_scope, describe_all

SEEDED = 240  # with the fixtures, more than two Tencent pages


@pytest.fixture
def fleet(cloud: Any) -> list[dict[str, Any]]:
    """The demo account's ap-guangzhou instances after seeding: some named 'FleetNode...', the rest
    'worker...', in Tencent's (the emulator's) order."""
    cloud.seed(120, NamePrefix="FleetNode")
    cloud.seed(SEEDED - 120, NamePrefix="worker")
    instances = describe_all(cloud)
    assert len(instances) > SEEDED
    return instances


def ids(reply: Any) -> list[str]:
    return [instance.InstanceId for instance in reply.data.List]


def list_request(pb: Any, **fields: Any) -> Any:
    return pb.ListRequest(**demo_scope(), **fields)


def test_page_size_zero_returns_everything(grpc_stub: Any, pb: Any, fleet: list[dict[str, Any]]) -> None:
    reply = grpc_stub.List(list_request(pb, PageSize=0), timeout=60)

    assert reply.data.TotalCount == len(fleet)
    assert ids(reply) == [i["InstanceId"] for i in fleet]
    assert len(reply.data.VpcName) == len(fleet)


def test_page_num_is_a_record_offset(grpc_stub: Any, pb: Any, fleet: list[dict[str, Any]]) -> None:
    reply = grpc_stub.List(list_request(pb, PageNum=7, PageSize=10), timeout=60)

    assert reply.data.TotalCount == len(fleet)
    assert ids(reply) == [i["InstanceId"] for i in fleet[7:17]]


def test_page_size_over_100_is_paged_internally(
    grpc_stub: Any, cloud: Any, pb: Any, fleet: list[dict[str, Any]]
) -> None:
    cloud.reset_counters()

    reply = grpc_stub.List(list_request(pb, PageNum=5, PageSize=150), timeout=60)

    assert reply.data.TotalCount == len(fleet)
    assert ids(reply) == [i["InstanceId"] for i in fleet[5:155]]
    assert calls(cloud, "DescribeInstances") == 2  # 100 + 50, never more than Tencent's 100 per call


def test_offset_past_the_end_is_an_empty_page(grpc_stub: Any, pb: Any, fleet: list[dict[str, Any]]) -> None:
    reply = grpc_stub.List(list_request(pb, PageNum=len(fleet) + 5, PageSize=10), timeout=60)

    assert reply.data.TotalCount == len(fleet)
    assert ids(reply) == []
    assert list(reply.data.VpcName) == []
    assert reply.HasField("data")


def test_fuzzy_name_is_case_insensitive_and_counts_all_matches(
    grpc_stub: Any, pb: Any, fleet: list[dict[str, Any]]
) -> None:
    matching = [i["InstanceId"] for i in fleet if "fleetnode" in i["InstanceName"].lower()]
    assert len(matching) == 120

    whole = grpc_stub.List(list_request(pb, Fuzzy="fLEETnODE"), timeout=60)
    page = grpc_stub.List(list_request(pb, Fuzzy="fleetnode", PageNum=100, PageSize=50), timeout=60)

    assert whole.data.TotalCount == 120
    assert ids(whole) == matching
    assert page.data.TotalCount == 120
    assert ids(page) == matching[100:]


def test_fuzzy_matches_ids_and_ips(grpc_stub: Any, pb: Any, fleet: list[dict[str, Any]]) -> None:
    fixture = next(i for i in fleet if i["InstanceId"] == FIXTURE_INSTANCE)
    probes = {
        "id": FIXTURE_INSTANCE[2:9].upper(),
        "private ip": fixture["PrivateIpAddresses"][0],
        "public ip": fixture["PublicIpAddresses"][0][:9],
    }
    for what, needle in probes.items():
        expected = [
            i["InstanceId"]
            for i in fleet
            if any(
                needle.lower() in str(value).lower()
                for value in [
                    i["InstanceName"],
                    i["InstanceId"],
                    *i["PrivateIpAddresses"],
                    *(i["PublicIpAddresses"] or []),
                ]
            )
        ]
        reply = grpc_stub.List(list_request(pb, Fuzzy=needle), timeout=60)
        assert FIXTURE_INSTANCE in ids(reply), what
        assert ids(reply) == expected, what
        assert reply.data.TotalCount == len(expected), what


def test_vpc_names_align_and_type_names_come_from_families(
    grpc_stub: Any, cloud: Any, pb: Any, fleet: list[dict[str, Any]]
) -> None:
    vpc_names = {
        vpc["VpcId"]: vpc["VpcName"]
        for vpc in cloud.common_client(service="vpc").call_json("DescribeVpcs", {"Limit": "100"})["Response"][
            "VpcSet"
        ]
    }
    families = {
        family["InstanceFamily"]: family["InstanceFamilyName"]
        for family in cloud.common_client().call_json("DescribeInstanceFamilyConfigs", {})["Response"][
            "InstanceFamilyConfigSet"
        ]
    }
    cloud.reset_counters()

    reply = grpc_stub.List(list_request(pb, PageSize=0), timeout=60)

    assert len(reply.data.VpcName) == len(reply.data.List)
    for instance, vpc_name in zip(reply.data.List, reply.data.VpcName, strict=True):
        assert vpc_name == vpc_names.get(instance.VirtualPrivateCloud.VpcId, "")
        assert instance.InstanceTypeName == families.get(instance.InstanceType.split(".")[0], "")
    assert "Default-VPC" in reply.data.VpcName
    # Enrichment once per list call, never once per instance (a cache may make it zero).
    assert calls(cloud, "DescribeVpcs") <= 1
    assert calls(cloud, "DescribeInstanceFamilyConfigs") <= 1
