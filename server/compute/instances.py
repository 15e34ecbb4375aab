"""Reading instances by ID from Tencent (DescribeInstances), in batches of at most 100 IDs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.compute.batching import TENCENT_MAX_IDS, chunks
from server.compute.ports import Cloud, Scope

Instance = dict[str, Any]  # one element of DescribeInstances' InstanceSet, Tencent's field names


def describe_by_ids(cloud: Cloud, scope: Scope, ids: Sequence[str]) -> dict[str, Instance]:
    """The instances among `ids` that exist in the cluster's account and region, keyed by InstanceId.

    Well-formed unknown IDs are simply absent (Tencent returns no error for them); malformed IDs raise
    INVALID_ARGUMENT (Tencent's InvalidInstanceId.Malformed).
    """
    found: dict[str, Instance] = {}
    for chunk in chunks(ids):
        response = cloud.call(
            scope,
            "cvm",
            "DescribeInstances",
            {"InstanceIds": chunk, "Limit": TENCENT_MAX_IDS},
            write=False,
        )
        for instance in response.get("InstanceSet") or []:
            found[instance["InstanceId"]] = instance
    return found


def family_of(instance_type: str) -> str:
    """The instance family of an InstanceType: "MA2.SMALL8" -> "MA2"."""
    return instance_type.split(".", 1)[0]
