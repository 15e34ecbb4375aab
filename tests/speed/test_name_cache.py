"""Enrichment (instance family names, VPC names): fetched once per list, never once per instance, and
cached per account and region across lists (and inspects) within its TTL."""

from __future__ import annotations

from typing import Any

from tests.service.helpers import FIXTURE_INSTANCE, demo_scope
from tests.speed.conftest import CallCounter, cache_lookups


def test_names_are_fetched_once_and_then_served_from_the_cache(
    quiet_cloud: Any, server_factory: Any, pb: Any
) -> None:
    quiet_cloud.seed(250, NamePrefix="fleet")
    server = server_factory()
    stub = server.stub()
    calls = CallCounter(quiet_cloud)

    first = stub.List(pb.ListRequest(**demo_scope(), PageSize=0), timeout=60)
    assert len(first.data.List) > 250
    assert "Default-VPC" in first.data.VpcName
    assert all(instance.InstanceTypeName for instance in first.data.List)
    assert calls("DescribeInstanceFamilyConfigs") == 1  # one per list, however many instances
    assert calls("DescribeVpcs") == 1

    calls.mark()
    page = stub.List(pb.ListRequest(**demo_scope(), PageNum=100, PageSize=50), timeout=60)  # read directly
    inspected = stub.Inspect(pb.InspectRequest(**demo_scope(), InstanceId=FIXTURE_INSTANCE), timeout=30)

    assert len(page.data.List) == 50 and set(page.data.VpcName) == {"Default-VPC"}
    assert inspected.data.InstanceTypeName == "内存型MA2"
    assert calls("DescribeInstances") == 2  # the page and the inspect: nothing else
    assert calls("DescribeInstanceFamilyConfigs") == 0
    assert calls("DescribeVpcs") == 0
    assert cache_lookups(server, "instance_families", "miss") == 1
    assert cache_lookups(server, "instance_families", "hit") == 2
    assert cache_lookups(server, "vpc_names", "miss") == 1
    assert cache_lookups(server, "vpc_names", "hit") == 1


def test_without_the_name_caches_each_list_still_fetches_names_once(
    quiet_cloud: Any, server_factory: Any, pb: Any
) -> None:
    quiet_cloud.seed(250, NamePrefix="fleet")
    stub = server_factory(snapshot_ttl=0, family_names_ttl_seconds=0, vpc_names_ttl_seconds=0).stub()
    calls = CallCounter(quiet_cloud)

    for _ in range(3):
        assert len(stub.List(pb.ListRequest(**demo_scope(), PageSize=0), timeout=60).data.List) > 250

    assert calls("DescribeInstanceFamilyConfigs") == 3
    assert calls("DescribeVpcs") == 3
