"""Names the list and inspect replies add to Tencent's instances: VPC names and instance family names.

Fetched once per list or inspect call, never once per instance. `Enricher` asks Tencent every time;
server/compute/name_cache.py `CachedNames` wraps it with per-account-and-region TTL caches (same protocol).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from server.compute.batching import chunks
from server.compute.ports import Cloud, Scope


class NameSource(Protocol):
    def family_names(self, scope: Scope) -> dict[str, str]:
        """InstanceFamily -> InstanceFamilyName (localized by the cluster's language)."""
        ...

    def vpc_names(self, scope: Scope, vpc_ids: Collection[str]) -> dict[str, str]:
        """VpcId -> VpcName for those of `vpc_ids` that exist."""
        ...


class Enricher:
    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def family_names(self, scope: Scope) -> dict[str, str]:
        response = self._cloud.call(scope, "cvm", "DescribeInstanceFamilyConfigs", {}, write=False)
        return {
            item["InstanceFamily"]: item.get("InstanceFamilyName") or ""
            for item in response.get("InstanceFamilyConfigSet") or []
        }

    def vpc_names(self, scope: Scope, vpc_ids: Collection[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        for chunk in chunks(sorted({vpc_id for vpc_id in vpc_ids if vpc_id})):
            # The VPC API takes Offset/Limit as strings.
            response = self._cloud.call(
                scope, "vpc", "DescribeVpcs", {"VpcIds": chunk, "Limit": "100"}, write=False
            )
            for vpc in response.get("VpcSet") or []:
                names[vpc["VpcId"]] = vpc.get("VpcName") or ""
        return names
