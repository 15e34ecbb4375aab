"""delete: TerminateInstances, in batches of at most 100 IDs."""

from __future__ import annotations

from collections.abc import Sequence

from server.compute.batching import apply_in_batches, unique_ids
from server.compute.ports import Cloud, Scope


def delete_instances(cloud: Cloud, scope: Scope, instance_ids: Sequence[str]) -> list[str]:
    """Terminate the instances; returns the IDs the call was made for."""
    ids = unique_ids(instance_ids)

    def terminate(chunk: list[str]) -> None:
        cloud.call(scope, "cvm", "TerminateInstances", {"InstanceIds": chunk}, write=True)

    apply_in_batches(ids, "TerminateInstances", terminate)
    return ids
