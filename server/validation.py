"""Validation of every RPC's request before any cloud call: one list of field problems per request.

Usage (the servicer, before the use case runs):

    violations = validate_request(request, ValidationContext(known_regions=..., known_zones=...))
    if violations:
        raise invalid_argument(violations)   # INVALID_ARGUMENT, one BadRequest field violation per problem

Rules live in server/validation_rules.py (one function per rule, reused by every RPC that has the field);
this module only says which rule applies to which field of which request. Nothing here calls the network:
what only Tencent or the server knows (does the region or zone exist for this cluster, is the image
Windows) comes in through `ValidationContext`, and is simply not checked when absent.

Field paths use the legacy JSON keys, which are also the proto field names: `Placement.Zone`,
`InstanceIds[2]`, `DataDisks[0].DiskSize`.

What cannot be checked here, by design:
- unknown body keys (the stray `cluster_uuid` of the legacy examples): Envoy's transcoder drops unknown
  keys before the request reaches the server, and no option makes it reject them;
- wrong JSON types (`"PageSize": "ten"`, `10.5` for an integer, a list where a string goes): Envoy
  rejects them with 400 before the server sees the request; the envelope for that comes from Envoy's Lua
  filter, not from here. Over native gRPC such input cannot be expressed at all;
- that IDs exist and belong to the cluster's account (Tencent answers that: NOT_FOUND).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from tencent.compute.v1 import compute_pb2 as pb

from server.compute.errors import FieldViolation, InvalidArgument
from server.validation_rules import (
    INSTANCE_CHARGE_TYPES,
    INTERNET_CHARGE_TYPES,
    MAX_CREATE_NAME_LENGTH,
    MAX_FUZZY_LENGTH,
    MAX_PRIVATE_IPS,
    MAX_SECURITY_GROUPS,
    MAX_UPDATE_NAME_LENGTH,
    RENEW_FLAGS,
    Platform,
    Violation,
    Violations,
    check_client_token,
    check_data_disk_counts,
    check_disk,
    check_id_list,
    check_instance_count,
    check_instance_type,
    check_ipv4,
    check_keep_image_login,
    check_key_ids_platform,
    check_login_exclusive,
    check_max_length,
    check_not_negative,
    check_one_of,
    check_password,
    check_prepaid_period,
    check_region,
    check_required,
    check_required_id,
    check_scope_field,
    check_zone,
    item,
)

__all__ = [
    "ValidationContext",
    "Violation",
    "invalid_argument",
    "validate_create",
    "validate_delete",
    "validate_inspect",
    "validate_list",
    "validate_request",
    "validate_reset",
    "validate_turn_off",
    "validate_turn_on",
    "validate_update",
]

MAX_VIOLATIONS_IN_MESSAGE = 10


@dataclass(frozen=True)
class ValidationContext:
    """What the server knows beyond the request. None = unknown, and the rule that needs it is skipped.

    known_regions: regions the cluster may use (e.g. from its catalog or DescribeRegions, cached);
    known_zones: zones of the request's Region (e.g. DescribeZones, cached);
    image_platform: "LINUX" or "WINDOWS" for the request's ImageId (see validation_rules.platform_of);
        unknown means the Linux password rule, which every valid Windows password also meets.
    """

    known_regions: Collection[str] | None = None
    known_zones: Collection[str] | None = None
    image_platform: Platform | None = None


NO_CONTEXT = ValidationContext()


# --- parts shared by several RPCs -------------------------------------------------------------------------


def _scope(v: Violations, request: Any, ctx: ValidationContext) -> str | None:
    """TenantUuid, ClusterUuid, Region. Returns the region when it is valid (zone checks need it)."""
    check_scope_field(v, "TenantUuid", request.TenantUuid)
    check_scope_field(v, "ClusterUuid", request.ClusterUuid)
    region: str = request.Region
    return region if check_region(v, "Region", region, ctx.known_regions) else None


def _login_settings(v: Violations, login: pb.LoginSettings, platform: Platform | None) -> None:
    check_password(v, "LoginSettings.Password", login.Password, platform)
    check_id_list(v, "LoginSettings.KeyIds", list(login.KeyIds), "skey", required=False)
    check_keep_image_login(v, "LoginSettings.KeepImageLogin", login.KeepImageLogin)
    check_login_exclusive(
        v,
        "LoginSettings",
        password=bool(login.Password),
        key_ids=bool(login.KeyIds),
        keep_image_login=login.KeepImageLogin == "true",
    )
    check_key_ids_platform(v, "LoginSettings.KeyIds", list(login.KeyIds), platform)


def _system_disk(v: Violations, request: pb.CreateRequest | pb.ResetRequest) -> None:
    if request.HasField("SystemDisk"):
        disk = request.SystemDisk
        check_disk(v, "SystemDisk", disk.DiskType, disk.DiskSize, system=True, size_required=False)


def _instance_ids(v: Violations, field: str, ids: Sequence[str], *, required: bool) -> None:
    check_id_list(v, field, ids, "ins", required=required)


def _ids_under_either_key(v: Violations, request: pb.TurnOnRequest | pb.TurnOffRequest) -> None:
    """turn_on/turn_off accept `InstanceId` (legacy table) and `InstanceIds` (legacy example), as a union:
    each list is checked on its own, and together they must name at least one instance."""
    _instance_ids(v, "InstanceId", list(request.InstanceId), required=False)
    _instance_ids(v, "InstanceIds", list(request.InstanceIds), required=False)
    if not request.InstanceId and not request.InstanceIds:
        v.add(
            "InstanceIds",
            "REQUIRED",
            "must contain at least one instance ID (InstanceIds, or InstanceId)",
            "至少需要一个实例 ID（InstanceIds 或 InstanceId）",
        )


# --- one validator per RPC --------------------------------------------------------------------------------


def validate_create(request: pb.CreateRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    region = _scope(v, request, ctx)

    if request.HasField("Placement"):
        check_zone(v, "Placement.Zone", request.Placement.Zone, region, ctx.known_zones if region else None)
        check_not_negative(v, "Placement.ProjectId", request.Placement.ProjectId)
    else:
        check_required(v, "Placement.Zone", "")

    # The legacy table marks ImageId optional, but RunInstances needs it unless a launch template is used,
    # and this API has no launch templates: without it Tencent would fail the call, so fail it here.
    check_required_id(v, "ImageId", request.ImageId, "img")

    check_one_of(v, "InstanceChargeType", request.InstanceChargeType, INSTANCE_CHARGE_TYPES)
    if request.HasField("InstanceChargePrepaid"):
        prepaid = request.InstanceChargePrepaid
        if prepaid.Period or request.InstanceChargeType == "PREPAID":
            check_prepaid_period(v, "InstanceChargePrepaid.Period", prepaid.Period)
        check_one_of(v, "InstanceChargePrepaid.RenewFlag", prepaid.RenewFlag, RENEW_FLAGS)
    elif request.InstanceChargeType == "PREPAID":
        v.add(
            "InstanceChargePrepaid.Period",
            "REQUIRED",
            "is required when InstanceChargeType is PREPAID (months to buy)",
            "InstanceChargeType 为 PREPAID 时必填（购买月数）",
        )

    check_instance_type(v, "InstanceType", request.InstanceType)
    _system_disk(v, request)
    for index, disk in enumerate(request.DataDisks):
        check_disk(
            v, item("DataDisks", index), disk.DiskType, disk.DiskSize, system=False, size_required=True
        )
    check_data_disk_counts(v, "DataDisks", [disk.DiskType for disk in request.DataDisks])

    count = request.InstanceCount if request.HasField("InstanceCount") else 1
    if request.HasField("InstanceCount"):
        check_instance_count(v, "InstanceCount", request.InstanceCount)

    if request.HasField("VirtualPrivateCloud"):
        _virtual_private_cloud(v, request.VirtualPrivateCloud, count)
    if request.HasField("InternetAccessible"):
        _internet_accessible(v, request.InternetAccessible)

    check_max_length(v, "InstanceName", request.InstanceName, MAX_CREATE_NAME_LENGTH)

    # SecurityGroupIds and the legacy example's `securityGroupId` are one set (their union).
    check_id_list(v, "SecurityGroupIds", list(request.SecurityGroupIds), "sg", required=False)
    check_id_list(v, "securityGroupId", list(request.securityGroupId), "sg", required=False)
    groups = set(request.SecurityGroupIds) | set(request.securityGroupId)
    if len(groups) > MAX_SECURITY_GROUPS:
        v.add(
            "SecurityGroupIds",
            "TOO_MANY",
            f"at most {MAX_SECURITY_GROUPS} security groups are allowed "
            f"(got {len(groups)}, SecurityGroupIds and securityGroupId together)",
            f"最多允许 {MAX_SECURITY_GROUPS} 个安全组"
            f"（实际 {len(groups)} 个，SecurityGroupIds 与 securityGroupId 合计）",
        )

    if request.HasField("LoginSettings"):
        _login_settings(v, request.LoginSettings, ctx.image_platform)
    check_client_token(v, "ClientToken", request.ClientToken)
    return v.items


def _virtual_private_cloud(v: Violations, vpc: pb.VirtualPrivateCloud, instance_count: int) -> None:
    # Tencent: VpcId and SubnetId both "DEFAULT" means the default VPC; otherwise both are real IDs.
    if not (vpc.VpcId == "DEFAULT" and vpc.SubnetId == "DEFAULT"):
        check_required_id(v, "VirtualPrivateCloud.VpcId", vpc.VpcId, "vpc")
        check_required_id(v, "VirtualPrivateCloud.SubnetId", vpc.SubnetId, "subnet")
    addresses = list(vpc.PrivateIpAddresses)
    for index, address in enumerate(addresses):
        check_ipv4(v, item("VirtualPrivateCloud.PrivateIpAddresses", index), address)
    if addresses and (len(addresses) != instance_count or len(addresses) > MAX_PRIVATE_IPS):
        v.add(
            "VirtualPrivateCloud.PrivateIpAddresses",
            "CONFLICT",
            f"must hold exactly one address per instance (InstanceCount {instance_count}), "
            f"at most {MAX_PRIVATE_IPS} (got {len(addresses)})",
            f"地址个数必须与实例数量一致（InstanceCount 为 {instance_count}），且不超过 {MAX_PRIVATE_IPS} 个"
            f"（实际 {len(addresses)} 个）",
        )


def _internet_accessible(v: Violations, internet: pb.InternetAccessible) -> None:
    check_one_of(
        v, "InternetAccessible.InternetChargeType", internet.InternetChargeType, INTERNET_CHARGE_TYPES
    )
    check_not_negative(v, "InternetAccessible.InternetMaxBandwidthOut", internet.InternetMaxBandwidthOut)
    if (
        internet.HasField("PublicIpAssigned")
        and internet.PublicIpAssigned
        and internet.InternetMaxBandwidthOut == 0
    ):
        v.add(
            "InternetAccessible.PublicIpAssigned",
            "CONFLICT",
            "a public IP needs InternetMaxBandwidthOut above 0 Mbps",
            "分配公网 IP 需要公网带宽 InternetMaxBandwidthOut 大于 0 Mbps",
        )


def validate_delete(request: pb.DeleteRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    _scope(v, request, ctx)
    _instance_ids(v, "InstanceIds", list(request.InstanceIds), required=True)
    return v.items


def validate_update(request: pb.UpdateRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    _scope(v, request, ctx)
    _instance_ids(v, "InstanceIds", list(request.InstanceIds), required=True)
    check_max_length(v, "InstanceName", request.InstanceName, MAX_UPDATE_NAME_LENGTH)
    check_id_list(
        v, "SecurityGroups", list(request.SecurityGroups), "sg", required=False, max_items=MAX_SECURITY_GROUPS
    )
    if not request.InstanceName and not request.SecurityGroups:
        v.add(
            "InstanceName",
            "NOTHING_TO_UPDATE",
            "nothing to update: give InstanceName and/or SecurityGroups",
            "没有要修改的内容：请指定 InstanceName 和/或 SecurityGroups",
        )
    return v.items


def validate_reset(request: pb.ResetRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    """The legacy table marks SystemDisk and LoginSettings required too; Tencent does not (it keeps the disk
    and generates a password), and rejecting requests the old API accepted would break callers, so they stay
    optional and are checked when given."""
    v = Violations()
    _scope(v, request, ctx)
    check_required_id(v, "InstanceId", request.InstanceId, "ins")
    _system_disk(v, request)
    if request.HasField("LoginSettings"):
        _login_settings(v, request.LoginSettings, ctx.image_platform)
    check_required_id(v, "ImageId", request.ImageId, "img")
    return v.items


def validate_list(request: pb.ListRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    _scope(v, request, ctx)
    check_not_negative(v, "PageNum", request.PageNum)
    check_not_negative(v, "PageSize", request.PageSize)
    check_max_length(v, "Fuzzy", request.Fuzzy, MAX_FUZZY_LENGTH)
    return v.items


def validate_inspect(request: pb.InspectRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    _scope(v, request, ctx)
    check_required_id(v, "InstanceId", request.InstanceId, "ins")
    return v.items


def validate_turn_on(request: pb.TurnOnRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    _scope(v, request, ctx)
    _ids_under_either_key(v, request)
    return v.items


def validate_turn_off(request: pb.TurnOffRequest, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    v = Violations()
    _scope(v, request, ctx)
    # ForceStop is a bool (StopType SOFT_FIRST when true): the contract has no StopType to check.
    _ids_under_either_key(v, request)
    return v.items


_VALIDATORS: dict[str, Callable[[Any, ValidationContext], list[Violation]]] = {
    pb.CreateRequest.DESCRIPTOR.full_name: validate_create,
    pb.DeleteRequest.DESCRIPTOR.full_name: validate_delete,
    pb.UpdateRequest.DESCRIPTOR.full_name: validate_update,
    pb.ResetRequest.DESCRIPTOR.full_name: validate_reset,
    pb.ListRequest.DESCRIPTOR.full_name: validate_list,
    pb.InspectRequest.DESCRIPTOR.full_name: validate_inspect,
    pb.TurnOnRequest.DESCRIPTOR.full_name: validate_turn_on,
    pb.TurnOffRequest.DESCRIPTOR.full_name: validate_turn_off,
}


def validate_request(request: Any, ctx: ValidationContext = NO_CONTEXT) -> list[Violation]:
    """The validator for any ComputeService request message, by its type."""
    validator = _VALIDATORS.get(request.DESCRIPTOR.full_name)
    if validator is None:
        raise TypeError(f"no validator for {request.DESCRIPTOR.full_name}")
    return validator(request, ctx)


def invalid_argument(violations: Sequence[Violation]) -> InvalidArgument:
    """INVALID_ARGUMENT carrying one BadRequest field violation per problem, with English and Chinese
    messages that list them (the first MAX_VIOLATIONS_IN_MESSAGE; the details carry all)."""
    shown = violations[:MAX_VIOLATIONS_IN_MESSAGE]
    more = len(violations) - len(shown)
    en = "; ".join(f"{x.field}: {x.description}" for x in shown)
    cn = "；".join(f"{x.field}：{x.description_cn}" for x in shown)
    if more:
        en += f"; and {more} more"
        cn += f"；另有 {more} 个问题"
    count = len(violations)
    return InvalidArgument(
        f"invalid request ({count} problem{'s' if count != 1 else ''}): {en}",
        f"请求参数错误（{count} 个问题）：{cn}",
        reason="INVALID_ARGUMENT",
        field_violations=[FieldViolation(x.field, x.description) for x in violations],
    )
