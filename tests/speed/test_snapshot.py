"""The listing snapshot: every mutating call through the service invalidates it; one tenant's snapshot
never serves another; changes made outside the service show after at most the TTL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.service.helpers import FIXTURE_INSTANCE, ZONE, demo_scope, other_scope, wait_for_states
from tests.speed.conftest import CallCounter, ExtraCluster, cache_lookups, instance_count, pages_for
from tests.support.server import OTHER_SECRET_ID


def listing(stub: Any, pb: Any, **scope: Any) -> dict[str, Any]:
    """InstanceId -> instance of a PageSize 0 list (the full listing the snapshot holds)."""
    reply = stub.List(pb.ListRequest(**(scope or demo_scope()), PageSize=0), timeout=60)
    return {instance.InstanceId: instance for instance in reply.data.List}


def create(stub: Any, pb: Any) -> list[str]:
    request = pb.CreateRequest(
        **demo_scope(),
        Placement=pb.Placement(Zone=ZONE),
        ImageId="img-9id7emv7",
        InstanceType="MA2.SMALL8",
        InstanceName="made-by-speed-test",
        LoginSettings=pb.LoginSettings(Password="964322396.cda"),
    )
    return list(stub.Create(request, timeout=30).data.InstanceIds)


# Each mutation through the service, and how its effect shows in the next listing.
Mutation = Callable[[Any, Any], Callable[[dict[str, Any]], bool]]


def _create(stub: Any, pb: Any) -> Callable[[dict[str, Any]], bool]:
    ids = create(stub, pb)
    return lambda after: set(ids) <= set(after)


def _delete(stub: Any, pb: Any) -> Callable[[dict[str, Any]], bool]:
    stub.Delete(pb.DeleteRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)
    return lambda after: FIXTURE_INSTANCE not in after or after[FIXTURE_INSTANCE].InstanceState != "RUNNING"


def _update(stub: Any, pb: Any) -> Callable[[dict[str, Any]], bool]:
    request = pb.UpdateRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE], InstanceName="renamed-here")
    stub.Update(request, timeout=30)
    return lambda after: after[FIXTURE_INSTANCE].InstanceName == "renamed-here"


def _reset(stub: Any, pb: Any) -> Callable[[dict[str, Any]], bool]:
    request = pb.ResetRequest(
        **demo_scope(),
        InstanceId=FIXTURE_INSTANCE,
        ImageId="img-n7nyt2d7",
        LoginSettings=pb.LoginSettings(Password="964322396.cda"),
    )
    stub.Reset(request, timeout=30)
    # Reinstalling (RESETTING, or OPERATING on the way), or done and on the new image.
    return lambda after: (
        after[FIXTURE_INSTANCE].InstanceState != "RUNNING"
        or after[FIXTURE_INSTANCE].LatestOperationState == "OPERATING"
        or after[FIXTURE_INSTANCE].ImageId == "img-n7nyt2d7"
    )


def _turn_off(stub: Any, pb: Any) -> Callable[[dict[str, Any]], bool]:
    stub.TurnOff(pb.TurnOffRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)
    return lambda after: after[FIXTURE_INSTANCE].InstanceState in {"STOPPING", "STOPPED"}


def _turn_on(stub: Any, pb: Any) -> Callable[[dict[str, Any]], bool]:
    stub.TurnOn(pb.TurnOnRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)
    return lambda after: after[FIXTURE_INSTANCE].InstanceState in {"STARTING", "RUNNING"}


MUTATIONS: dict[str, Mutation] = {
    "create": _create,
    "delete": _delete,
    "update": _update,
    "reset": _reset,
    "turn_off": _turn_off,
    "turn_on": _turn_on,
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_mutation_through_the_service_invalidates_the_snapshot(
    name: str, quiet_cloud: Any, server_factory: Any, pb: Any
) -> None:
    quiet_cloud.seed(150, NamePrefix="fleet")
    stub = server_factory().stub()
    if name == "turn_on":  # something to turn on
        stub.TurnOff(pb.TurnOffRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)
        wait_for_states(quiet_cloud, [FIXTURE_INSTANCE], "STOPPED")
    calls = CallCounter(quiet_cloud)
    before = listing(stub, pb)
    assert listing(stub, pb).keys() == before.keys()
    assert calls("DescribeInstances") == pages_for(len(before))  # the second list came from the snapshot

    changed = MUTATIONS[name](stub, pb)
    calls.mark()
    after = listing(stub, pb)

    assert changed(after), f"the list after {name} does not show it"
    assert calls("DescribeInstances") >= pages_for(len(after))  # a fresh scan


def test_a_read_does_not_invalidate_the_snapshot(quiet_cloud: Any, server_factory: Any, pb: Any) -> None:
    server = server_factory()
    stub = server.stub()
    listing(stub, pb)
    calls = CallCounter(quiet_cloud)

    stub.Inspect(pb.InspectRequest(**demo_scope(), InstanceId=FIXTURE_INSTANCE), timeout=30)
    stub.List(pb.ListRequest(**demo_scope(), PageSize=5), timeout=30)  # a page read directly
    listing(stub, pb)

    assert calls("DescribeInstances") == 2  # the inspect and the page; the full list from the snapshot
    assert cache_lookups(server, "snapshot", "miss") == 1
    assert cache_lookups(server, "snapshot", "hit") == 1


SHARED_CLUSTER = ExtraCluster("5a1b2c3d-0000-4000-8000-00000000000a", ("tenant-a", "tenant-b"))
SAME_ACCOUNT_CLUSTER = ExtraCluster("5a1b2c3d-0000-4000-8000-00000000000c", ("tenant-c",))


def scope_of(cluster: ExtraCluster, tenant: str) -> dict[str, str]:
    return {"TenantUuid": tenant, "ClusterUuid": cluster.uuid, "Region": "ap-guangzhou"}


def test_snapshots_are_never_shared_across_tenants(quiet_cloud: Any, server_factory: Any, pb: Any) -> None:
    quiet_cloud.seed(150, NamePrefix="fleet")
    quiet_cloud.seed(20, OTHER_SECRET_ID, NamePrefix="other")
    pages = pages_for(instance_count(quiet_cloud))
    stub = server_factory(clusters=(SHARED_CLUSTER, SAME_ACCOUNT_CLUSTER)).stub()
    calls = CallCounter(quiet_cloud)
    tenant_a = scope_of(SHARED_CLUSTER, "tenant-a")
    tenant_b = scope_of(SHARED_CLUSTER, "tenant-b")
    tenant_c = scope_of(SAME_ACCOUNT_CLUSTER, "tenant-c")

    seen_by_a = listing(stub, pb, **tenant_a)
    assert calls("DescribeInstances") == pages
    listing(stub, pb, **tenant_a)
    assert calls("DescribeInstances") == pages  # tenant A again: its own snapshot

    # Same cluster, another tenant: its own scan, not tenant A's snapshot. Same for another cluster on the
    # same Tencent account.
    assert listing(stub, pb, **tenant_b).keys() == seen_by_a.keys()
    assert calls("DescribeInstances") == 2 * pages
    assert listing(stub, pb, **tenant_c).keys() == seen_by_a.keys()
    assert calls("DescribeInstances") == 3 * pages

    # Another account's tenant sees only its own instances.
    other_calls = CallCounter(quiet_cloud, OTHER_SECRET_ID)
    other_calls.mark()
    theirs = listing(stub, pb, **other_scope())
    assert theirs and theirs.keys().isdisjoint(seen_by_a.keys())
    assert other_calls("DescribeInstances") >= 1


def test_a_mutation_invalidates_every_snapshot_of_the_account_and_region(
    quiet_cloud: Any, server_factory: Any, pb: Any
) -> None:
    stub = server_factory(clusters=(SHARED_CLUSTER, SAME_ACCOUNT_CLUSTER)).stub()
    tenant_a = scope_of(SHARED_CLUSTER, "tenant-a")
    tenant_c = scope_of(SAME_ACCOUNT_CLUSTER, "tenant-c")
    listing(stub, pb, **tenant_a)
    listing(stub, pb, **tenant_c)
    other = listing(stub, pb, **other_scope())
    calls = CallCounter(quiet_cloud)
    other_calls = CallCounter(quiet_cloud, OTHER_SECRET_ID)

    request = pb.UpdateRequest(**tenant_c, InstanceIds=[FIXTURE_INSTANCE], InstanceName="renamed-via-c")
    stub.Update(request, timeout=30)  # through cluster C: the account both clusters use

    assert listing(stub, pb, **tenant_a)[FIXTURE_INSTANCE].InstanceName == "renamed-via-c"
    assert calls("DescribeInstances") == 1  # tenant A's snapshot was dropped (one page: the fixtures)
    assert listing(stub, pb, **other_scope()).keys() == other.keys()
    assert other_calls("DescribeInstances") == 0  # another account's snapshot stays


def test_changes_outside_the_service_show_after_the_ttl(
    quiet_cloud: Any, server_factory: Any, pb: Any
) -> None:
    ttl = 0.5
    long_lived = server_factory().stub()
    short_lived = server_factory(snapshot_ttl=ttl).stub()
    assert listing(long_lived, pb)[FIXTURE_INSTANCE].InstanceName == "123"
    assert listing(short_lived, pb)[FIXTURE_INSTANCE].InstanceName == "123"

    # Renamed in "the console": straight through the SDK, the service does not see it happen.
    quiet_cloud.common_client().call_json(
        "ModifyInstancesAttribute", {"InstanceIds": [FIXTURE_INSTANCE], "InstanceName": "renamed-elsewhere"}
    )
    time.sleep(ttl + 0.2)  # past the short TTL (an expiry can only come later, never earlier)

    assert listing(long_lived, pb)[FIXTURE_INSTANCE].InstanceName == "123"  # still within its TTL
    assert listing(short_lived, pb)[FIXTURE_INSTANCE].InstanceName == "renamed-elsewhere"
