"""The cluster registry: which tenant owns which cluster, and which Tencent account a cluster acts as."""

from __future__ import annotations

from collections.abc import Iterable

from server.compute.errors import NotFound
from server.config import ClusterConfig


class ClusterRegistry:
    def __init__(self, clusters: Iterable[ClusterConfig]) -> None:
        self._by_uuid: dict[str, ClusterConfig] = {cluster.uuid: cluster for cluster in clusters}

    def resolve(self, tenant: str, cluster_uuid: str) -> ClusterConfig:
        """The cluster `cluster_uuid` if `tenant` owns it.

        Unknown and not-owned clusters raise the very same NotFound (message, reason, metadata), so a caller
        cannot probe which cluster UUIDs exist for other tenants.
        """
        cluster = self._by_uuid.get(cluster_uuid)
        if cluster is None or tenant not in cluster.tenants:
            raise NotFound(
                f"cluster {cluster_uuid!r} was not found for tenant {tenant!r}",
                f"租户 {tenant!r} 下未找到集群 {cluster_uuid!r}",
                reason="CLUSTER_NOT_FOUND",
                metadata={"cluster_uuid": cluster_uuid, "tenant_uuid": tenant},
            )
        return cluster
