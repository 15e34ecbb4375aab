"""The cloud's state: a shared catalog (regions, zones, images, instance types) and per-account resources.

Catalog entries are immutable and shared by every account. Each account owns, per region, its VPCs,
subnets, security groups, instances and RunInstances client tokens; nothing in one account refers to
another. Lifecycle fields of an instance change only through `emulator.lifecycle`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.i18n import Localized
from emulator.network import AddressPool

# ---------------------------------------------------------------- catalog (shared, read-only)


@dataclass(frozen=True)
class Zone:
    zone: str  # "ap-guangzhou-3"
    zone_id: str  # "100003"
    names: Localized
    state: str  # AVAILABLE | UNAVAILABLE


@dataclass(frozen=True)
class Region:
    region: str
    names: Localized
    zones: tuple[Zone, ...]
    services: frozenset[str]  # the APIs offered here ("cvm", "vpc"); others get UnsupportedRegion
    public_ip_cidr: str

    def zone(self, name: str) -> Zone | None:
        return next((zone for zone in self.zones if zone.zone == name), None)


@dataclass(frozen=True)
class Image:
    image_id: str
    os_name: str
    image_name: str
    description: str
    platform: str  # CentOS, Ubuntu, Windows, TencentOS, ...
    architecture: str
    image_type: str  # PUBLIC_IMAGE | PRIVATE_IMAGE | SHARED_IMAGE
    image_size: int  # GiB; also the smallest system disk the image fits on
    created_time: str
    regions: frozenset[str]  # empty: every region
    image_source: str = "OFFICIAL"
    image_creator: str = ""
    license_type: str = "TencentCloud"
    supports_cloudinit: bool = True

    @property
    def is_windows(self) -> bool:
        return self.platform.lower() == "windows"

    @property
    def default_login(self) -> tuple[str, int]:
        return ("Administrator", 3389) if self.is_windows else ("root", 22)

    def offered_in(self, region: str) -> bool:
        return not self.regions or region in self.regions


@dataclass(frozen=True)
class InstanceFamily:
    family: str
    names: Localized


@dataclass(frozen=True)
class InstanceType:
    instance_type: str  # "MA2.SMALL8"
    family: str
    cpu: int
    memory: int  # GiB
    gpu: int
    fpga: int
    gpu_count: float
    zones: frozenset[str]  # empty: every zone

    def offered_in(self, zone: str) -> bool:
        return not self.zones or zone in self.zones


@dataclass(frozen=True)
class Catalog:
    regions: dict[str, Region]
    images: dict[str, Image]  # in fixture order
    families: dict[str, InstanceFamily]
    instance_types: dict[str, InstanceType]

    def zone(self, region: str, zone: str) -> Zone | None:
        found = self.regions.get(region)
        return found.zone(zone) if found else None


# ---------------------------------------------------------------- per-account resources


@dataclass(eq=False)
class Vpc:
    vpc_id: str
    name: str
    cidr: str
    is_default: bool
    created_time: str  # VPC replies use "YYYY-MM-DD hh:mm:ss"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Subnet:
    subnet_id: str
    vpc_id: str
    zone: str
    name: str
    cidr: str
    is_default: bool
    created_time: str
    route_table_id: str
    addresses: AddressPool
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class SecurityGroup:
    security_group_id: str
    name: str
    description: str
    project_id: int
    is_default: bool
    created_time: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class SystemDisk:
    disk_type: str
    disk_id: str
    disk_size: int


@dataclass(eq=False)
class DataDisk:
    disk_type: str
    disk_id: str
    disk_size: int
    delete_with_instance: bool


@dataclass(slots=True)
class PendingOperation:
    """An operation under way: when the instance lands in `target`, and when the operation settles."""

    arrive_at: float  # monotonic seconds
    target: str | None  # None: the instance disappears on arrival (terminated)
    settle_at: float  # LatestOperationState leaves OPERATING (>= arrive_at)
    outcome: str  # SUCCESS | FAILED
    error_message: str
    stop_charging_mode: str  # StopChargingMode once arrived
    arrived: bool = False


@dataclass(eq=False, slots=True)
class Instance:
    instance_id: str
    uuid: str
    zone: str
    project_id: int
    instance_type: str
    cpu: int
    memory: int
    name: str
    charge_type: str  # POSTPAID_BY_HOUR | PREPAID | SPOTPAID
    renew_flag: str | None  # None for pay-as-you-go (Tencent sends null)
    expired_time: str | None  # None for pay-as-you-go (Tencent sends null)
    system_disk: SystemDisk
    data_disks: list[DataDisk]
    private_ips: list[str]
    public_ips: list[str]
    internet_charge_type: str
    bandwidth_out: int
    vpc_id: str
    subnet_id: str
    image_id: str
    os_name: str
    security_group_ids: list[str]
    login: dict[str, Any]  # the reply form of LoginSettings; never a password
    state: str
    tags: dict[str, str]
    created_time: str  # "YYYY-MM-DDThh:mm:ssZ"
    host_name: str
    default_login_user: str
    default_login_port: int
    stop_charging_mode: str = "NOT_APPLICABLE"
    latest_operation: str | None = None
    latest_operation_state: str | None = None
    latest_operation_request_id: str | None = None
    latest_operation_error: str = ""
    cam_role_name: str = ""
    disable_api_termination: bool = False
    isolated_source: str = "NOTISOLATED"
    restrict_state: str = "NORMAL"
    pending: PendingOperation | None = None
    # the DescribeInstances item, rebuilt after any change (see `touch`)
    rendered: dict[str, Any] | None = None

    def touch(self) -> None:
        """Forget the cached reply item; call after every change."""
        self.rendered = None

    @property
    def order_key(self) -> tuple[str, str]:
        """Listing order: CreatedTime, then InstanceId (both ascending)."""
        return (self.created_time, self.instance_id)


class RegionState:
    """One account's resources in one region."""

    def __init__(self, region: str, public_ips: AddressPool) -> None:
        self.region = region
        self.vpcs: dict[str, Vpc] = {}
        self.subnets: dict[str, Subnet] = {}
        self.security_groups: dict[str, SecurityGroup] = {}
        self.instances: dict[str, Instance] = {}
        self.public_ips = public_ips
        self.client_tokens: dict[str, list[str]] = {}  # RunInstances ClientToken -> InstanceIdSet
        self.busy: set[str] = set()  # instances with a pending operation (the only ones settling can change)
        self._ordered: list[Instance] | None = None

    def add_instance(self, instance: Instance) -> None:
        self.instances[instance.instance_id] = instance
        self._ordered = None

    def remove_instance(self, instance_id: str) -> Instance | None:
        instance = self.instances.pop(instance_id, None)
        self.busy.discard(instance_id)
        self._ordered = None
        return instance

    def ordered(self) -> list[Instance]:
        """Instances in listing order (cached until the set of instances changes)."""
        if self._ordered is None:
            self._ordered = sorted(self.instances.values(), key=lambda instance: instance.order_key)
        return self._ordered

    def default_vpc(self) -> Vpc | None:
        return next((vpc for vpc in self.vpcs.values() if vpc.is_default), None)

    def default_subnet(self, vpc_id: str, zone: str) -> Subnet | None:
        candidates = [s for s in self.subnets.values() if s.vpc_id == vpc_id and s.zone == zone]
        return next((s for s in candidates if s.is_default), candidates[0] if candidates else None)

    def default_security_group(self) -> SecurityGroup | None:
        return next((sg for sg in self.security_groups.values() if sg.is_default), None)


class Account:
    """An account's whole state; `lock` guards every read and write of it."""

    def __init__(self, secret_id: str, secret_key: str) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.lock = threading.Lock()
        self.regions: dict[str, RegionState] = {}
        self.seeded = 0  # instances made by the seed hook so far (their names count on from here)

    def taken_ids(self) -> set[str]:
        taken: set[str] = set()
        for state in self.regions.values():
            taken.update(state.instances)
            taken.update(state.vpcs)
            taken.update(state.subnets)
            taken.update(state.security_groups)
        return taken
