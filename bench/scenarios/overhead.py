"""(a) Per-call overhead: inspect as legacy JSON through Envoy and as native gRPC straight to the server,
against the same DescribeInstances(InstanceIds=[id]) made with the SDK directly against the emulator.

Latency at concurrency 1: the three paths are interleaved call by call (order rotated every round), so
drift on the machine hits all three alike. Throughput at concurrency 32: each path alone for a fixed time,
twice: with Tencent's rate limits on (DescribeInstances 40/s per account caps all three paths alike) and with
the emulator's throttling off against a server whose own limiter is off (the stack's own capacity).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from tencentcloud.cvm.v20170312 import models

from bench import plan as p
from bench.clients import (
    LegacyJsonClient,
    classify_error,
    compute_modules,
    compute_stub,
    grpc_channel,
    sdk_client,
)
from bench.context import RunContext, ServiceStack
from bench.emulator_control import calls_between
from bench.measure import LatencySummary, ThroughputResult, run_closed_loop, summarize_latency
from bench.report import Section, ms, per_s, ratio
from bench.server_metrics import ServerFigures, scrape

SDK = "SDK direct (DescribeInstances)"
GRPC = "gRPC inspect (direct to server)"
JSON = "JSON inspect (through Envoy)"
WARMUP_CALLS = 10
# Rounds (one call per path) start at most this often. The paths share the demo account's rate limits,
# and the lowest Tencent limit an inspect may touch is 10/s (DescribeInstanceFamilyConfigs): at 4 rounds/s
# the service paths make 8 inspects/s together, so the latency figures measure per-call overhead, not time
# queued behind the harness's own earlier calls (queueing is what the throughput rows show).
ROUND_INTERVAL_S = 0.25
RPC_TIMEOUT_S = 30.0

CallFactory = Callable[[], Callable[[], None]]


def _sdk_factory(ctx: RunContext) -> CallFactory:
    demo = ctx.plan.demo

    def make() -> Callable[[], None]:
        client = sdk_client(ctx.emulator_endpoint, demo.account.secret_id, demo.account.secret_key, p.REGION)

        def call() -> None:
            request = models.DescribeInstancesRequest()
            request.InstanceIds = [p.DEMO_INSTANCE]
            reply = client.DescribeInstances(request)
            if reply.TotalCount != 1:
                raise RuntimeError(f"DescribeInstances found {reply.TotalCount} instances")

        return call

    return make


def _grpc_factory(ctx: RunContext, stack: ServiceStack) -> CallFactory | None:
    if stack.server is None:
        return None
    compute_pb2, _ = compute_modules()
    stub = compute_stub(grpc_channel(stack.server.port))  # one channel shared by all threads, as usual
    demo = ctx.plan.demo
    request = compute_pb2.InspectRequest(
        TenantUuid=demo.tenant, ClusterUuid=demo.uuid, Region=p.REGION, InstanceId=p.DEMO_INSTANCE
    )

    def make() -> Callable[[], None]:
        def call() -> None:
            reply = stub.Inspect(request, timeout=RPC_TIMEOUT_S)
            if reply.data.InstanceId != p.DEMO_INSTANCE:
                raise RuntimeError("inspect returned another instance")

        return call

    return make


def _json_factory(ctx: RunContext, stack: ServiceStack) -> CallFactory | None:
    if stack.envoy is None:
        return None
    demo = ctx.plan.demo
    # The legacy inspect example, byte for byte in content.
    body = {
        "Region": p.REGION,
        "InstanceId": p.DEMO_INSTANCE,
        "TenantUuid": demo.tenant,
        "ClusterUuid": demo.uuid,
    }
    port = stack.envoy.port

    def make() -> Callable[[], None]:
        client = LegacyJsonClient(port)

        def call() -> None:
            envelope = client.post("/v1/tencent/compute/inspect", body)
            if envelope["data"].get("InstanceId") != p.DEMO_INSTANCE:
                raise RuntimeError("inspect returned another instance")

        return call

    return make


def _paths(ctx: RunContext, stack: ServiceStack) -> dict[str, CallFactory | None]:
    return {SDK: _sdk_factory(ctx), GRPC: _grpc_factory(ctx, stack), JSON: _json_factory(ctx, stack)}


def measure_latency(
    ctx: RunContext, paths: dict[str, CallFactory], rounds: int
) -> tuple[dict[str, LatencySummary], dict[str, dict[str, int]]]:
    """Latency per path, and the Tencent calls one warm call of each path makes (probed alone)."""
    callers = {name: factory() for name, factory in paths.items()}
    for call in callers.values():
        for _ in range(WARMUP_CALLS):
            call()
    account = ctx.plan.demo.account.secret_id
    calls_per_request: dict[str, dict[str, int]] = {}
    for name, call in callers.items():
        before = ctx.control.calls_by_action(account)
        call()
        calls_per_request[name] = calls_between(before, ctx.control.calls_by_action(account))
    samples: dict[str, list[float]] = {name: [] for name in callers}
    errors = dict.fromkeys(callers, 0)
    names = list(callers)
    for i in range(rounds):
        round_start = time.perf_counter()
        for name in names[i % len(names) :] + names[: i % len(names)]:
            t0 = time.perf_counter()
            try:
                callers[name]()
            except Exception:
                errors[name] += 1
                continue
            samples[name].append(time.perf_counter() - t0)
        time.sleep(max(0.0, round_start + ROUND_INTERVAL_S - time.perf_counter()))
    return {name: summarize_latency(samples[name], errors[name]) for name in names}, calls_per_request


@dataclass(frozen=True)
class ThroughputRow:
    setting: str
    path: str
    result: ThroughputResult
    tencent_calls: dict[str, int]
    throttled: int
    connections: int  # TCP connections the emulator accepted during the run
    server: ServerFigures | None  # the server's own metrics over the run (service paths only)

    @property
    def calls_per_request(self) -> float:
        total = self.result.attempts
        return sum(self.tencent_calls.values()) / total if total else float("nan")


def measure_throughput(
    ctx: RunContext,
    setting: str,
    stack: ServiceStack,
    paths: dict[str, CallFactory],
    concurrency: int,
    seconds: float,
) -> list[ThroughputRow]:
    rows = []
    account = ctx.plan.demo.account.secret_id
    for name, factory in paths.items():
        time.sleep(1.0)  # let the per-account token buckets (emulator and server) refill between paths
        before, figures_before = ctx.control.counters(), scrape(stack.metrics_port)
        result = run_closed_loop(
            factory, concurrency=concurrency, duration_s=seconds, classify_error=classify_error
        )
        after, figures_after = ctx.control.counters(), scrape(stack.metrics_port)
        figures = figures_after.minus(figures_before) if figures_after and figures_before else None
        rows.append(
            ThroughputRow(
                setting,
                name,
                result,
                calls_between(_calls(before, account), _calls(after, account)),
                int(after.get("Throttled", 0)) - int(before.get("Throttled", 0)),
                # minus 1: the control request reading `after` is itself a new connection
                int(after.get("ConnectionsAccepted", 0)) - int(before.get("ConnectionsAccepted", 0)) - 1,
                figures if name != SDK else None,
            )
        )
    return rows


def _calls(counters: dict[str, Any], account: str) -> dict[str, int]:
    return {str(a): int(n) for a, n in counters.get("Calls", {}).get(account, {}).items()}


def _latency_section(
    latency: dict[str, LatencySummary], calls: dict[str, dict[str, int]], missing: list[str]
) -> Section:
    section = Section(
        "a.1",
        "Per-call overhead: latency at concurrency 1",
        [
            "path",
            "p50",
            "p99",
            "mean",
            "p50 vs SDK",
            "p50 added",
            "p99 vs SDK",
            "errors",
            "Tencent calls/request",
        ],
    )
    base = latency.get(SDK)
    for name, s in latency.items():
        section.rows.append(
            [
                name,
                ms(s.p50_ms),
                ms(s.p99_ms),
                ms(s.mean_ms),
                ratio(s.p50_ms / base.p50_ms) if base else "n/a",
                ms(s.p50_ms - base.p50_ms) if base else "n/a",
                ratio(s.p99_ms / base.p99_ms) if base else "n/a",
                str(s.errors),
                ", ".join(f"{a} {n}" for a, n in calls.get(name, {}).items()) or "0",
            ]
        )
    section.data["latency"] = {
        name: {**asdict(s), "tencent_calls": calls.get(name)} for name, s in latency.items()
    }
    section.notes += missing
    return section


def _throughput_section(rows: list[ThroughputRow], concurrency: int, missing: list[str]) -> Section:
    section = Section(
        "a.2",
        f"Per-call overhead: throughput at concurrency {concurrency}",
        [
            "setting",
            "path",
            "ok/s",
            "vs SDK",
            "errors",
            "p50",
            "p99",
            "Tencent calls/request",
            "throttled",
            "new emulator TCP connections",
            "server metrics (whole run incl. warm-up)",
        ],
    )
    base = {r.setting: r.result.ok_per_second for r in rows if r.path == SDK}
    for r in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in r.result.error_kinds.items())
        sdk_rate = base.get(r.setting)
        section.rows.append(
            [
                r.setting,
                r.path,
                per_s(r.result.ok_per_second),
                ratio(r.result.ok_per_second / sdk_rate) if sdk_rate else "n/a",
                f"{r.result.errors}" + (f" ({kinds})" if kinds else ""),
                ms(r.result.p50_ms),
                ms(r.result.p99_ms),
                f"{r.calls_per_request:.2f}",
                str(r.throttled),
                str(r.connections),
                r.server.summary() if r.server else "-",
            ]
        )
    section.data["throughput"] = [
        {
            "setting": r.setting,
            "path": r.path,
            **asdict(r.result),
            "ok_per_second": r.result.ok_per_second,
            "tencent_calls": r.tencent_calls,
            "throttled": r.throttled,
            "emulator_connections": r.connections,
            "server": asdict(r.server) if r.server else None,
        }
        for r in rows
    ]
    section.notes += missing
    return section


def _available(
    paths: dict[str, CallFactory | None], stack: ServiceStack
) -> tuple[dict[str, CallFactory], list[str]]:
    """The paths that can run, and a note for each that cannot (its process failed to start)."""
    ready = {name: f for name, f in paths.items() if f is not None}
    missing = [
        f"{name} ({stack.label}): not measured: {stack.problem or 'not started'}"
        for name, f in paths.items()
        if f is None
    ]
    return ready, missing


def run(ctx: RunContext) -> list[Section]:
    s = ctx.plan.settings
    limited, missing = _available(_paths(ctx, ctx.limited), ctx.limited)
    figures_before = scrape(ctx.limited.metrics_port)
    latency, calls = measure_latency(ctx, limited, s.latency_rounds)
    figures_after = scrape(ctx.limited.metrics_port)
    latency_section = _latency_section(latency, calls, missing)
    latency_section.notes.insert(
        0,
        f"{s.latency_rounds} calls per path after {WARMUP_CALLS} warm-up calls, interleaved call by call "
        f"(order rotated each round), at most {1 / ROUND_INTERVAL_S:.0f} rounds/s so the service paths stay "
        "under the lowest Tencent limit an inspect may touch (10/s); emulator latency "
        f"{s.latency_ms} ms per Tencent call, Tencent rate limits on. 'Tencent calls/request': one warm call "
        "of each path, alone, counted by the emulator.",
    )
    if figures_after and figures_before:
        figures = figures_after.minus(figures_before)
        latency_section.data["server"] = asdict(figures)
        latency_section.notes.append(
            "Server metrics over the whole latency phase (both service paths together): " + figures.summary()
        )

    rows = measure_throughput(
        ctx, "Tencent limits on", ctx.limited, limited, s.concurrency, s.throughput_seconds
    )
    unlimited, missing_unlimited = _available(_paths(ctx, ctx.unlimited), ctx.unlimited)
    ctx.control.set_config(Throttle=False)
    try:
        rows += measure_throughput(
            ctx, "throttling off", ctx.unlimited, unlimited, s.concurrency, s.throughput_seconds
        )
    finally:
        ctx.control.set_config(Throttle=True)
    throughput_section = _throughput_section(rows, s.concurrency, missing + missing_unlimited)
    throughput_section.notes.insert(
        0,
        f"{s.concurrency} threads per path for {s.throughput_seconds:.0f} s each, after a 1 s warm-up that "
        "is not counted (it also spends the one second's burst the token buckets allow from idle, so the "
        "rates are sustained ones). 'Tencent limits on': "
        f"the emulator throttles DescribeInstances at {p.DESCRIBE_RATE_PER_S:.0f}/s per account, which caps "
        "every path at about 40 inspects/s at best (the direct SDK gets RequestLimitExceeded, the service "
        "waits in its own limiter). 'throttling off': emulator throttling off and a second server and Envoy "
        "whose own rate limiter is switched off ([limits] enabled = false): what the stack itself can carry.",
    )
    return [latency_section, throughput_section]
