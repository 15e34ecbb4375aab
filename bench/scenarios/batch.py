"""(d) turn_off, turn_on and delete over 250 instance IDs, one service call each (native gRPC).

Tencent takes at most 100 IDs per call, so the floor is ceil(250/100) = 3 calls of the action, at
Tencent's 10/s for write actions. Between operations the harness waits (SDK polling, not timed) until every
instance has reached the target state and no operation is in progress, so each call starts from a settled
fleet; the emulator's transition times are shortened for that.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict

from bench import plan as p
from bench.context import RunContext
from bench.direct_sdk import page_round_trip_s, wait_until_settled
from bench.report import Section, ratio, secs
from bench.service_calls import ServiceClient
from bench.step import burst_floor_seconds, floor_seconds, measure_step

TRANSITION_S = 0.2
OPERATING_LINGER_S = 0.05

OPERATIONS: tuple[tuple[str, str, set[str]], ...] = (
    ("turn_off", "StopInstances", {"STOPPED"}),
    ("turn_on", "StartInstances", {"RUNNING"}),
    ("delete", "TerminateInstances", set()),  # empty: wait until the instances are gone
)

COLUMNS = [
    "operation",
    "IDs",
    "wall",
    "floor time",
    "wall/floor",
    "floor from idle",
    "Tencent calls",
    "floor calls",
    "throttled",
    "server metrics",
    "settled after",
    "result",
]


def run(ctx: RunContext) -> list[Section]:
    section = Section("d", "Batch operations over many IDs (native gRPC, one call each)", COLUMNS)
    server = ctx.limited.server
    if server is None:
        section.error = f"server not running: {ctx.limited.problem}"
        return [section]
    cluster = ctx.plan.batch
    ids = ctx.seeded[cluster.account.secret_id]
    ctx.control.set_config(TransitionSeconds=TRANSITION_S, OperatingLingerSeconds=OPERATING_LINGER_S)
    rtt = page_round_trip_s(ctx.emulator_endpoint, cluster.account)
    floor_calls = math.ceil(len(ids) / p.TENCENT_PAGE_LIMIT)
    floor_s = floor_seconds(floor_calls, rtt, p.WRITE_RATE_PER_S, min_round_trips=1)
    idle_floor_s = burst_floor_seconds(floor_calls, rtt, p.WRITE_RATE_PER_S, min_round_trips=1)
    client = ServiceClient(server.port)
    try:
        for name, action, target in OPERATIONS:
            time.sleep(1.0)
            operation = functools.partial(getattr(client, name), cluster, ids)
            step = measure_step(ctx, cluster.account.secret_id, operation, stack=ctx.limited)
            settled = "n/a"
            if step.error is None:
                try:
                    waited = wait_until_settled(ctx.emulator_endpoint, cluster.account, ids, target)
                    settled = secs(waited)
                except TimeoutError as exc:
                    settled = str(exc)
            calls = ", ".join(f"{a} {n}" for a, n in step.calls.items()) or "0"
            section.rows.append(
                [
                    name,
                    str(len(ids)),
                    secs(step.wall_s),
                    secs(floor_s),
                    ratio(step.wall_s / floor_s),
                    secs(idle_floor_s),
                    calls,
                    f"{floor_calls} {action}",
                    str(step.throttled),
                    step.server_summary,
                    settled,
                    "ok" if step.error is None else f"error: {step.error}",
                ]
            )
            section.data[name] = {
                "wall_s": step.wall_s,
                "calls": step.calls,
                "throttled": step.throttled,
                "server": asdict(step.server) if step.server else None,
                "settled": settled,
                "error": step.error,
            }
            if step.error is not None:
                break  # the next operation would start from an unknown state
    finally:
        client.close()
    section.data.update(
        {
            "floor_calls": floor_calls,
            "floor_s": floor_s,
            "floor_from_idle_s": idle_floor_s,
            "round_trip_s": rtt,
        }
    )
    section.notes += [
        f"{len(ids)} RUNNING instances seeded in a fresh account; emulator transitions {TRANSITION_S} s "
        f"(OPERATING lingers {OPERATING_LINGER_S} s). 'settled after': time until the emulator shows every "
        "instance in the target state (or gone) with no operation in progress, polled with the SDK after "
        "the call returned; not part of 'wall'.",
        f"Floor: ceil({len(ids)}/100) = {floor_calls} calls at {p.WRITE_RATE_PER_S:.0f}/s, and at least one "
        f"round trip ({rtt * 1000:.0f} ms, one DescribeInstances page measured with the SDK). From idle "
        f"buckets ({p.WRITE_RATE_PER_S:.0f} calls at once) the {floor_calls} calls can all go in one "
        "round trip.",
    ]
    return [section]
