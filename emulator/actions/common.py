"""Checks several actions share: instance ID batches, security group lists."""

from __future__ import annotations

from emulator import apierrors, ids
from emulator.call import Call
from emulator.errors import ApiError
from emulator.model import Instance

MAX_BATCH = 100  # instance IDs per call (InvalidParameterValue.LimitExceeded beyond)
MAX_SECURITY_GROUPS = 5


def instance_ids(call: Call, name: str = "InstanceIds") -> list[str]:
    """The well-formed, de-duplicated IDs of `name` (at most 100); raises for malformed ones."""
    values: list[str] = call.params.get(name, [])
    if len(values) > MAX_BATCH:
        raise apierrors.too_many(name, MAX_BATCH)
    unique = list(dict.fromkeys(values))
    malformed = [value for value in unique if not ids.is_well_formed(ids.INSTANCE, value)]
    if malformed:
        raise apierrors.malformed_instance_ids(malformed)
    return unique


def required_instance_ids(call: Call, name: str = "InstanceIds") -> list[str]:
    found = instance_ids(call, name)
    if not found:
        raise apierrors.missing_parameter(name)
    return found


def existing_instances(call: Call, instance_ids: list[str]) -> list[Instance]:
    """The instances for `instance_ids`; InvalidInstanceId.NotFound lists any that do not exist."""
    missing = [instance_id for instance_id in instance_ids if instance_id not in call.state.instances]
    if missing:
        raise apierrors.instance_not_found(missing)
    return [call.state.instances[instance_id] for instance_id in instance_ids]


def security_group_ids(call: Call, values: list[str], name: str) -> list[str]:
    """Validated security groups of this account and region (1 to 5, de-duplicated)."""
    unique = list(dict.fromkeys(values))
    if not unique:
        raise apierrors.missing_parameter(name)
    if len(unique) > MAX_SECURITY_GROUPS:
        raise ApiError(
            "LimitExceeded.AssociateUSGLimitExceeded",
            f"An instance can be bound with up to {MAX_SECURITY_GROUPS} security groups.",
            f"一个实例最多绑定 {MAX_SECURITY_GROUPS} 个安全组。",
        )
    malformed = [value for value in unique if not ids.is_well_formed(ids.SECURITY_GROUP, value)]
    if malformed:
        raise apierrors.malformed_ids("InvalidSgId.Malformed", "security group", "安全组", malformed)
    missing = [value for value in unique if value not in call.state.security_groups]
    if missing:
        raise ApiError(
            "InvalidSecurityGroupId.NotFound",
            f"The security group `{apierrors.id_list(missing)}` does not exist.",
            f"安全组`{apierrors.id_list(missing)}`不存在。",
        )
    return unique
