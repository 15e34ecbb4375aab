"""turn_on (StartInstances) and turn_off (StopInstances), both idempotent.

The instances are read first (DescribeInstances):
- unknown IDs: NOT_FOUND naming them, nothing is called;
- any instance in a transitional or otherwise unsuitable state: FAILED_PRECONDITION naming them, nothing is
  called (a request is applied to all its instances or to none, as far as the states known beforehand allow);
- instances already in the target state are left alone (success without a call);
- the rest get the action, in batches of at most 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.compute.batching import apply_in_batches, shorten_ids, unique_ids
from server.compute.errors import FailedPrecondition, NotFound
from server.compute.instances import describe_by_ids
from server.compute.ports import Cloud, Scope


@dataclass(frozen=True)
class PowerAction:
    name: str  # for messages: "turn_on"
    tencent_action: str
    target_state: str  # done when an instance is in this state
    from_state: str  # the one state Tencent accepts the action from


# States an instance passes through on its own; anything else that is neither the target nor the start
# state (LAUNCH_FAILED, SHUTDOWN, ...) will not change by waiting.
TRANSITIONAL_STATES = frozenset({"PENDING", "STARTING", "STOPPING", "REBOOTING", "TERMINATING"})

TURN_ON = PowerAction("turn_on", "StartInstances", target_state="RUNNING", from_state="STOPPED")
TURN_OFF = PowerAction("turn_off", "StopInstances", target_state="STOPPED", from_state="RUNNING")


@dataclass(frozen=True)
class PowerResult:
    changed: list[str]  # IDs the action was sent for
    unchanged: list[str]  # IDs already in the target state


def set_power(
    cloud: Cloud,
    scope: Scope,
    action: PowerAction,
    instance_ids: Sequence[str],
    *,
    stop_type: str | None = None,
) -> PowerResult:
    ids = unique_ids(instance_ids)
    found = describe_by_ids(cloud, scope, ids)

    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"{action.name}: instances not found in region {scope.region}: {shorten_ids(missing)}",
            f"{action.name}：地域 {scope.region} 中未找到实例：{shorten_ids(missing)}",
            reason="INSTANCE_NOT_FOUND",
            metadata={"instance_ids": ",".join(missing), "region": scope.region},
        )

    states = {i: str(found[i].get("InstanceState") or "") for i in ids}
    blocked = [i for i in ids if states[i] not in (action.target_state, action.from_state)]
    if blocked:
        described = shorten_ids([f"{i} ({states[i]})" for i in blocked])
        transitional = all(states[i] in TRANSITIONAL_STATES for i in blocked)
        hint = " (wait for their current operation to finish, then retry)" if transitional else ""
        hint_cn = "（请等待当前操作完成后重试）" if transitional else ""
        raise FailedPrecondition(
            f"{action.name}: instances are in a state that does not allow it{hint}: {described}",
            f"{action.name}：以下实例的当前状态不允许该操作{hint_cn}：{described}",
            reason="INSTANCE_STATE_TRANSITIONAL" if transitional else "INSTANCE_STATE_INVALID",
            metadata={"instance_ids": ",".join(blocked), "target_state": action.target_state},
        )

    to_change = [i for i in ids if states[i] == action.from_state]
    unchanged = [i for i in ids if states[i] == action.target_state]

    def apply(chunk: list[str]) -> None:
        params: dict[str, object] = {"InstanceIds": chunk}
        if stop_type:
            params["StopType"] = stop_type
        cloud.call(scope, "cvm", action.tencent_action, params, write=True)

    apply_in_batches(to_change, action.tencent_action, apply)
    return PowerResult(changed=to_change, unchanged=unchanged)


def turn_on(cloud: Cloud, scope: Scope, instance_ids: Sequence[str]) -> PowerResult:
    return set_power(cloud, scope, TURN_ON, instance_ids)


def turn_off(
    cloud: Cloud, scope: Scope, instance_ids: Sequence[str], *, force_stop: bool = False
) -> PowerResult:
    # ForceStop is deprecated in Tencent's API; its meaning (force after a failed soft stop) is SOFT_FIRST.
    return set_power(cloud, scope, TURN_OFF, instance_ids, stop_type="SOFT_FIRST" if force_stop else None)
