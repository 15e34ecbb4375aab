"""The listing snapshot: a short-lived copy of one cluster's full listing in one region, per tenant.

Why: a Fuzzy list must read the whole fleet (Tencent's name filter is exact), so a user paging through Fuzzy
results would otherwise pay a full scan (ceil(N/100) DescribeInstances calls) for every page. With the
snapshot, the first page scans and the following pages, and any identical list arriving meanwhile, are
served from it:
- concurrent scans of the same key share one scan in flight (single flight);
- the snapshot lives `snapshot_ttl_seconds` after its scan finished;
- every mutating call the service makes (create, delete, update, reset, turn_on, turn_off: the gateway
  tells its mutation listeners) drops the snapshots of that Tencent account and region at once, and a scan
  that was still running is not kept, so a list after a change made through the service never shows the
  state before it;
- changes made outside the service (the Tencent console, other tools, Tencent's own state transitions after
  a call) show after at most the TTL. That is the trade-off the TTL sets; `0` (the default) switches the
  snapshot off and every scan reads Tencent.

Key: (Tencent account, cluster, tenant, region). The tenant is part of the key even though a cluster's
listing only depends on its account and region, so a snapshot made for one tenant can never serve another
(no reasoning about shared accounts needed); invalidation goes by (account, region), so a change made
through one cluster also drops the snapshots of every other cluster on the same account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from server.compute.concurrency import CacheObserver, ExpiringCache, LoadWaitTimeout, gave_up_waiting
from server.compute.instances import Instance
from server.compute.ports import Scope

SNAPSHOT_CACHE = "snapshot"  # the cache label in compute_cache_lookups_total


class SnapshotKey(NamedTuple):
    account: str  # the cluster's Tencent account (SecretId): what invalidation goes by
    cluster: str
    tenant: str
    region: str


def snapshot_key(scope: Scope) -> SnapshotKey:
    return SnapshotKey(scope.cluster.account, scope.cluster.uuid, scope.tenant, scope.region)


class ListingSnapshots:
    """`scan(scope)` with the snapshot in front of `scan_all`; `invalidate` is the gateway's mutation
    listener. Thread-safe."""

    def __init__(
        self,
        scan_all: Callable[[Scope], list[Instance]],
        ttl_seconds: float,
        *,
        observer: CacheObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scan_all = scan_all
        self._observer = observer
        # Tuples: one snapshot is read by many requests at once and must not change under them.
        self._cache: ExpiringCache[SnapshotKey, tuple[Instance, ...]] = ExpiringCache(
            ttl_seconds, clock=clock
        )

    def scan(self, scope: Scope) -> list[Instance]:
        """Every instance of the scope's cluster and region, as of at most TTL ago. The instance dicts are
        shared with other requests: read them, copy to change them."""
        try:
            instances, hit = self._cache.get(
                snapshot_key(scope), lambda: tuple(self._scan_all(scope)), wait_seconds=scope.remaining()
            )
        except LoadWaitTimeout:
            raise gave_up_waiting("listing", "实例列表") from None
        if self._observer is not None:
            self._observer.record_cache(SNAPSHOT_CACHE, hit)
        return list(instances)

    def invalidate(self, scope: Scope, action: str) -> None:
        """After a mutating call (`action`) in the scope's account and region: drop what it may have made
        stale, for every cluster and tenant on that account."""
        account, region = scope.cluster.account, scope.region
        self._cache.invalidate(lambda key: key.account == account and key.region == region)
