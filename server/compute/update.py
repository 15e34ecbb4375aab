"""update: ModifyInstancesAttribute for InstanceName and/or SecurityGroups.

Tencent changes exactly one attribute per call, so both means two calls: the name first, then the security
groups. If the second fails, the error says exactly what was already applied (the name, on which IDs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.compute.batching import apply_in_batches, unique_ids
from server.compute.errors import ServiceError
from server.compute.ports import Cloud, Scope


def update_instances(
    cloud: Cloud,
    scope: Scope,
    instance_ids: Sequence[str],
    *,
    instance_name: str = "",
    security_groups: Sequence[str] = (),
) -> list[str]:
    """Apply the attributes; returns the names of the attributes applied, in order."""
    ids = unique_ids(instance_ids)
    groups = unique_ids(security_groups)
    attributes: list[tuple[str, Any]] = []
    if instance_name:
        attributes.append(("InstanceName", instance_name))
    if groups:
        attributes.append(("SecurityGroups", groups))

    applied: list[str] = []
    for attribute, value in attributes:

        def modify(chunk: list[str], attribute: str = attribute, value: Any = value) -> None:
            params = {"InstanceIds": chunk, attribute: value}
            cloud.call(scope, "cvm", "ModifyInstancesAttribute", params, write=True)

        try:
            apply_in_batches(ids, f"ModifyInstancesAttribute({attribute})", modify)
        except ServiceError as error:
            if not applied:
                raise
            done = ", ".join(applied)
            raise error.with_context(
                f"{done} was applied to all {len(ids)} instances, but {attribute} was not: {error.message}",
                f"{done} 已应用到全部 {len(ids)} 个实例，但 {attribute} 未能应用：{error.message_cn}",
                applied_attributes=",".join(applied),
                failed_attribute=attribute,
            ) from None
        applied.append(attribute)
    return applied
