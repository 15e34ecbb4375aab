"""(b) Fleet listing: list with PageSize 0 (every instance), repeated, and with a Fuzzy filter, over fleets of
1,000 / 5,000 / 20,000 instances, each beside its floor.

Floor: ceil(N/100) DescribeInstances calls (Tencent's page limit is 100) at Tencent's 40/s per account, and
never under two round trips of one 100-instance page (the first page must return TotalCount before the
rest can be fetched concurrently). The round trip is measured with the SDK directly on the same fleet.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass

from bench import plan as p
from bench.context import RunContext
from bench.direct_sdk import page_round_trip_s
from bench.plan import Cluster
from bench.report import Section, mib, ratio, secs
from bench.service_calls import Listing, ServiceClient
from bench.step import StepResult, burst_floor_seconds, floor_seconds, measure_step

PAUSE_S = 1.5  # between steps on one account: both token buckets (emulator, server) refill


@dataclass(frozen=True)
class ListingCase:
    label: str
    cluster_variant: str  # "all" or "fuzzy": each case that must start cold has its own cluster
    fuzzy: str
    cold: bool  # False: repeats the previous case on the same cluster (what a snapshot/cache can serve)


CASES = (
    ListingCase("PageSize 0", "all", "", True),
    ListingCase("PageSize 0, again at once", "all", "", False),
    ListingCase(f"PageSize 0, Fuzzy {p.FUZZY_TERM!r}", "fuzzy", p.FUZZY_TERM, True),
)

COLUMNS = [
    "N",
    "request",
    "wall",
    "floor",
    "wall/floor",
    "floor from idle",
    "DescribeInstances",
    "floor calls",
    "other Tencent calls",
    "returned / TotalCount",
    "server RSS before -> peak",
    "throttled",
    "server metrics",
    "new emulator TCP conns",
]


def _listing_cell(step: StepResult[Listing]) -> str:
    if step.value is None:
        return f"error: {step.error}"
    return f"{len(step.value.instance_ids)} / {step.value.total_count}"


def run(ctx: RunContext) -> list[Section]:
    section = Section("b", "Fleet listing (native gRPC, one call each)", COLUMNS)
    server = ctx.limited.server
    if server is None:
        section.error = f"server not running: {ctx.limited.problem}"
        return [section]
    client = ServiceClient(server.port)
    round_trips: dict[int, float] = {}
    try:
        for size in ctx.plan.settings.fleet_sizes:
            clusters: dict[str, Cluster] = ctx.plan.listing[size]
            account = clusters["all"].account
            rtt = round_trips[size] = page_round_trip_s(ctx.emulator_endpoint, account)
            floor_calls = math.ceil(size / p.TENCENT_PAGE_LIMIT)
            floor_s = floor_seconds(floor_calls, rtt, p.DESCRIBE_RATE_PER_S, min_round_trips=2)
            idle_floor_s = burst_floor_seconds(floor_calls, rtt, p.DESCRIBE_RATE_PER_S, min_round_trips=2)
            size_data: dict[str, object] = {
                "page_round_trip_s": rtt,
                "floor_calls": floor_calls,
                "floor_from_idle_s": idle_floor_s,
                "floor_s": floor_s,
            }
            for case in CASES:
                time.sleep(PAUSE_S)
                cluster = clusters[case.cluster_variant]
                step = measure_step(
                    ctx,
                    account.secret_id,
                    functools.partial(client.list_instances, cluster, fuzzy=case.fuzzy),
                    stack=ctx.limited,
                )
                section.rows.append(
                    [
                        f"{size:,}",
                        case.label,
                        secs(step.wall_s),
                        secs(floor_s) if case.cold else "-",
                        ratio(step.wall_s / floor_s) if case.cold else "-",
                        secs(idle_floor_s) if case.cold else "-",
                        str(step.calls_to("DescribeInstances")),
                        str(floor_calls) if case.cold else "-",
                        ", ".join(f"{a} {n}" for a, n in step.other_calls.items()) or "0",
                        _listing_cell(step),
                        f"{mib(step.memory.baseline_mib)} -> {mib(step.memory.peak_mib)}",
                        str(step.throttled),
                        step.server_summary,
                        str(step.connections),
                    ]
                )
                size_data[case.label] = {
                    "wall_s": step.wall_s,
                    "calls": step.calls,
                    "throttled": step.throttled,
                    "server": asdict(step.server) if step.server else None,
                    "emulator_connections": step.connections,
                    "returned": len(step.value.instance_ids) if step.value else None,
                    "total_count": step.value.total_count if step.value else None,
                    "rss_baseline_mib": step.memory.baseline_mib,
                    "rss_peak_mib": step.memory.peak_mib,
                    "memory_method": step.memory.method,
                    "error": step.error,
                }
            section.data[str(size)] = size_data
    finally:
        client.close()
    rtt_text = ", ".join(f"{n:,}: {t * 1000:.0f} ms" for n, t in round_trips.items())
    matches = ", ".join(f"{n:,}: {n // p.FUZZY_SHARE:,}" for n in ctx.plan.settings.fleet_sizes)
    section.notes += [
        f"Floor = max(ceil(N/100) calls / {p.DESCRIBE_RATE_PER_S:.0f} per s, 2 x one 100-instance page's "
        f"round trip measured with the SDK directly; per N: {rtt_text}). This is the issue's floor: the "
        "sustained rate. 'floor from idle': Tencent, the emulator and the server all use token buckets that "
        f"let one second's worth ({p.DESCRIBE_RATE_PER_S:.0f} calls) go at once from idle, so a listing that "
        "starts idle can beat the sustained floor; it cannot beat 2 round trips + (calls - 40) / 40 s "
        "without breaking the limit. Steps are 1.5 s apart, so each starts from full buckets.",
        "Each cold case runs on its own cluster (same account and fleet), so no listing snapshot from an "
        "earlier case can serve it (the service keeps one per tenant, cluster and region); the enrichment "
        "caches (VPC and family names) are per account by design, so later cases on the same account may "
        f"find them warm. 'again at once' repeats the first call on the same cluster {PAUSE_S:.1f} s later. "
        f"Fuzzy {p.FUZZY_TERM!r} matches one instance in {p.FUZZY_SHARE} "
        f"(per N: {matches}).",
        "Tencent calls: the emulator's per-account counters before and after the call. Other calls are the "
        "enrichment lookups (VPC names, instance family names, zones). 'new emulator TCP conns': connections "
        "the emulator accepted during the call (the server's SDK clients are per cluster and region, so a "
        "cluster's first call opens its pool).",
        "'server metrics': the server's own Prometheus counters over the call: time its calls spent waiting "
        "for its rate limiter (summed over concurrent calls), retries, and cache hits and misses.",
        "Server memory: RSS of the server process before the call and its peak during it (/proc VmHWM "
        "after a clear_refs reset; RSS sampled every 10 ms as a fallback).",
    ]
    return [section]
