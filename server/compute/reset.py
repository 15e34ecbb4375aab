"""reset: ResetInstance, reinstalling the operating system of one instance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.compute.ports import Cloud, Scope


def reset_instance(cloud: Cloud, scope: Scope, instance_id: str, params: Mapping[str, Any]) -> None:
    """`params`: ImageId, SystemDisk, LoginSettings, EnhancedService (Tencent names; unset ones absent)."""
    reset = {k: v for k, v in params.items() if v not in (None, "", [], {})}
    reset["InstanceId"] = instance_id
    cloud.call(scope, "cvm", "ResetInstance", reset, write=True)
