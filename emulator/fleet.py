"""Making and unmaking instances: IDs, names, disks and addresses, in one place.

RunInstances, the seed hook and the fixture loader all build instances here, so an instance looks the
same however it came to exist. Lifecycle state is set by the caller.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from emulator import ids, naming
from emulator.errors import ApiError
from emulator.model import DataDisk, Image, Instance, InstanceType, RegionState, Subnet, SystemDisk, Vpc


@dataclass
class LaunchPlan:
    """Everything RunInstances decided, shared by each instance of the batch."""

    zone: str
    project_id: int
    instance_type: InstanceType
    image: Image
    charge_type: str
    renew_flag: str | None
    expired_time: str | None
    system_disk_type: str
    system_disk_size: int
    vpc: Vpc
    subnet: Subnet
    security_group_ids: list[str]
    internet_charge_type: str
    bandwidth_out: int
    public_ip: bool
    login: dict[str, object] = field(default_factory=dict)
    data_disks: list[tuple[str, int, bool]] = field(default_factory=list)  # (type, GiB, delete with instance)
    private_ips: list[str] | None = None  # explicit addresses, one per instance
    tags: dict[str, str] = field(default_factory=dict)
    host_name: str | None = None  # template; None: Tencent's default
    disable_api_termination: bool = False
    cam_role_name: str = ""


def check_capacity(state: RegionState, plan: LaunchPlan, count: int) -> None:
    """Fail before creating anything when the subnet or the public pool cannot serve `count` instances."""
    if plan.private_ips is None and plan.subnet.addresses.available < count:
        raise ApiError(
            "FailedOperation.NoAvailableIpAddressCountInSubnet",
            f"No available IPs in the subnet `{plan.subnet.subnet_id}`.",
            f"子网`{plan.subnet.subnet_id}`中没有足够的可用 IP。",
        )
    if plan.public_ip and state.public_ips.available < count:
        raise ApiError(
            "ResourcesSoldOut.EipInsufficient", "The public IP has been sold out.", "公网 IP 已售罄。"
        )


def launch(
    state: RegionState,
    plan: LaunchPlan,
    names: list[str],
    *,
    rng: random.Random,
    taken: set[str],
    created_time: str,
    initial_state: str,
) -> list[Instance]:
    """Create one instance per name (addresses allocated, IDs unique within `taken`, which grows)."""
    login_user, login_port = plan.image.default_login
    created: list[Instance] = []
    for index, name in enumerate(names):
        instance_id = ids.new_id(ids.INSTANCE, rng, taken)
        taken.add(instance_id)
        if plan.private_ips is not None:
            private_ip = plan.private_ips[index]
            plan.subnet.addresses.take(private_ip)
        else:
            allocated = plan.subnet.addresses.allocate()
            assert allocated is not None  # check_capacity ran first
            private_ip = allocated
        public_ips = []
        if plan.public_ip:
            public_ip = state.public_ips.allocate()
            assert public_ip is not None
            public_ips.append(public_ip)
        host_name = (
            naming.host_name(plan.host_name, index, len(names), private_ip)
            if plan.host_name
            else default_host_name(private_ip, plan.image)
        )
        instance = Instance(
            instance_id=instance_id,
            uuid=ids.new_uuid(rng),
            zone=plan.zone,
            project_id=plan.project_id,
            instance_type=plan.instance_type.instance_type,
            cpu=plan.instance_type.cpu,
            memory=plan.instance_type.memory,
            name=name,
            charge_type=plan.charge_type,
            renew_flag=plan.renew_flag,
            expired_time=plan.expired_time,
            system_disk=SystemDisk(plan.system_disk_type, ids.new_id(ids.DISK, rng), plan.system_disk_size),
            data_disks=[
                DataDisk(disk_type, ids.new_id(ids.DISK, rng), size, delete)
                for disk_type, size, delete in plan.data_disks
            ],
            private_ips=[private_ip],
            public_ips=public_ips,
            internet_charge_type=plan.internet_charge_type,
            bandwidth_out=plan.bandwidth_out,
            vpc_id=plan.vpc.vpc_id,
            subnet_id=plan.subnet.subnet_id,
            image_id=plan.image.image_id,
            os_name=plan.image.os_name,
            security_group_ids=list(plan.security_group_ids),
            login=dict(plan.login),
            state=initial_state,
            tags=dict(plan.tags),
            created_time=created_time,
            host_name=host_name,
            default_login_user=login_user,
            default_login_port=login_port,
            disable_api_termination=plan.disable_api_termination,
            cam_role_name=plan.cam_role_name,
        )
        state.add_instance(instance)
        created.append(instance)
    return created


def release(state: RegionState, instance: Instance) -> None:
    """Return a vanished instance's addresses to their pools."""
    subnet = state.subnets.get(instance.subnet_id)
    if subnet is not None:
        for address in instance.private_ips:
            subnet.addresses.release(address)
    for address in instance.public_ips:
        state.public_ips.release(address)


def default_host_name(private_ip: str, image: Image) -> str:
    """Tencent's default host name: `VM-<third>-<fourth>-<platform>` from the private IP."""
    third, fourth = private_ip.split(".")[2:4]
    platform = "win" if image.is_windows else image.platform.lower().replace(" ", "")
    return f"VM-{third}-{fourth}-{platform}"
