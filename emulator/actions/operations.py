"""The mutating instance actions besides RunInstances: Start, Stop, Reboot, Terminate, Reset, Modify.

Each validates the whole batch (IDs, existence, states, operations in progress) before touching any
instance, so a failed call changes nothing. Transitions follow `emulator.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator import apierrors, ids, lifecycle, logins
from emulator.actions.common import existing_instances, required_instance_ids, security_group_ids
from emulator.actions.run import MAX_SYSTEM_DISK, check_user_data, find_image
from emulator.call import Call
from emulator.errors import ApiError
from emulator.model import Instance

STOP_TYPES = ("SOFT", "HARD", "SOFT_FIRST")
STOPPED_MODES = ("KEEP_CHARGING", "STOP_CHARGING")
MAX_MODIFIED_NAME = 60  # ModifyInstancesAttribute: "不得超过60个字符"

# ModifyInstancesAttribute changes exactly one of these per call.
MODIFIABLE = (
    "InstanceName",
    "UserData",
    "SecurityGroups",
    "CamRoleName",
    "HostName",
    "DisableApiTermination",
    "EnableJumboFrame",
)


def _batch(call: Call, action: str) -> list[Instance]:
    instances = existing_instances(call, required_instance_ids(call))
    lifecycle.check_can_start(action, instances)
    return instances


def _begin_all(call: Call, instances: list[Instance], operation: str, **transition: Any) -> dict[str, Any]:
    for instance in instances:
        lifecycle.begin(
            instance,
            operation=operation,
            request_id=call.ctx.request_id,
            now=call.now,
            timings=call.timings,
            **transition,
        )
    lifecycle.mark_busy(call.state, instances)
    return {}


def _stop_type(call: Call, deprecated: str) -> None:
    """`StopType` is SOFT, HARD or SOFT_FIRST; the deprecated force flag cannot be combined with it."""
    if deprecated in call.params and "StopType" in call.params:
        raise apierrors.conflict([deprecated, "StopType"])
    stop_type = call.params.get("StopType", "SOFT")
    if stop_type not in STOP_TYPES:
        raise apierrors.not_one_of("StopType", stop_type, STOP_TYPES)


def start_instances(call: Call) -> dict[str, Any]:
    instances = _batch(call, "StartInstances")
    return _begin_all(call, instances, "StartInstances", via=lifecycle.STARTING, target=lifecycle.RUNNING)


def stop_instances(call: Call) -> dict[str, Any]:
    _stop_type(call, "ForceStop")
    mode = call.params.get("StoppedMode", "KEEP_CHARGING")
    if mode not in STOPPED_MODES:
        raise apierrors.not_one_of("StoppedMode", mode, STOPPED_MODES)
    instances = _batch(call, "StopInstances")
    if mode == "STOP_CHARGING":
        prepaid = [i.instance_id for i in instances if i.charge_type == "PREPAID"]
        if prepaid:
            raise ApiError(
                "UnsupportedOperation.StoppedModeStopCharging",
                f"The instance `{apierrors.id_list(prepaid)}` does not support no charges when shut down.",
                f"实例`{apierrors.id_list(prepaid)}`不支持关机不收费。",
            )
    for instance in instances:
        # pay-as-you-go instances show the mode they were stopped with; prepaid ones are not billed by it
        shown = mode if instance.charge_type != "PREPAID" else "NOT_APPLICABLE"
        lifecycle.begin(
            instance,
            operation="StopInstances",
            request_id=call.ctx.request_id,
            now=call.now,
            timings=call.timings,
            via=lifecycle.STOPPING,
            target=lifecycle.STOPPED,
            stop_charging_mode=shown,
        )
    lifecycle.mark_busy(call.state, instances)
    return {}


def reboot_instances(call: Call) -> dict[str, Any]:
    _stop_type(call, "ForceReboot")
    instances = _batch(call, "RebootInstances")
    return _begin_all(call, instances, "RebootInstances", via=lifecycle.REBOOTING, target=lifecycle.RUNNING)


def terminate_instances(call: Call) -> dict[str, Any]:
    instances = _batch(call, "TerminateInstances")
    protected = [i.instance_id for i in instances if i.disable_api_termination]
    if protected:
        raise ApiError(
            "UnsupportedOperation.InstancesProtected",
            f"The instance `{apierrors.id_list(protected)}` is under termination protection.",
            f"实例`{apierrors.id_list(protected)}`开启了实例销毁保护，无法销毁。",
        )
    for instance in instances:
        if instance.charge_type == "PREPAID" and instance.state != lifecycle.SHUTDOWN:
            # prepaid: the first call only moves the instance to the recycle bin
            instance.isolated_source = "MANMADE"
            via, target = lifecycle.STOPPING, lifecycle.SHUTDOWN
        else:
            via, target = lifecycle.TERMINATING, None
        lifecycle.begin(
            instance,
            operation="TerminateInstances",
            request_id=call.ctx.request_id,
            now=call.now,
            timings=call.timings,
            via=via,
            target=target,
        )
    lifecycle.mark_busy(call.state, instances)
    return {}


def reset_instance(call: Call) -> dict[str, Any]:
    instance_id: str = call.params["InstanceId"]
    if not ids.is_well_formed(ids.INSTANCE, instance_id):
        raise apierrors.malformed_instance_ids([instance_id])
    [instance] = existing_instances(call, [instance_id])
    lifecycle.check_can_start("ResetInstance", [instance])
    image = find_image(call, call.params.get("ImageId", instance.image_id))
    disk = call.params.get("SystemDisk", {})
    if disk.get("DiskType", instance.system_disk.disk_type) != instance.system_disk.disk_type:
        raise ApiError(
            "UnsupportedOperation.SystemDiskType",
            "Reinstalling cannot change the system disk type.",
            "重装系统不能修改系统盘类型。",
        )
    size: int = disk.get("DiskSize", max(instance.system_disk.disk_size, image.image_size))
    if size < instance.system_disk.disk_size:
        raise apierrors.invalid_value(
            f"The system disk can grow but not shrink: {size} GiB is below the current "
            f"{instance.system_disk.disk_size} GiB.",
            f"系统盘只支持扩容不支持缩容：{size} GiB 小于当前的 {instance.system_disk.disk_size} GiB。",
        )
    if not image.image_size <= size <= MAX_SYSTEM_DISK:
        raise apierrors.out_of_range("SystemDisk.DiskSize", size, image.image_size, MAX_SYSTEM_DISK)
    login = logins.login_reply(
        call.params.get("LoginSettings"),
        windows=image.is_windows,
        public_image=image.image_type == "PUBLIC_IMAGE",
    )
    check_user_data(call.params.get("UserData"))

    instance.image_id = image.image_id
    instance.os_name = image.os_name
    instance.default_login_user, instance.default_login_port = image.default_login
    instance.login = login
    instance.system_disk.disk_size = size
    if "HostName" in call.params:
        instance.host_name = call.params["HostName"]
    # a reinstall boots the new system: a running instance reboots, a stopped one starts
    via = lifecycle.REBOOTING if instance.state == lifecycle.RUNNING else lifecycle.STARTING
    return _begin_all(call, [instance], "ResetInstance", via=via, target=lifecycle.RUNNING)


def modify_instances_attribute(call: Call) -> dict[str, Any]:
    given = [name for name in MODIFIABLE if name in call.params]
    if not given:
        raise ApiError(
            "MissingParameter.AtLeastOne",
            f"Specify one attribute to modify: {', '.join(MODIFIABLE)}.",
            f"请指定一个要修改的属性：{', '.join(MODIFIABLE)}。",
        )
    if len(given) > 1:
        raise ApiError(
            "InvalidParameter.AtMostOne",
            f"Only one attribute can be modified per call; got `{'`, `'.join(given)}`.",
            f"每次只能修改一个属性，收到了`{'`、`'.join(given)}`。",
        )
    attribute = given[0]
    value = call.params[attribute]
    instances = existing_instances(call, required_instance_ids(call))
    apply = _modifier(call, attribute, value)
    lifecycle.check_can_start("ModifyInstancesAttribute", instances)
    for instance in instances:
        apply(instance)
    return _begin_all(call, instances, "ModifyInstancesAttribute", via=None, target=None)


def _modifier(call: Call, attribute: str, value: Any) -> Callable[[Instance], None]:
    """Validate the new value; return how to apply it to one instance."""
    if attribute == "InstanceName":
        name: str = value
        if not name:
            raise apierrors.invalid_value("InstanceName cannot be empty.", "实例名称不能为空。")
        if len(name) > MAX_MODIFIED_NAME:
            raise ApiError(
                "InvalidInstanceName.TooLong",
                f"The specified InstanceName exceeds the maximum length of {MAX_MODIFIED_NAME} characters.",
                f"实例名称长度超过 {MAX_MODIFIED_NAME} 个字符的上限。",
            )
        return lambda instance: setattr(instance, "name", name)
    if attribute == "SecurityGroups":
        groups = security_group_ids(call, value, "SecurityGroups")
        return lambda instance: setattr(instance, "security_group_ids", list(groups))
    if attribute == "HostName":
        return lambda instance: setattr(instance, "host_name", value)
    if attribute == "CamRoleName":
        return lambda instance: setattr(instance, "cam_role_name", value)
    if attribute == "DisableApiTermination":
        return lambda instance: setattr(instance, "disable_api_termination", value)
    if attribute == "UserData":
        check_user_data(value)
    return lambda instance: None  # accepted, nothing a reply shows (UserData, EnableJumboFrame)


HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {
    "StartInstances": start_instances,
    "StopInstances": stop_instances,
    "RebootInstances": reboot_instances,
    "TerminateInstances": terminate_instances,
    "ResetInstance": reset_instance,
    "ModifyInstancesAttribute": modify_instances_attribute,
}
