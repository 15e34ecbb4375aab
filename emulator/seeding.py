"""Bulk seeding for benchmarks and demos: many RUNNING instances at once, no lifecycle delay.

Seeded instances look like launched ones (same builder) and differ where filters look: each has its own
name (`<prefix>-<n>`, numbered per account so names never repeat across seeds), private IP, public IP
(while the region's pool lasts), and they are spread round-robin over the zones given. When a zone's
subnets are full, a fresh /20 "Seed-Subnet" is added to the default VPC.
"""

from __future__ import annotations

import ipaddress
import random

from emulator import fixtures, fleet, ids, lifecycle
from emulator.clock import iso_utc
from emulator.model import Account, Catalog, Image, InstanceType, RegionState, Subnet, Vpc


def seed(
    account: Account,
    state: RegionState,
    catalog: Catalog,
    *,
    zones: list[str],
    count: int,
    image: Image,
    prefix: str,
    instance_type: str | None,
    rng: random.Random,
    wall: float,
) -> list[str]:
    """Create the instances (caller holds the account lock and checked zones and image)."""
    vpc = state.default_vpc()
    if vpc is None:
        raise ValueError(f"account {account.secret_id} has no default VPC in {state.region}")
    group = state.default_security_group()
    types = {zone: _instance_type(catalog, zone, instance_type) for zone in zones}
    taken = account.taken_ids()
    created_time = iso_utc(wall)
    created: list[str] = []
    for index in range(count):
        zone = zones[index % len(zones)]
        account.seeded += 1
        plan = fleet.LaunchPlan(
            zone=zone,
            project_id=0,
            instance_type=types[zone],
            image=image,
            charge_type="POSTPAID_BY_HOUR",
            renew_flag=None,
            expired_time=None,
            system_disk_type="CLOUD_PREMIUM",
            system_disk_size=max(50, image.image_size),
            vpc=vpc,
            subnet=_subnet_with_room(state, vpc, zone, rng, wall),
            security_group_ids=[group.security_group_id] if group else [],
            internet_charge_type="TRAFFIC_POSTPAID_BY_HOUR",
            bandwidth_out=1,
            public_ip=state.public_ips.available > 0,
        )
        [instance] = fleet.launch(
            state,
            plan,
            [f"{prefix}-{account.seeded:05d}"],
            rng=rng,
            taken=taken,
            created_time=created_time,
            initial_state=lifecycle.RUNNING,
        )
        instance.latest_operation = "RunInstances"
        instance.latest_operation_state = lifecycle.SUCCESS
        instance.latest_operation_request_id = ids.new_uuid(rng)
        created.append(instance.instance_id)
    return created


def _instance_type(catalog: Catalog, zone: str, name: str | None) -> InstanceType:
    if name is None:
        for candidate in catalog.instance_types.values():
            if candidate.offered_in(zone):
                return candidate
        raise ValueError(f"no instance type is offered in {zone}")
    found = catalog.instance_types.get(name)
    if found is None or not found.offered_in(zone):
        raise ValueError(f"instance type {name} is not offered in {zone}")
    return found


def _subnet_with_room(state: RegionState, vpc: Vpc, zone: str, rng: random.Random, wall: float) -> Subnet:
    for subnet in state.subnets.values():
        if subnet.vpc_id == vpc.vpc_id and subnet.zone == zone and subnet.addresses.available > 0:
            return subnet
    vpc_network = ipaddress.IPv4Network(vpc.cidr)
    used = [s.addresses.network for s in state.subnets.values() if s.vpc_id == vpc.vpc_id]
    for candidate in vpc_network.subnets(new_prefix=max(20, vpc_network.prefixlen)):
        if not any(candidate.overlaps(existing) for existing in used):
            return fixtures.add_subnet(
                state, vpc, zone, str(candidate), rng, name="Seed-Subnet", is_default=False, wall=wall
            )
    raise ValueError(f"the VPC {vpc.vpc_id} has no room for another subnet")
