"""list: DescribeInstances with the legacy paging and fuzzy-search semantics.

- `PageNum` is the record offset and `PageSize` the page size (Tencent's Offset and Limit: the legacy
  document's 翻页偏移量 / 每页的限制数量 are Tencent's own words for them).
- PageSize 0 returns every matching instance from the offset on; PageSize above 100 is served by paging
  Tencent (at most 100 per call) internally, the remaining pages fetched concurrently once TotalCount is
  known.
- A non-empty `Fuzzy` is a case-insensitive substring match on InstanceName, InstanceId and the private and
  public IPs. Tencent's instance-name filter is exact, so the match runs over the full listing (`scan`).
- The full listing (`scan`: every Fuzzy list, and PageSize 0 from offset 0) is what the listing snapshot
  (server/compute/snapshot.py) caches when it is on; other pages read just their range from Tencent, which
  costs ceil(PageSize/100) calls, never more than a scan.
- TotalCount counts all matches. VpcName[i] is the name of List[i]'s VPC; each instance gets
  InstanceTypeName (its family's name). Both lookups happen once per call, never once per instance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from server.compute.batching import TENCENT_MAX_IDS
from server.compute.concurrency import map_concurrently
from server.compute.enrichment import NameSource
from server.compute.instances import Instance, family_of
from server.compute.ports import Cloud, Scope

# Page fetches of one listing in flight at once. Enough to keep DescribeInstances at Tencent's 40/s when a
# 100-instance page takes up to 400 ms (rate x latency), and to spend the first second's 40-call burst
# quickly; measured in docs/performance.md (8 workers missed 1.3x the floor at 200 ms per call).
DEFAULT_PAGE_WORKERS = 16


@dataclass(frozen=True)
class ListQuery:
    """Both numbers are >= 0: server/validation.py rejects negative ones before the use case runs."""

    offset: int = 0  # PageNum
    page_size: int = 0  # PageSize; 0 = all
    fuzzy: str = ""


@dataclass
class ListResult:
    total_count: int
    instances: list[Instance] = field(default_factory=list)
    vpc_names: list[str] = field(default_factory=list)  # aligned with `instances`


def matches_fuzzy(instance: Instance, needle: str) -> bool:
    needle = needle.lower()
    haystack = [instance.get("InstanceName") or "", instance.get("InstanceId") or ""]
    haystack += instance.get("PrivateIpAddresses") or []
    haystack += instance.get("PublicIpAddresses") or []
    return any(needle in str(value).lower() for value in haystack)


class InstanceLister:
    """The list use case. `scan` (the full listing of a cluster and region) is the piece the listing snapshot
    wraps; pass it as `scan` (or assign it) to replace the direct one, `scan_all`."""

    def __init__(
        self,
        cloud: Cloud,
        names: NameSource,
        *,
        scan: Callable[[Scope], list[Instance]] | None = None,
        page_workers: int = DEFAULT_PAGE_WORKERS,
    ) -> None:
        self._cloud = cloud
        self._names = names
        self._page_workers = page_workers
        self.scan: Callable[[Scope], list[Instance]] = scan or self.scan_all

    def list_page(self, scope: Scope, query: ListQuery) -> ListResult:
        if query.fuzzy or (query.page_size == 0 and query.offset == 0):
            matching = [i for i in self.scan(scope) if not query.fuzzy or matches_fuzzy(i, query.fuzzy)]
            end = query.offset + query.page_size if query.page_size else None
            result = ListResult(total_count=len(matching), instances=matching[query.offset : end])
        else:
            total, instances = self._read_range(scope, query.offset, query.page_size)
            result = ListResult(total_count=total, instances=instances)
        self._enrich(scope, result)
        return result

    def scan_all(self, scope: Scope) -> list[Instance]:
        """Every instance of the cluster's account in the scope's region."""
        return self._read_range(scope, 0, 0)[1]

    def _describe_page(self, scope: Scope, offset: int, limit: int) -> tuple[int, list[Instance]]:
        response = self._cloud.call(
            scope, "cvm", "DescribeInstances", {"Offset": offset, "Limit": limit}, write=False
        )
        return int(response.get("TotalCount") or 0), list(response.get("InstanceSet") or [])

    def _read_range(self, scope: Scope, offset: int, count: int) -> tuple[int, list[Instance]]:
        """(TotalCount, instances[offset : offset+count]) with count 0 = to the end."""
        first_limit = min(count, TENCENT_MAX_IDS) if count else TENCENT_MAX_IDS
        total, first = self._describe_page(scope, offset, first_limit)
        end = min(total, offset + count) if count else total
        next_offset = offset + len(first)
        if not first or next_offset >= end:
            return total, first[: end - offset] if end > offset else []
        offsets = list(range(next_offset, end, TENCENT_MAX_IDS))

        def fetch(page_offset: int) -> list[Instance]:
            return self._describe_page(scope, page_offset, min(TENCENT_MAX_IDS, end - page_offset))[1]

        pages = map_concurrently(fetch, offsets, self._page_workers)
        return total, _dedupe([first, *pages])[: end - offset]

    def _enrich(self, scope: Scope, result: ListResult) -> None:
        if not result.instances:
            return
        families = self._names.family_names(scope)
        vpc_ids = [(i.get("VirtualPrivateCloud") or {}).get("VpcId") or "" for i in result.instances]
        vpcs = self._names.vpc_names(scope, set(vpc_ids))
        # Copies: the scanned instances may be shared (the snapshot) and must stay as Tencent sent them.
        result.instances = [
            {**instance, "InstanceTypeName": families.get(family_of(instance.get("InstanceType") or ""), "")}
            for instance in result.instances
        ]
        result.vpc_names = [vpcs.get(vpc_id, "") for vpc_id in vpc_ids]


def _dedupe(pages: Sequence[list[Instance]]) -> list[Instance]:
    """Pages read at slightly different times can overlap when instances come or go; keep the first copy."""
    seen: set[str] = set()
    merged: list[Instance] = []
    for page in pages:
        for instance in page:
            instance_id = instance.get("InstanceId") or ""
            if instance_id not in seen:
                seen.add(instance_id)
                merged.append(instance)
    return merged
