"""The VPC service: DescribeVpcs, DescribeSubnets, DescribeSecurityGroups.

The VPC API differs from CVM in small ways kept here: `Offset`/`Limit` are strings, unknown filter names
are `InvalidParameter.FilterInvalidKey`, malformed IDs `InvalidParameterValue.Malformed`, IDs and filters
together `InvalidParameter.Coexist`, and asking for a well-formed ID that does not exist `ResourceNotFound`.
Listing order is creation order as loaded (fixtures first, then anything the emulator created).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from emulator import apierrors, filters, ids, views
from emulator.call import Call
from emulator.errors import ApiError
from emulator.model import SecurityGroup, Subnet, Vpc

T = TypeVar("T")
MAX_IDS = 100


def _invalid_filter(name: str) -> ApiError:
    return ApiError(
        "InvalidParameter.FilterInvalidKey",
        f"The filter `{name}` does not exist.",
        f"过滤条件`{name}`不存在。",
    )


def _select(
    call: Call,
    *,
    ids_param: str,
    prefix: str,
    items: dict[str, T],
    filter_set: filters.FilterSet[T],
) -> tuple[int, list[T]]:
    wanted: list[str] = list(dict.fromkeys(call.params.get(ids_param, [])))
    given_filters = call.params.get("Filters", [])
    if wanted and given_filters:
        raise ApiError(
            "InvalidParameter.Coexist",
            f"`{ids_param}` and `Filters` cannot be specified at the same time.",
            f"参数`{ids_param}`和`Filters`不能同时指定。",
        )
    if len(wanted) > MAX_IDS:
        raise apierrors.too_many(ids_param, MAX_IDS)
    malformed = [value for value in wanted if not ids.is_well_formed(prefix, value)]
    if malformed:
        raise ApiError(
            "InvalidParameterValue.Malformed",
            f"The ID `{apierrors.id_list(malformed)}` is malformed.",
            f"ID`{apierrors.id_list(malformed)}`格式不正确。",
        )
    offset, limit = filters.string_page_bounds(call.params)
    if wanted:
        missing = [value for value in wanted if value not in items]
        if missing:
            raise ApiError(
                "ResourceNotFound",
                f"The resource `{apierrors.id_list(missing)}` does not exist.",
                f"资源`{apierrors.id_list(missing)}`不存在。",
            )
        selected: Sequence[T] = [items[value] for value in wanted]
    else:
        predicate = filter_set.compile(given_filters)
        selected = [item for item in items.values() if predicate(item)]
    return len(selected), list(selected[offset : offset + limit])


VPC_FILTERS: filters.FilterSet[Vpc] = filters.FilterSet(
    compilers={
        "vpc-name": filters.fuzzy(lambda vpc: vpc.name),  # documented as fuzzy
        "is-default": filters.boolean(lambda vpc: vpc.is_default),
        "vpc-id": filters.exact(lambda vpc: vpc.vpc_id),
        "cidr-block": filters.exact(lambda vpc: vpc.cidr),
        "tag-key": filters.exact_any(lambda vpc: vpc.tags.keys()),
        "ipv6-cidr-block": filters.never,
        "isp-type": filters.never,
        "address-type": filters.never,
    },
    unknown_filter=_invalid_filter,
    tags=lambda vpc: vpc.tags,
)

SUBNET_FILTERS: filters.FilterSet[Subnet] = filters.FilterSet(
    compilers={
        "subnet-id": filters.exact(lambda subnet: subnet.subnet_id),
        "vpc-id": filters.exact(lambda subnet: subnet.vpc_id),
        "cidr-block": filters.exact(lambda subnet: subnet.cidr),
        "is-default": filters.boolean(lambda subnet: subnet.is_default),
        "is-remote-vpc-snat": filters.boolean(lambda subnet: False),
        "subnet-name": filters.fuzzy(lambda subnet: subnet.name),
        "zone": filters.exact(lambda subnet: subnet.zone),
        "tag-key": filters.exact_any(lambda subnet: subnet.tags.keys()),
        "cdc-id": filters.never,
        "is-cdc-subnet": filters.exact(lambda subnet: "0"),
        "ipv6-cidr-block": filters.never,
        "isp-type": filters.never,
        "address-type": filters.never,
    },
    unknown_filter=_invalid_filter,
    tags=lambda subnet: subnet.tags,
)

SECURITY_GROUP_FILTERS: filters.FilterSet[SecurityGroup] = filters.FilterSet(
    compilers={
        "security-group-id": filters.exact(lambda group: group.security_group_id),
        "project-id": filters.integer(lambda group: group.project_id),
        "security-group-name": filters.exact(lambda group: group.name),
        "tag-key": filters.exact_any(lambda group: group.tags.keys()),
    },
    unknown_filter=_invalid_filter,
    tags=lambda group: group.tags,
)


def describe_vpcs(call: Call) -> dict[str, Any]:
    total, page = _select(
        call, ids_param="VpcIds", prefix=ids.VPC, items=call.state.vpcs, filter_set=VPC_FILTERS
    )
    return {"TotalCount": total, "VpcSet": [views.vpc(vpc) for vpc in page]}


def describe_subnets(call: Call) -> dict[str, Any]:
    total, page = _select(
        call, ids_param="SubnetIds", prefix=ids.SUBNET, items=call.state.subnets, filter_set=SUBNET_FILTERS
    )
    return {"TotalCount": total, "SubnetSet": [views.subnet(subnet) for subnet in page]}


def describe_security_groups(call: Call) -> dict[str, Any]:
    order_field = call.params.get("OrderField")
    if order_field is not None and order_field not in ("CreatedTime", "UpdateTime"):
        raise apierrors.not_one_of("OrderField", order_field, ["CreatedTime", "UpdateTime"])
    direction = call.params.get("OrderDirection", "DESC" if order_field else None)
    if direction is not None and direction not in ("ASC", "DESC"):
        raise apierrors.not_one_of("OrderDirection", direction, ["ASC", "DESC"])
    items = call.state.security_groups
    if order_field is not None:
        ordered = sorted(items.values(), key=lambda group: group.created_time, reverse=direction == "DESC")
        items = {group.security_group_id: group for group in ordered}
    total, page = _select(
        call,
        ids_param="SecurityGroupIds",
        prefix=ids.SECURITY_GROUP,
        items=items,
        filter_set=SECURITY_GROUP_FILTERS,
    )
    return {"SecurityGroupSet": [views.security_group(group) for group in page], "TotalCount": total}


HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {
    "DescribeVpcs": describe_vpcs,
    "DescribeSubnets": describe_subnets,
    "DescribeSecurityGroups": describe_security_groups,
}
