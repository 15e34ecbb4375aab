"""RunInstances: every documented check first (nothing is created when one fails), then the batch.

Idempotency: a ClientToken seen before in this account and region returns the InstanceIdSet of the call
that first used it and creates nothing (tokens are remembered until reset; Tencent does not document how
long it keeps them). DryRun runs every check, including address capacity, and creates nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from emulator import apierrors, fleet, ids, lifecycle, logins, naming, network
from emulator.actions.common import security_group_ids
from emulator.call import Call
from emulator.clock import add_months, iso_utc
from emulator.errors import ApiError
from emulator.model import Image, InstanceType, Subnet, Vpc, Zone

MAX_INSTANCE_COUNT = 500  # the current Chinese spec: [1, 500] for both charge types
MAX_NAME_LENGTH = 128  # including patterns
MAX_CLIENT_TOKEN = 64
MAX_USER_DATA = 16 * 1024
MAX_DATA_DISKS = 20
MAX_BANDWIDTH = 1000
MAX_SYSTEM_DISK = 2048
DEFAULT_SYSTEM_DISK = 50

CHARGE_TYPES = ("PREPAID", "POSTPAID_BY_HOUR", "SPOTPAID")
PERIODS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60)
RENEW_FLAGS = ("NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW", "DISABLE_NOTIFY_AND_MANUAL_RENEW")
DISK_TYPES = (
    "LOCAL_BASIC",
    "LOCAL_SSD",
    "CLOUD_BASIC",
    "CLOUD_SSD",
    "CLOUD_PREMIUM",
    "CLOUD_BSSD",
    "CLOUD_HSSD",
    "CLOUD_TSSD",
)
INTERNET_CHARGE_TYPES = (
    "BANDWIDTH_PREPAID",
    "TRAFFIC_POSTPAID_BY_HOUR",
    "BANDWIDTH_POSTPAID_BY_HOUR",
    "BANDWIDTH_PACKAGE",
)
# Parameters that need resources the emulator does not model (templates, CDH/CDC/CHC hosts, HPC, ENIs).
UNMODELLED = ("LaunchTemplate", "DedicatedClusterId", "HpcClusterId", "ChcIds", "NetworkInterfaces")

_INSTANCE_TYPE = re.compile(r"[A-Z][A-Z0-9]*\.[A-Z0-9]+")
_HOST_NAME = re.compile(r"[A-Za-z0-9.\-{}:,IPR]+")


def run_instances(call: Call) -> dict[str, Any]:
    params = call.params
    token = _client_token(params.get("ClientToken"))
    dry_run = bool(params.get("DryRun", False))
    if token is not None and not dry_run and token in call.state.client_tokens:
        return {"InstanceIdSet": list(call.state.client_tokens[token])}
    for name in UNMODELLED:
        if name in params:
            raise ApiError(
                "UnsupportedOperation",
                f"The parameter `{name}` is not supported by this emulator.",
                f"模拟器不支持参数`{name}`。",
            )

    count = _instance_count(params)
    charge_type, renew_flag, period = _charging(params)
    zone = _zone(call)
    image = find_image(call, params.get("ImageId"))
    instance_type = _instance_type(call, zone)
    disk_type, disk_size = _system_disk(params.get("SystemDisk", {}), image)
    vpc, subnet, private_ips = _network(call, zone, count)
    internet_charge_type, bandwidth, public_ip = _internet(params.get("InternetAccessible", {}), charge_type)
    names = _names(params.get("InstanceName"), count)
    login = logins.login_reply(
        params.get("LoginSettings"), windows=image.is_windows, public_image=image.image_type == "PUBLIC_IMAGE"
    )
    groups = _security_groups(call)
    check_user_data(params.get("UserData"))
    host_name = _host_name(params.get("HostName"), image)
    created_time = iso_utc(call.wall)

    plan = fleet.LaunchPlan(
        zone=zone.zone,
        project_id=call.params.get("Placement", {}).get("ProjectId", 0),
        instance_type=instance_type,
        image=image,
        charge_type=charge_type,
        renew_flag=renew_flag,
        expired_time=add_months(created_time, period) if period else None,
        system_disk_type=disk_type,
        system_disk_size=disk_size,
        vpc=vpc,
        subnet=subnet,
        security_group_ids=groups,
        internet_charge_type=internet_charge_type,
        bandwidth_out=bandwidth,
        public_ip=public_ip,
        login=login,
        data_disks=_data_disks(params.get("DataDisks", [])),
        private_ips=private_ips,
        tags=_tags(params.get("TagSpecification", [])),
        host_name=host_name,
        disable_api_termination=bool(params.get("DisableApiTermination", False)),
        cam_role_name=params.get("CamRoleName", ""),
    )
    fleet.check_capacity(call.state, plan, count)
    if dry_run:
        return {"InstanceIdSet": []}

    created = fleet.launch(
        call.state,
        plan,
        names,
        rng=call.rng,
        taken=call.account.taken_ids(),
        created_time=created_time,
        initial_state=lifecycle.PENDING,
    )
    for instance in created:
        failed = call.rng.random() < call.launch_failure_probability
        lifecycle.begin(
            instance,
            operation="RunInstances",
            request_id=call.ctx.request_id,
            now=call.now,
            timings=call.timings,
            via=lifecycle.PENDING,
            target=lifecycle.LAUNCH_FAILED if failed else lifecycle.RUNNING,
            outcome=lifecycle.FAILED if failed else lifecycle.SUCCESS,
            error_message=lifecycle.LAUNCH_FAILED_MESSAGE if failed else "",
        )
    lifecycle.mark_busy(call.state, created)
    instance_ids = [instance.instance_id for instance in created]
    if token is not None:
        call.state.client_tokens[token] = instance_ids
    return {"InstanceIdSet": instance_ids}


def _client_token(token: str | None) -> str | None:
    if token is None or token == "":
        return None
    if len(token) > MAX_CLIENT_TOKEN:
        raise ApiError(
            "InvalidClientToken.TooLong",
            f"The specified ClientToken exceeds the maximum length of {MAX_CLIENT_TOKEN} bytes.",
            f"ClientToken 长度超过 {MAX_CLIENT_TOKEN} 个字符的上限。",
        )
    if not token.isascii():
        raise apierrors.invalid_value("ClientToken must be ASCII.", "ClientToken 只能包含 ASCII 字符。")
    return token


def _instance_count(params: dict[str, Any]) -> int:
    count: int = params.get("InstanceCount", 1)
    if not 1 <= count <= MAX_INSTANCE_COUNT:
        raise apierrors.out_of_range("InstanceCount", count, 1, MAX_INSTANCE_COUNT)
    min_count = params.get("MinCount")
    if min_count is not None and not 1 <= min_count <= count:
        raise ApiError(
            "InvalidParameterValue.InvalidParameterMinCount",
            "The value of parameter MinCount must be between 1 and InstanceCount.",
            "参数 MinCount 的取值必须在 1 到 InstanceCount 之间。",
        )
    return count


def _charging(params: dict[str, Any]) -> tuple[str, str | None, int | None]:
    """(charge type, renew flag, period in months); the last two only for PREPAID."""
    charge_type: str = params.get("InstanceChargeType", "POSTPAID_BY_HOUR")
    if charge_type not in CHARGE_TYPES:
        raise apierrors.not_one_of("InstanceChargeType", charge_type, CHARGE_TYPES)
    if charge_type != "PREPAID":
        return charge_type, None, None
    prepaid = params.get("InstanceChargePrepaid")
    if prepaid is None:
        raise apierrors.missing_parameter("InstanceChargePrepaid")
    period: int = prepaid["Period"]
    if period not in PERIODS:
        raise ApiError(
            "InvalidPeriod",
            f"Invalid period `{period}`. Valid values: {list(PERIODS)}; unit: month.",
            f"购买时长`{period}`无效，可选值：{list(PERIODS)}，单位：月。",
        )
    renew_flag: str = prepaid.get("RenewFlag", "NOTIFY_AND_MANUAL_RENEW")
    if renew_flag not in RENEW_FLAGS:
        raise apierrors.not_one_of("InstanceChargePrepaid.RenewFlag", renew_flag, RENEW_FLAGS)
    return charge_type, renew_flag, period


def _zone(call: Call) -> Zone:
    placement = call.params.get("Placement")
    if placement is None:
        raise apierrors.missing_parameter("Placement")
    zone = call.region.zone(placement["Zone"])
    if zone is None:
        raise ApiError(
            "InvalidZone.MismatchRegion",
            f"The zone `{placement['Zone']}` does not exist in region `{call.region.region}`.",
            f"可用区`{placement['Zone']}`不属于地域`{call.region.region}`。",
        )
    if zone.state != "AVAILABLE":
        raise ApiError(
            "ResourcesSoldOut.AvailableZone",
            f"Resources in the zone `{zone.zone}` have been sold out.",
            f"可用区`{zone.zone}`资源已售罄。",
        )
    if placement.get("ProjectId", 0) < 0:
        raise apierrors.out_of_range("Placement.ProjectId", placement["ProjectId"], 0, 2**31 - 1)
    return zone


def find_image(call: Call, image_id: str | None) -> Image:
    """The image `image_id` offered in this region (ResetInstance shares this check)."""
    if image_id is None:
        raise apierrors.missing_parameter("ImageId")
    if not ids.is_well_formed(ids.IMAGE, image_id):
        raise apierrors.malformed_ids("InvalidImageId.Malformed", "image", "镜像", [image_id])
    image = call.catalog.images.get(image_id)
    if image is None or not image.offered_in(call.region.region):
        raise ApiError(
            "InvalidImageId.NotFound", f"The image `{image_id}` cannot be found.", f"镜像`{image_id}`不存在。"
        )
    return image


def _instance_type(call: Call, zone: Zone) -> InstanceType:
    name = call.params.get("InstanceType")
    if name is None:
        # Tencent picks a type on sale in the zone; the first such in the catalog here
        for candidate in call.catalog.instance_types.values():
            if candidate.offered_in(zone.zone):
                return candidate
        raise ApiError(
            "ResourcesSoldOut.SpecifiedInstanceType",
            f"No instance type is on sale in `{zone.zone}`.",
            f"可用区`{zone.zone}`没有在售机型。",
        )
    if not _INSTANCE_TYPE.fullmatch(name):
        raise ApiError(
            "InvalidInstanceType.Malformed",
            f"The specified InstanceType `{name}` has an invalid format.",
            f"实例机型`{name}`格式不正确。",
        )
    instance_type = call.catalog.instance_types.get(name)
    if instance_type is None:
        raise ApiError(
            "InvalidParameterValue.InstanceTypeNotFound",
            f"The specified instance type `{name}` does not exist.",
            f"实例机型`{name}`不存在。",
        )
    if not instance_type.offered_in(zone.zone):
        raise ApiError(
            "ResourceNotFound.InvalidZoneInstanceType",
            f"The instance type `{name}` is not supported in the zone `{zone.zone}`.",
            f"可用区`{zone.zone}`不支持实例机型`{name}`。",
        )
    return instance_type


def _system_disk(raw: dict[str, Any], image: Image) -> tuple[str, int]:
    disk_type: str = raw.get("DiskType", "CLOUD_PREMIUM")
    if disk_type not in DISK_TYPES:
        raise apierrors.not_one_of("SystemDisk.DiskType", disk_type, DISK_TYPES)
    disk_size: int = raw.get("DiskSize", max(DEFAULT_SYSTEM_DISK, image.image_size))
    if not image.image_size <= disk_size <= MAX_SYSTEM_DISK:
        raise apierrors.out_of_range("SystemDisk.DiskSize", disk_size, image.image_size, MAX_SYSTEM_DISK)
    return disk_type, disk_size


def _data_disks(raw: list[dict[str, Any]]) -> list[tuple[str, int, bool]]:
    if len(raw) > MAX_DATA_DISKS:
        raise apierrors.too_many("DataDisks", MAX_DATA_DISKS)
    disks = []
    for index, disk in enumerate(raw):
        disk_type: str = disk.get("DiskType", "CLOUD_PREMIUM")
        if disk_type not in DISK_TYPES:
            raise apierrors.not_one_of(f"DataDisks.{index}.DiskType", disk_type, DISK_TYPES)
        size: int = disk["DiskSize"]
        if not 10 <= size <= 32000:
            raise apierrors.out_of_range(f"DataDisks.{index}.DiskSize", size, 10, 32000)
        disks.append((disk_type, size, bool(disk.get("DeleteWithInstance", True))))
    return disks


def _network(call: Call, zone: Zone, count: int) -> tuple[Vpc, Subnet, list[str] | None]:
    raw = call.params.get("VirtualPrivateCloud")
    state = call.state
    if raw is None:
        vpc = state.default_vpc()
        subnet = state.default_subnet(vpc.vpc_id, zone.zone) if vpc else None
        if vpc is None or subnet is None:
            raise apierrors.missing_parameter("VirtualPrivateCloud")
        return vpc, subnet, None
    vpc_id, subnet_id = raw["VpcId"], raw["SubnetId"]
    if not ids.is_well_formed(ids.VPC, vpc_id):
        raise apierrors.malformed_ids("InvalidParameterValue.VpcIdMalformed", "VPC", "私有网络", [vpc_id])
    if not ids.is_well_formed(ids.SUBNET, subnet_id):
        raise apierrors.malformed_ids(
            "InvalidParameterValue.SubnetIdMalformed", "subnet", "子网", [subnet_id]
        )
    found_vpc = state.vpcs.get(vpc_id)
    if found_vpc is None:
        raise ApiError(
            "InvalidParameterValue.VpcIdNotExist",
            f"The VPC `{vpc_id}` does not exist.",
            f"私有网络`{vpc_id}`不存在。",
        )
    found_subnet = state.subnets.get(subnet_id)
    if found_subnet is None:
        raise ApiError(
            "InvalidParameterValue.SubnetNotExist",
            f"The subnet `{subnet_id}` does not exist.",
            f"子网`{subnet_id}`不存在。",
        )
    if found_subnet.vpc_id != vpc_id:
        raise ApiError(
            "InvalidParameterValue.VpcIdSubnetIdNotMatch",
            f"The subnet `{subnet_id}` does not belong to the VPC `{vpc_id}`.",
            f"子网`{subnet_id}`不属于私有网络`{vpc_id}`。",
        )
    if found_subnet.zone != zone.zone:
        raise ApiError(
            "InvalidParameterValue.VpcIdZoneIdNotMatch",
            f"The subnet `{subnet_id}` is in `{found_subnet.zone}`, not in the zone `{zone.zone}`.",
            f"子网`{subnet_id}`位于`{found_subnet.zone}`，与实例所在可用区`{zone.zone}`不一致。",
        )
    addresses: list[str] | None = raw.get("PrivateIpAddresses")
    if addresses is not None:
        _check_private_ips(addresses, found_subnet, count)
    return found_vpc, found_subnet, addresses


def _check_private_ips(addresses: list[str], subnet: Subnet, count: int) -> None:
    if len(addresses) != count:
        raise ApiError(
            "InvalidParameterValue.AmountNotEqual",
            "The number of `VirtualPrivateCloud.PrivateIpAddresses` must equal `InstanceCount`.",
            "`VirtualPrivateCloud.PrivateIpAddresses`的数量必须与`InstanceCount`相等。",
        )
    for address in addresses:
        if not network.is_ipv4(address):
            raise ApiError(
                "InvalidParameterValue.IPAddressMalformed",
                f"The IP address `{address}` is malformed.",
                f"IP 地址`{address}`格式不正确。",
            )
        if not subnet.addresses.contains(address):
            raise ApiError(
                "VpcAddrNotInSubNet",
                f"The IP address `{address}` is not in the subnet `{subnet.subnet_id}` ({subnet.cidr}).",
                f"IP 地址`{address}`不在子网`{subnet.subnet_id}`（{subnet.cidr}）内。",
            )
    used = [address for address in addresses if not subnet.addresses.is_free(address)]
    if used or len(set(addresses)) != len(addresses):
        taken = used or addresses
        raise ApiError(
            "VpcIpIsUsed",
            f"The IP address `{apierrors.id_list(taken)}` is already occupied.",
            f"IP 地址`{apierrors.id_list(taken)}`已被占用。",
        )


def _internet(raw: dict[str, Any], charge_type: str) -> tuple[str, int, bool]:
    default_charge = "BANDWIDTH_PREPAID" if charge_type == "PREPAID" else "TRAFFIC_POSTPAID_BY_HOUR"
    internet_charge_type: str = raw.get("InternetChargeType", default_charge)
    if internet_charge_type not in INTERNET_CHARGE_TYPES:
        raise apierrors.not_one_of(
            "InternetAccessible.InternetChargeType", internet_charge_type, INTERNET_CHARGE_TYPES
        )
    bandwidth: int = raw.get("InternetMaxBandwidthOut", 0)
    if not 0 <= bandwidth <= MAX_BANDWIDTH:
        raise apierrors.out_of_range(
            "InternetAccessible.InternetMaxBandwidthOut", bandwidth, 0, MAX_BANDWIDTH
        )
    assigned = raw.get("PublicIpAssigned")
    if bandwidth == 0 and assigned is True:
        raise ApiError(
            "InvalidParameterCombination",
            "A public IP needs `InternetAccessible.InternetMaxBandwidthOut` above 0.",
            "公网带宽为 0 时不能分配公网 IP。",
        )
    # above 0 Mbps a public IP is the default, and may be declined
    return internet_charge_type, bandwidth, bandwidth > 0 and assigned is not False


def _names(template: str | None, count: int) -> list[str]:
    template = template or naming.DEFAULT_INSTANCE_NAME
    if len(template) > MAX_NAME_LENGTH:
        raise ApiError(
            "InvalidInstanceName.TooLong",
            f"The specified InstanceName exceeds the maximum length of {MAX_NAME_LENGTH} characters.",
            f"实例名称长度超过 {MAX_NAME_LENGTH} 个字符的上限。",
        )
    return naming.batch_names(template, count)


def _security_groups(call: Call) -> list[str]:
    given = call.params.get("SecurityGroupIds")
    if given is not None:
        return security_group_ids(call, given, "SecurityGroupIds")
    default = call.state.default_security_group()
    if default is None:
        raise apierrors.missing_parameter("SecurityGroupIds")
    return [default.security_group_id]


def check_user_data(user_data: str | None) -> None:
    """UserData must be base64 of at most 16 KiB (RunInstances, ResetInstance, ModifyInstancesAttribute)."""
    if user_data is None:
        return
    try:
        decoded = base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad_user_data() from exc
    if len(decoded) > MAX_USER_DATA:
        raise _bad_user_data()


def _bad_user_data() -> ApiError:
    return ApiError(
        "InvalidParameterValue.InvalidUserDataFormat",
        "Incorrect UserData format. Use the Base64-encoded format, at most 16 KB.",
        "UserData 格式不正确，应为 Base64 编码且不超过 16 KB。",
    )


def _host_name(template: str | None, image: Image) -> str | None:
    """Check a HostName template; None means Tencent's default name."""
    if template is None:
        return None
    limit = 15 if image.is_windows else 60
    bad = (
        not _HOST_NAME.fullmatch(template)
        or template[0] in ".-"
        or template[-1] in ".-"
        or ".." in template
        or (image.is_windows and "." in template.replace("{IP}", ""))
        or not 2 <= len(template) <= limit + 16  # patterns may shrink when expanded
    )
    if bad:
        raise ApiError(
            "InvalidParameterValue.IllegalHostName",
            f"The value of HostName `{template}` is invalid.",
            f"主机名`{template}`不合法。",
        )
    return template


def _tags(specs: list[dict[str, Any]]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for spec in specs:
        if spec["ResourceType"] != "instance":
            continue  # tags for other resources (disks, ...) are not modelled
        for tag in spec["Tags"]:
            tags[tag["Key"]] = tag["Value"]
    if len(tags) > 50:
        raise apierrors.too_many("TagSpecification.Tags", 50)
    return tags


HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {"RunInstances": run_instances}
