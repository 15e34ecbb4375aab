"""inspect: one instance by ID, with its InstanceTypeName. An unknown ID is NOT_FOUND, not empty success."""

from __future__ import annotations

from server.compute.enrichment import NameSource
from server.compute.errors import NotFound
from server.compute.instances import Instance, describe_by_ids, family_of
from server.compute.ports import Cloud, Scope


def inspect_instance(cloud: Cloud, names: NameSource, scope: Scope, instance_id: str) -> Instance:
    instance = describe_by_ids(cloud, scope, [instance_id]).get(instance_id)
    if instance is None:
        raise NotFound(
            f"instance {instance_id} was not found in region {scope.region}",
            f"地域 {scope.region} 中未找到实例 {instance_id}",
            reason="INSTANCE_NOT_FOUND",
            metadata={"instance_id": instance_id, "region": scope.region},
        )
    family_name = names.family_names(scope).get(family_of(instance.get("InstanceType") or ""), "")
    return {**instance, "InstanceTypeName": family_name}
