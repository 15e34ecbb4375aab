"""The service operations sections (b)-(d) time, over native gRPC straight to the server (large listings
would be transcoded to tens of MB of JSON; the JSON path's own cost is section (a)'s subject)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import plan as p
from bench.clients import compute_modules, compute_stub, grpc_channel
from bench.plan import Cluster

LIST_TIMEOUT_S = 180.0
BATCH_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Listing:
    total_count: int
    instance_ids: list[str]


class ServiceClient:
    def __init__(self, port: int) -> None:
        self._channel = grpc_channel(port)
        self._stub = compute_stub(self._channel)
        self._pb2, _ = compute_modules()

    def list_instances(
        self, cluster: Cluster, *, page_num: int = 0, page_size: int = 0, fuzzy: str = ""
    ) -> Listing:
        request = self._pb2.ListRequest(
            TenantUuid=cluster.tenant,
            ClusterUuid=cluster.uuid,
            Region=p.REGION,
            PageNum=page_num,
            PageSize=page_size,
            Fuzzy=fuzzy,
        )
        reply = self._stub.List(request, timeout=LIST_TIMEOUT_S)
        return Listing(reply.data.TotalCount, [i.InstanceId for i in reply.data.List])

    def _batch(self, method: str, cluster: Cluster, ids: list[str], **extra: Any) -> None:
        request_type = getattr(self._pb2, f"{method}Request")
        request = request_type(
            TenantUuid=cluster.tenant, ClusterUuid=cluster.uuid, Region=p.REGION, InstanceIds=ids, **extra
        )
        getattr(self._stub, method)(request, timeout=BATCH_TIMEOUT_S)

    def turn_off(self, cluster: Cluster, ids: list[str]) -> None:
        self._batch("TurnOff", cluster, ids)

    def turn_on(self, cluster: Cluster, ids: list[str]) -> None:
        self._batch("TurnOn", cluster, ids)

    def delete(self, cluster: Cluster, ids: list[str]) -> None:
        self._batch("Delete", cluster, ids)

    def close(self) -> None:
        self._channel.close()
