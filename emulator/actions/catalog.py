"""The catalog actions: DescribeZones, DescribeInstanceFamilyConfigs, DescribeInstanceTypeConfigs and
DescribeImages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator import apierrors, filters, ids, views
from emulator.call import Call
from emulator.errors import ApiError
from emulator.model import Image, InstanceType, Zone

_INSTANCE_TYPE = re.compile(r"[A-Z][A-Z0-9]*\.[A-Z0-9]+")


def _invalid_filter(name: str) -> ApiError:
    return ApiError("InvalidFilter", f"The filter `{name}` is not supported.", f"不支持过滤条件`{name}`。")


def describe_zones(call: Call) -> dict[str, Any]:
    zones = [views.zone(zone, call.language) for zone in call.region.zones]
    return {"TotalCount": len(zones), "ZoneSet": zones}


def describe_instance_family_configs(call: Call) -> dict[str, Any]:
    offered = {
        instance_type.family
        for instance_type in call.catalog.instance_types.values()
        if any(instance_type.offered_in(zone.zone) for zone in call.region.zones)
    }
    families = [views.family(f, call.language) for f in call.catalog.families.values() if f.family in offered]
    return {"InstanceFamilyConfigSet": families}


TYPE_FILTERS: filters.FilterSet[tuple[Zone, InstanceType]] = filters.FilterSet(
    compilers={
        "zone": filters.exact(lambda pair: pair[0].zone),
        "instance-family": filters.exact(lambda pair: pair[1].family),
        "instance-type": filters.exact(lambda pair: pair[1].instance_type),
    },
    unknown_filter=_invalid_filter,
    max_values=1,  # documented: at most one value per filter for this action
)


def describe_instance_type_configs(call: Call) -> dict[str, Any]:
    predicate = TYPE_FILTERS.compile(call.params.get("Filters", []))
    configs = [
        views.instance_type(instance_type, zone.zone)
        for zone in call.region.zones
        for instance_type in call.catalog.instance_types.values()
        if instance_type.offered_in(zone.zone) and predicate((zone, instance_type))
    ]
    return {"InstanceTypeConfigSet": configs}


IMAGE_FILTERS: filters.FilterSet[Image] = filters.FilterSet(
    compilers={
        "image-id": filters.exact(lambda image: image.image_id),
        "image-type": filters.exact(lambda image: image.image_type),
        "image-name": filters.fuzzy(lambda image: image.image_name),
        "platform": filters.fuzzy(lambda image: image.platform),
        "tag-key": filters.never,
        "tag-value": filters.never,
        "dedicated-cluster-id": filters.never,
        "cdc-cache-status": filters.never,
    },
    unknown_filter=_invalid_filter,
    tags=lambda image: {},
)


def describe_images(call: Call) -> dict[str, Any]:
    image_ids: list[str] = list(dict.fromkeys(call.params.get("ImageIds", [])))
    given_filters = call.params.get("Filters", [])
    if image_ids and given_filters:
        raise ApiError(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            "`ImageIds` and `Filters` cannot be specified at the same time.",
            "参数`ImageIds`和`Filters`不能同时指定。",
        )
    if len(image_ids) > 100:
        raise apierrors.too_many("ImageIds", 100)
    malformed = [value for value in image_ids if not ids.is_well_formed(ids.IMAGE, value)]
    if malformed:
        raise apierrors.malformed_ids("InvalidImageId.Malformed", "image", "镜像", malformed)
    instance_type = call.params.get("InstanceType")
    if instance_type is not None and not _INSTANCE_TYPE.fullmatch(instance_type):
        raise ApiError(
            "InvalidInstanceType.Malformed",
            f"The instance type `{instance_type}` is malformed.",
            f"实例机型`{instance_type}`格式不正确。",
        )
    offset, limit = filters.page_bounds(call.params)
    images = [image for image in call.catalog.images.values() if image.offered_in(call.region.region)]
    if image_ids:
        wanted = set(image_ids)
        images = [image for image in images if image.image_id in wanted]
    else:
        predicate = IMAGE_FILTERS.compile(given_filters)
        images = [image for image in images if predicate(image)]
    return {
        "ImageSet": [views.image(image) for image in images[offset : offset + limit]],
        "TotalCount": len(images),
    }


HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {
    "DescribeZones": describe_zones,
    "DescribeInstanceFamilyConfigs": describe_instance_family_configs,
    "DescribeInstanceTypeConfigs": describe_instance_type_configs,
    "DescribeImages": describe_images,
}
