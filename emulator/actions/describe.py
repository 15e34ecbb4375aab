"""DescribeInstances and DescribeInstancesStatus.

Order (undocumented at Tencent, fixed here so paging is stable): CreatedTime ascending, then InstanceId
ascending. New instances therefore land at the end and never shift earlier pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator import apierrors, filters, views
from emulator.actions.common import instance_ids
from emulator.call import Call
from emulator.errors import ApiError
from emulator.model import Instance

_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2}))?(?:Z|[+-]00:?00)?")


def _creation_time(value: str) -> str:
    """A creation-*-time filter value, normalised to CreatedTime's `YYYY-MM-DDThh:mm:ssZ`."""
    match = _TIME.fullmatch(value.strip())
    if match is None:
        raise apierrors.invalid_value(
            f"The time `{value}` is invalid: use YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DD hh:mm:ss.",
            f"时间`{value}`格式不正确，应为 YYYY-MM-DDThh:mm:ssZ 或 YYYY-MM-DD hh:mm:ss。",
            "InvalidParameterValue.InvalidTimeFormat",
        )
    return f"{match.group(1)}T{match.group(2) or '00:00:00'}Z"


def _invalid_filter(name: str) -> ApiError:
    return ApiError("InvalidFilter", f"The filter `{name}` is not supported.", f"不支持过滤条件`{name}`。")


def _public_ips(instance: Instance) -> list[str]:
    return instance.public_ips


INSTANCE_FILTERS: filters.FilterSet[Instance] = filters.FilterSet(
    compilers={
        "zone": filters.exact(lambda i: i.zone),
        "project-id": filters.integer(lambda i: i.project_id),
        "host-id": filters.never,
        "dedicated-cluster-id": filters.never,
        "vpc-id": filters.exact(lambda i: i.vpc_id),
        "subnet-id": filters.exact(lambda i: i.subnet_id),
        "instance-id": filters.exact(lambda i: i.instance_id),
        "uuid": filters.exact(lambda i: i.uuid),
        "security-group-id": filters.exact_any(lambda i: i.security_group_ids),
        "instance-name": filters.exact(lambda i: i.name),  # exact: Tencent has no fuzzy name search
        "instance-charge-type": filters.exact(lambda i: i.charge_type),
        "instance-state": filters.exact(lambda i: i.state),
        "private-ip-address": filters.exact_any(lambda i: i.private_ips),
        "public-ip-address": filters.exact_any(_public_ips),
        "ipv6-address": filters.never,
        "tag-key": filters.exact_any(lambda i: i.tags.keys()),
        "tag-value": filters.exact_any(lambda i: i.tags.values()),
        "creation-start-time": filters.time_bound(
            lambda i: i.created_time, at_least=True, parse=_creation_time
        ),
        "creation-end-time": filters.time_bound(
            lambda i: i.created_time, at_least=False, parse=_creation_time
        ),
    },
    unknown_filter=_invalid_filter,
    tags=lambda i: i.tags,
)


def _select(call: Call, *, allow_filters: bool) -> tuple[int, list[Instance]]:
    """(TotalCount, the requested page) in listing order."""
    requested = instance_ids(call)
    given_filters = call.params.get("Filters", [])
    if requested and given_filters:
        raise apierrors.conflict(["InstanceIds", "Filters"])
    offset, limit = filters.page_bounds(call.params)
    if requested:
        # well-formed unknown IDs are simply absent from the result, not an error
        found = (call.state.instances.get(instance_id) for instance_id in requested)
        matches = sorted((i for i in found if i is not None), key=lambda i: i.order_key)
    elif allow_filters and given_filters:
        predicate = INSTANCE_FILTERS.compile(given_filters)
        matches = [i for i in call.state.ordered() if predicate(i)]
    else:
        matches = call.state.ordered()
    return len(matches), matches[offset : offset + limit]


def describe_instances(call: Call) -> dict[str, Any]:
    total, page = _select(call, allow_filters=True)
    return {"TotalCount": total, "InstanceSet": [views.instance(i) for i in page]}


def describe_instances_status(call: Call) -> dict[str, Any]:
    total, page = _select(call, allow_filters=False)
    return {"TotalCount": total, "InstanceStatusSet": [views.instance_status(i) for i in page]}


HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {
    "DescribeInstances": describe_instances,
    "DescribeInstancesStatus": describe_instances_status,
}
