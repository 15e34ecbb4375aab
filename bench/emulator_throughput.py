"""DescribeInstances (Limit 100) throughput and latency against the emulator, with the real SDK.

    .venv/bin/python bench/emulator_throughput.py [--threads 8] [--duration 10] [--endpoint 127.0.0.1:9000]

Without --endpoint it starts its own emulator (`python -m emulator --port 0`). It adds a fresh account,
seeds it with instances so that every page is a full 100, switches throttling off, then calls
DescribeInstances from N threads (one SDK client, hence one keep-alive connection, per thread) and
prints calls per second, latency percentiles and the emulator's own counters.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.support.emulator import EmulatorProcess, attach, cvm_client, start_emulator

BENCH_SECRET_ID = "AKIDBENCHTHROUGHPUT"
BENCH_SECRET_KEY = "bench-throughput-secret"
REGION = "ap-guangzhou"


@contextlib.contextmanager
def emulator_at(endpoint: str | None) -> Iterator[EmulatorProcess]:
    if endpoint is None:
        with start_emulator() as running:
            yield running
        return
    yield attach(endpoint)


class Run:
    """What the threads share: the start signal, the deadline and what they measured."""

    def __init__(self, threads: int) -> None:
        self.ready = threading.Barrier(threads + 1)
        self.go = threading.Event()
        self.deadline = 0.0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []


def worker(endpoint: str, limit: int, instances: int, run: Run) -> None:
    client = cvm_client(endpoint, BENCH_SECRET_ID, BENCH_SECRET_KEY, REGION)
    request = cvm_models.DescribeInstancesRequest()
    request.Limit = limit
    offsets = list(range(0, max(instances - limit, 0) + 1, limit))
    client.DescribeInstances(request)  # warm up: opens this thread's keep-alive connection
    run.ready.wait()
    run.go.wait()
    latencies: list[float] = []
    errors: list[str] = []
    index = 0
    while time.perf_counter() < run.deadline:
        request.Offset = offsets[index % len(offsets)]
        index += 1
        began = time.perf_counter()
        try:
            reply = client.DescribeInstances(request)
        except Exception as error:
            errors.append(repr(error))
            continue
        latencies.append(time.perf_counter() - began)
        if len(reply.InstanceSet) != limit:
            errors.append(f"short page: {len(reply.InstanceSet)}")
    with run.lock:
        run.latencies.extend(latencies)
        run.errors.extend(errors)


def process_cpu_seconds(emulator: EmulatorProcess) -> float | None:
    """User+system CPU seconds of an emulator process we started (Linux /proc), else None."""
    if emulator.process is None:
        return None
    try:
        fields = Path(f"/proc/{emulator.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measurement")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--instances", type=int, default=1000, help="instances seeded into the bench account")
    parser.add_argument("--endpoint", help="an emulator already running (default: start one)")
    args = parser.parse_args()

    with emulator_at(args.endpoint) as emulator:
        status, _ = emulator.control_raw(
            "POST", "/_emulator/accounts", {"SecretId": BENCH_SECRET_ID, "SecretKey": BENCH_SECRET_KEY}
        )
        if status == 200:
            emulator.seed(args.instances, secret_id=BENCH_SECRET_ID, region=REGION, NamePrefix="bench")
        emulator.set_throttle(False)
        emulator.reset_counters()

        run = Run(args.threads)
        threads = [
            threading.Thread(
                target=worker, args=(emulator.endpoint, args.limit, args.instances, run), daemon=True
            )
            for _ in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        run.ready.wait()  # every thread has its connection open
        cpu_before = process_cpu_seconds(emulator)
        began = time.perf_counter()
        run.deadline = began + args.duration
        run.go.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        cpu_after = process_cpu_seconds(emulator)
        counters = emulator.counters()
        emulator.set_throttle(True)

    latencies = sorted(run.latencies)
    errors = run.errors
    calls = len(latencies)
    result = {
        "threads": args.threads,
        "limit": args.limit,
        "seconds": round(elapsed, 2),
        "calls": calls,
        "errors": len(errors),
        "calls_per_second": round(calls / elapsed, 1),
        "instances_per_second": round(calls * args.limit / elapsed),
        "latency_ms": {
            "p50": round(1000 * latencies[calls // 2], 2),
            "p90": round(1000 * latencies[int(calls * 0.90)], 2),
            "p99": round(1000 * latencies[int(calls * 0.99)], 2),
            "max": round(1000 * latencies[-1], 2),
            "mean": round(1000 * statistics.fmean(latencies), 2),
        },
        "emulator": {
            "connections_accepted": counters["ConnectionsAccepted"],
            "peak_concurrent_requests": counters["PeakConcurrentRequests"],
            # The emulator's own CPU time per call: what it costs, apart from the client's share.
            "cpu_ms_per_call": (
                None
                if cpu_before is None or cpu_after is None or not calls
                else round(1000 * (cpu_after - cpu_before) / calls, 2)
            ),
        },
    }
    print(json.dumps(result, indent=2))
    if errors:
        print(f"first errors: {errors[:3]}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
