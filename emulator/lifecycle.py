"""The instance state machine, advanced lazily from timestamps whenever an account is read.

Every mutating action is asynchronous, as at Tencent: the call moves the instance into a transitional
state (or leaves it where it is) and records LatestOperation* with state OPERATING; `TransitionSeconds`
later the instance arrives in its target state, and `OperatingLingerSeconds` after that the operation
settles to SUCCESS or FAILED. In that linger window the state already reads the target while the
operation still reads OPERATING, and further mutating calls are denied.

    RunInstances        PENDING -> RUNNING (or LAUNCH_FAILED, operation FAILED)
    StopInstances       RUNNING -> STOPPING -> STOPPED
    StartInstances      STOPPED -> STARTING -> RUNNING
    RebootInstances     RUNNING -> REBOOTING -> RUNNING
    ResetInstance       RUNNING -> REBOOTING -> RUNNING;  STOPPED -> STARTING -> RUNNING
                        (Tencent does not document the states a reinstall shows; the system comes back up)
    TerminateInstances  pay-as-you-go: RUNNING/STOPPED/LAUNCH_FAILED -> TERMINATING -> gone
                        prepaid: 1st call STOPPING -> SHUTDOWN (recycle bin), 2nd TERMINATING -> gone
    ModifyInstancesAttribute  no state change; OPERATING for the linger window only

Nothing runs in the background: `settle()` applies whatever is due, and the World calls it for every
busy instance of a region before an action reads that region.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from emulator import apierrors
from emulator.model import Instance, PendingOperation, RegionState

PENDING = "PENDING"
LAUNCH_FAILED = "LAUNCH_FAILED"
RUNNING = "RUNNING"
STOPPED = "STOPPED"
STARTING = "STARTING"
STOPPING = "STOPPING"
REBOOTING = "REBOOTING"
SHUTDOWN = "SHUTDOWN"
TERMINATING = "TERMINATING"

ALL_STATES = (PENDING, LAUNCH_FAILED, RUNNING, STOPPED, STARTING, STOPPING, REBOOTING, SHUTDOWN, TERMINATING)

OPERATING = "OPERATING"
SUCCESS = "SUCCESS"
FAILED = "FAILED"

# The states each mutating action may start from; any other state is UnsupportedOperation.InstanceState<X>.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "StopInstances": frozenset({RUNNING}),
    "StartInstances": frozenset({STOPPED}),
    "RebootInstances": frozenset({RUNNING}),
    "ResetInstance": frozenset({RUNNING, STOPPED}),
    "TerminateInstances": frozenset({RUNNING, STOPPED, LAUNCH_FAILED, SHUTDOWN}),
    "ModifyInstancesAttribute": frozenset(set(ALL_STATES) - {TERMINATING}),
}

LAUNCH_FAILED_MESSAGE = "Instance launch failed: insufficient resources in the availability zone."


@dataclass
class Timings:
    transition_seconds: float  # start of an operation -> target state
    operating_linger_seconds: float  # target state -> LatestOperationState leaves OPERATING

    def as_dict(self) -> dict[str, float]:
        """Keyed by field name, as `World.set_timings` takes them (the control API camel-cases them)."""
        return {
            "transition_seconds": self.transition_seconds,
            "operating_linger_seconds": self.operating_linger_seconds,
        }


def default_linger(transition_seconds: float) -> float:
    """OPERATING outlives the state change by half the transition, at most a second."""
    return min(1.0, transition_seconds / 2)


def check_can_start(action: str, instances: Sequence[Instance]) -> None:
    """Raise the error Tencent gives when `action` cannot start on every one of `instances`.

    Wrong states are reported first (grouped by the first offending state), then operations in progress.
    """
    allowed = ALLOWED_FROM[action]
    wrong = [instance for instance in instances if instance.state not in allowed]
    if wrong:
        state = wrong[0].state
        raise apierrors.wrong_state([i.instance_id for i in wrong if i.state == state], state)
    busy = [instance.instance_id for instance in instances if instance.latest_operation_state == OPERATING]
    if busy:
        raise apierrors.operation_in_progress(busy)


def begin(
    instance: Instance,
    *,
    operation: str,
    request_id: str,
    now: float,
    timings: Timings,
    via: str | None,
    target: str | None,
    outcome: str = SUCCESS,
    error_message: str = "",
    stop_charging_mode: str = "NOT_APPLICABLE",
) -> None:
    """Start `operation`: enter `via` now (None: no transitional state), reach `target` later."""
    if via is not None:
        instance.state = via
        instance.stop_charging_mode = "NOT_APPLICABLE"
    instance.latest_operation = operation
    instance.latest_operation_state = OPERATING
    instance.latest_operation_request_id = request_id
    instance.latest_operation_error = ""
    arrive_at = now + timings.transition_seconds if via is not None else now
    instance.pending = PendingOperation(
        arrive_at=arrive_at,
        target=target if via is not None else instance.state,
        settle_at=arrive_at + timings.operating_linger_seconds,
        outcome=outcome,
        error_message=error_message,
        stop_charging_mode=stop_charging_mode if via is not None else instance.stop_charging_mode,
    )
    instance.touch()


def settle(instance: Instance, now: float) -> bool:
    """Apply whatever of the instance's pending operation is due. False when the instance is gone."""
    pending = instance.pending
    if pending is None:
        return True
    if not pending.arrived and now >= pending.arrive_at:
        if pending.target is None:
            return False
        instance.state = pending.target
        instance.stop_charging_mode = pending.stop_charging_mode
        pending.arrived = True
        instance.touch()
    if pending.arrived and now >= pending.settle_at:
        instance.latest_operation_state = pending.outcome
        instance.latest_operation_error = pending.error_message
        instance.pending = None
        instance.touch()
    return True


def settle_region(region: RegionState, now: float) -> list[Instance]:
    """Settle every busy instance of `region`; returns the instances that disappeared (terminated)."""
    gone: list[Instance] = []
    for instance_id in list(region.busy):
        instance = region.instances.get(instance_id)
        if instance is None:
            region.busy.discard(instance_id)
            continue
        if not settle(instance, now):
            region.remove_instance(instance_id)
            gone.append(instance)
        elif instance.pending is None:
            region.busy.discard(instance_id)
    return gone


def mark_busy(region: RegionState, instances: Iterable[Instance]) -> None:
    region.busy.update(instance.instance_id for instance in instances)
