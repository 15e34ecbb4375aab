"""The names list and inspect add to instances (family names, VPC names), cached per account and region.

Both change rarely and are the same for every request of an account, so each is read from Tencent once per
TTL instead of once per call:
- family names: the whole DescribeInstanceFamilyConfigs answer per (endpoint, account, region, language)
  (the names are localized by the cluster's language); concurrent misses share one call;
- VPC names: a book per (endpoint, account, region) of the VPC IDs already looked up (found or not); a list
  asks Tencent only for the IDs the book lacks, in one DescribeVpcs per 100 IDs, under the book's lock so
  concurrent lists needing the same IDs make the call once.
A TTL of 0 turns a cache off (every call asks Tencent, as the plain `Enricher` does). A VPC renamed or an
instance family added in the meantime shows after at most the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from server.compute.concurrency import CacheObserver, ExpiringCache, LoadWaitTimeout, gave_up_waiting
from server.compute.enrichment import NameSource
from server.compute.ports import Scope

FAMILY_CACHE = "instance_families"  # cache labels in compute_cache_lookups_total
VPC_CACHE = "vpc_names"


@dataclass
class _VpcBook:
    names: dict[str, str] = field(default_factory=dict)  # VpcId -> VpcName, for the IDs that exist
    looked_up: set[str] = field(default_factory=set)  # every ID asked for, found or not
    lock: threading.Lock = field(default_factory=threading.Lock)


class CachedNames:
    """A `NameSource` that remembers what `source` (the uncached Enricher) answered. Thread-safe."""

    def __init__(
        self,
        source: NameSource,
        *,
        family_ttl_seconds: float,
        vpc_ttl_seconds: float,
        observer: CacheObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._observer = observer
        self._families: ExpiringCache[tuple[str, ...], dict[str, str]] = ExpiringCache(
            family_ttl_seconds, clock=clock
        )
        self._vpc_books: ExpiringCache[tuple[str, ...], _VpcBook] = ExpiringCache(
            vpc_ttl_seconds, clock=clock
        )

    def family_names(self, scope: Scope) -> dict[str, str]:
        key = (*_account_region(scope), scope.cluster.language)
        try:
            names, hit = self._families.get(
                key, lambda: self._source.family_names(scope), wait_seconds=scope.remaining()
            )
        except LoadWaitTimeout:
            raise gave_up_waiting("instance family names", "实例机型族名称") from None
        self._record(FAMILY_CACHE, hit)
        return dict(names)  # a copy: the cached dict is shared

    def vpc_names(self, scope: Scope, vpc_ids: Collection[str]) -> dict[str, str]:
        wanted = {vpc_id for vpc_id in vpc_ids if vpc_id}
        if not wanted:
            return {}
        book, _ = self._vpc_books.get(_account_region(scope), _VpcBook)
        remaining = scope.remaining()
        if not book.lock.acquire(timeout=-1 if remaining is None else remaining):
            raise gave_up_waiting("VPC names", "私有网络名称")
        try:
            missing = wanted - book.looked_up
            if missing:
                book.names.update(self._source.vpc_names(scope, missing))
                book.looked_up |= missing
            found = {vpc_id: book.names[vpc_id] for vpc_id in wanted if vpc_id in book.names}
        finally:
            book.lock.release()
        self._record(VPC_CACHE, not missing)
        return found

    def _record(self, cache: str, hit: bool) -> None:
        if self._observer is not None:
            self._observer.record_cache(cache, hit)


def _account_region(scope: Scope) -> tuple[str, str, str]:
    # The endpoint too: the same SecretId on an emulator and on Tencent Cloud are different accounts.
    return (scope.cluster.endpoint or "", scope.cluster.account, scope.region)
