"""What request validation needs from Tencent, cached: does the region exist, which zones it has, and
whether an image runs Linux or Windows (which password rule applies).

Facts come from DescribeZones (per cluster and region) and DescribeImages (per cluster, region and image),
through the gateway like every other call (rate limiter, retries, the request's deadline, metrics). They
are kept for a TTL, so in steady state validation costs no cloud call; one caller at a time loads a missing
entry while the others wait for its answer, so a burst of requests makes one lookup, not one each.

What a lookup's failure means:
- DescribeZones answered `InvalidRegion.*` or `UnsupportedRegion`: the region does not exist (for CVM).
  Remembered like any answer; validation then reports the Region field (UNKNOWN_REGION).
- Tencent cannot be reached or keeps throttling (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED): the
  error is the request's answer. Its own call would go to the same account and region and fail the same
  way, so answering now is prompter than spending the rest of the deadline. Nothing is cached.
- anything else (e.g. the account may not call DescribeZones or DescribeImages): the fact stays unknown,
  the checks that need it are skipped and Tencent judges the request itself. Remembered for a short TTL so
  that a missing permission does not cost a call per request.

A caller inventing region names or image IDs costs one rate-limited lookup per name, and the entries expire
with their TTL. No oversized region name gets here: the format check before (server/validation_rules.py,
at most 68 characters) keeps it out of the X-TC-Region header, which it would break.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from server.compute.concurrency import CacheObserver, ExpiringCache, LoadWaitTimeout, gave_up_waiting
from server.compute.errors import ServiceError
from server.compute.ports import Cloud, Scope
from server.validation import ValidationContext
from server.validation_rules import Platform, platform_of

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_TTL_SECONDS = 600.0  # zones and image platforms change rarely; a new zone is usable within this
DEFAULT_UNKNOWN_TTL_SECONDS = 60.0  # "could not tell" (and "no such image") is retried sooner

# Tencent's answers meaning "this region does not exist, or has no CVM" (reason = Tencent's exact code).
REGION_NOT_FOUND_PREFIXES = ("InvalidRegion", "UnsupportedRegion")
# Codes saying Tencent cannot be reached now: the request fails with them rather than going on unchecked.
TRANSIENT_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})


@dataclass(frozen=True)
class RegionFacts:
    exists: bool | None  # None: could not tell
    zones: frozenset[str] | None  # every zone DescribeZones lists; None when unknown


UNKNOWN_REGION_FACTS = RegionFacts(exists=None, zones=None)


@dataclass(frozen=True)
class _Fact(Generic[V]):
    """A cached answer and when it stops counting: "could not tell" counts for less time than an answer."""

    value: V
    valid_until: float


class _FactCache(Generic[K, V]):
    """ExpiringCache (single flight, TTL) whose entries may also end earlier, each at its `valid_until`."""

    def __init__(
        self, name: str, ttl_seconds: float, clock: Callable[[], float], observer: CacheObserver | None
    ) -> None:
        self._cache: ExpiringCache[K, _Fact[V]] = ExpiringCache(ttl_seconds, clock=clock)
        self._name = name
        self._clock = clock
        self._observer = observer

    def get(self, key: K, load: Callable[[], _Fact[V]], wait_seconds: float | None) -> V:
        try:
            fact, hit = self._cache.get(key, load, wait_seconds=wait_seconds)
            if fact.valid_until <= self._clock():
                self._cache.invalidate(lambda cached: cached == key)
                fact, hit = self._cache.get(key, load, wait_seconds=wait_seconds)
        except LoadWaitTimeout:
            raise gave_up_waiting("Tencent catalog", "腾讯云目录信息") from None
        if self._observer is not None:
            self._observer.record_cache(self._name, hit)
        return fact.value


class PlacementCatalog:
    """Cached DescribeZones / DescribeImages answers, and the ValidationContext made from them."""

    def __init__(
        self,
        cloud: Cloud,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        unknown_ttl_seconds: float = DEFAULT_UNKNOWN_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        observer: CacheObserver | None = None,
    ) -> None:
        self._cloud = cloud
        self._clock = clock
        self._ttl = ttl_seconds
        self._unknown_ttl = min(unknown_ttl_seconds, ttl_seconds)
        # Keyed by cluster: two clusters may be different accounts with different regions and images.
        # Cache names for the compute_cache_lookups_total metric.
        self._regions: _FactCache[tuple[str, str], RegionFacts] = _FactCache(
            "region_zones", ttl_seconds, clock, observer
        )
        self._images: _FactCache[tuple[str, str, str], Platform | None] = _FactCache(
            "image_platforms", ttl_seconds, clock, observer
        )

    def validation_context(
        self, scope: Scope, *, zones: bool = False, image_id: str | None = None
    ) -> ValidationContext:
        """What validation may know for a request in `scope`: the region's existence always, its zones
        when `zones`, the platform of `image_id` when given. Raises the lookup's ServiceError only when
        Tencent cannot be reached (see the module docstring)."""
        region = self.region(scope)
        known_regions: frozenset[str] | None = None
        if region.exists is not None:
            known_regions = frozenset({scope.region}) if region.exists else frozenset()
        platform = None
        if image_id and region.exists is not False:
            platform = self.image_platform(scope, image_id)
        return ValidationContext(
            known_regions=known_regions,
            known_zones=region.zones if zones else None,
            image_platform=platform,
        )

    def region(self, scope: Scope) -> RegionFacts:
        key = (scope.cluster.uuid, scope.region)
        return self._regions.get(key, lambda: self._load_region(scope), scope.remaining())

    def image_platform(self, scope: Scope, image_id: str) -> Platform | None:
        key = (scope.cluster.uuid, scope.region, image_id)
        return self._images.get(key, lambda: self._load_image(scope, image_id), scope.remaining())

    def _load_region(self, scope: Scope) -> _Fact[RegionFacts]:
        try:
            response = self._cloud.call(scope, "cvm", "DescribeZones", {}, write=False)
        except ServiceError as error:
            if error.reason.startswith(REGION_NOT_FOUND_PREFIXES):
                return self._known(RegionFacts(exists=False, zones=frozenset()))
            self._unless_transient(error, "DescribeZones", scope)
            return self._unknown(UNKNOWN_REGION_FACTS)
        zones = frozenset(str(zone["Zone"]) for zone in response.get("ZoneSet") or [] if zone.get("Zone"))
        return self._known(RegionFacts(exists=True, zones=zones))

    def _load_image(self, scope: Scope, image_id: str) -> _Fact[Platform | None]:
        try:
            response = self._cloud.call(scope, "cvm", "DescribeImages", {"ImageIds": [image_id]}, write=False)
        except ServiceError as error:
            self._unless_transient(error, "DescribeImages", scope)
            return self._unknown(None)
        for image in response.get("ImageSet") or []:
            if image.get("ImageId") == image_id:
                platform = platform_of(image.get("Platform") or image.get("OsName"))
                if platform is not None:
                    return self._known(platform)
        return self._unknown(None)  # no such image here (yet): Tencent will say so, NOT_FOUND

    def _known(self, value: V) -> _Fact[V]:
        return _Fact(value, self._clock() + self._ttl)

    def _unknown(self, value: V) -> _Fact[V]:
        return _Fact(value, self._clock() + self._unknown_ttl)

    @staticmethod
    def _unless_transient(error: ServiceError, action: str, scope: Scope) -> None:
        if error.code in TRANSIENT_CODES:
            raise error
        log.warning(
            "%s failed with %s (%s); the checks that need it are skipped for cluster %s, region %s",
            action,
            error.code,
            error.reason,
            scope.cluster.uuid,
            scope.region,
            extra={"request_id": scope.request_id},
        )
