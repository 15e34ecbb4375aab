"""Measure how many page fetches a full listing should run side by side (InstanceLister page_workers).

    .venv/bin/python -m tests.speed.measure_page_workers [--sizes 5000,20000] [--workers 1,4,8,16,32]
        [--latency-ms 30,200] [--repeat 2]

In process, no gRPC: the production gateway (rate limiter at Tencent's rates, retry policy, SDK client pool)
and `InstanceLister.scan_all` against a private emulator with Tencent's throttling on and `--latency-ms` per
call. Each scan starts from idle token buckets (a pause of 1.5 s between scans) on an account of its own
size. Reports wall time against the floor the benchmark uses: 2 round trips + (calls - 40) / 40 s from idle
buckets, and calls / 40 s sustained. Not a test: it times.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from server.compute.enrichment import Enricher
from server.compute.listing import InstanceLister
from server.compute.ports import Scope
from server.config import ClusterConfig, Credentials
from server.tencent.clients import ClientPool
from server.tencent.gateway import TencentGateway
from server.tencent.ratelimit import LimitSettings, RateLimiter
from server.tencent.retry import RetryPolicy, RetrySettings
from tests.support.emulator import start_emulator

RATE = 40.0  # DescribeInstances per second per account
REGION = "ap-guangzhou"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.speed.measure_page_workers", description=__doc__)
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument("--workers", default="1,4,8,16,32")
    parser.add_argument("--latency-ms", default="30,200")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    print(
        "| N | latency | page workers | wall (best of runs) | floor from idle | sustained floor | retries |"
    )
    print("|---|---|---|---|---|---|---|")
    retries: list[str] = []  # every retry the policy made (a throttled call, mostly)
    with start_emulator("--log-level", "WARNING") as emulator:
        for size in [int(n) for n in args.sizes.split(",")]:
            secret_id, secret_key = f"AKIDPAGES{size}", f"pages-{size}-secret"
            emulator.control("POST", "/_emulator/accounts", {"SecretId": secret_id, "SecretKey": secret_key})
            for start in range(0, size, 5000):
                emulator.seed(min(5000, size - start), secret_id=secret_id, NamePrefix="pages")
            cluster = ClusterConfig(
                "measure", frozenset({"t"}), Credentials(secret_id, secret_key), emulator.endpoint
            )
            calls = math.ceil(size / 100)
            for latency in [int(n) for n in args.latency_ms.split(",")]:
                emulator.clear_faults()
                emulator.add_fault(Action="*", LatencyMs=latency)
                rtt = latency / 1000 + 0.005
                idle_floor = 2 * rtt + max(0.0, calls - RATE) / RATE
                for workers in [int(n) for n in args.workers.split(",")]:
                    retries_before = len(retries)
                    gateway = TencentGateway(
                        ClientPool(pool_size=32),
                        limiter=RateLimiter.from_settings(LimitSettings()),
                        retry=RetryPolicy.from_settings(
                            RetrySettings(), on_retry=lambda action, reason, _d: retries.append(reason)
                        ),
                    )
                    lister = InstanceLister(gateway, Enricher(gateway), page_workers=workers)
                    best = math.inf
                    for _ in range(args.repeat):
                        time.sleep(1.5)  # both token buckets (server, emulator) refill
                        scope = Scope(cluster, REGION, "t", deadline=time.monotonic() + 120)
                        t0 = time.perf_counter()
                        found = len(lister.scan_all(scope))
                        best = min(best, time.perf_counter() - t0)
                        assert found == size, found
                    print(
                        f"| {size:,} | {latency} ms | {workers} | {best:.2f} s | {idle_floor:.2f} s | "
                        f"{calls / RATE:.2f} s | {len(retries) - retries_before} |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
