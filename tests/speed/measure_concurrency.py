"""Measure the server's concurrency model: thread pool sizes, and grpc.aio, under the same load.

    .venv/bin/python -m tests.speed.measure_concurrency [--workers 4,8,16,32,64] [--concurrency 32,64]
        [--seconds 4] [--latency-ms 30] [--modes server,sync,aio] [--rpc inspect|list]

One private emulator (throttling off, `--latency-ms` per Tencent call, like the benchmark's), then for each
mode and pool size a fresh server with its own rate limiter off (so only the stack limits throughput), and a
closed loop of `--concurrency` client threads on one channel calling inspect (one DescribeInstances; the
family names come from the name cache) or list (PageSize 10: one DescribeInstances, cached names) for
`--seconds` after a one-second warm-up. Modes:
- server: `python -m server` itself (threaded grpcio server with its interceptors), [server] max_workers = N;
- sync:   tests/speed/probe_server.py --mode sync: the same servicer, threaded server, no interceptors;
- aio:    tests/speed/probe_server.py --mode aio: the same servicer under grpc.aio, offloaded to N threads;
- sdk:    no server: DescribeInstances with the SDK straight to the emulator (the reference; threads ignored).
Prints a Markdown table (docs/performance.md keeps the figures behind the choice). Not a test: it times.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.support.emulator import common_client, start_emulator
from tests.support.processes import REPO_ROOT
from tests.support.server import (
    DEMO_CLUSTER,
    DEMO_SECRET_ID,
    DEMO_SECRET_KEY,
    DEMO_TENANT,
    server_config_toml,
    start_server,
)

FIXTURE_INSTANCE = "ins-2n9bmcww"
REGION = "ap-guangzhou"
PROBE_PREFIX = "probe server listening on "
ENDPOINT: list[str] = [""]  # the emulator's, once started (for the "sdk" reference rows)


@dataclass
class Row:
    mode: str
    workers: int
    concurrency: int
    ok_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_percent: float


def config_text(endpoint: str, store: Path, workers: int) -> str:
    text = server_config_toml(endpoint, store_path=store, extra_toml="[limits]\nenabled = false\n")
    return text.replace("max_workers = 16", f"max_workers = {workers}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@contextlib.contextmanager
def probe_server(config: Path, mode: str, workers: int) -> Iterator[tuple[int, int]]:
    command = [sys.executable, "-m", "tests.speed.probe_server", "--config", str(config)]
    command += ["--mode", mode, "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.startswith(PROBE_PREFIX):
            raise RuntimeError(f"probe server did not start: {line!r}")
        yield process.pid, int(line.rpartition(":")[2])
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def variant(endpoint: str, mode: str, workers: int) -> Iterator[tuple[int, int]]:
    """(pid, port) of a running server of `mode` with `workers` threads ("sdk": none, (0, 0))."""
    if mode == "sdk":
        yield 0, 0
        return
    with tempfile.TemporaryDirectory(prefix="measure-") as work:
        text = config_text(endpoint, Path(work) / "store.db", workers)
        if mode == "server":
            with start_server(endpoint, config_text=text) as server:
                yield server.process.pid, server.port
        else:
            config = Path(work) / "server.toml"
            config.write_text(text)
            with probe_server(config, mode, workers) as running:
                yield running


def closed_loop(call: Callable[[], Any], concurrency: int, seconds: float) -> tuple[list[float], int]:
    """Latencies (s) of the calls that finished inside the measured window, and the errors in it."""
    start_at = time.monotonic() + 1.0  # warm-up: connections, caches, thread pools
    stop_at = start_at + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        while (now := time.monotonic()) < stop_at:
            try:
                call()
                failed = False
            except (grpc.RpcError, TencentCloudSDKException):
                failed = True
            done = time.monotonic()
            if now >= start_at:
                with lock:
                    if failed:
                        errors[0] += 1
                    else:
                        latencies.append(done - now)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def sdk_call(endpoint: str) -> Callable[[], None]:
    """The reference: the same DescribeInstances with the SDK straight to the emulator, one client per
    thread (an SDK client is not meant to be shared by threads)."""
    local = threading.local()

    def call() -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = common_client(
                endpoint, "cvm", "2017-03-12", DEMO_SECRET_ID, DEMO_SECRET_KEY, REGION
            )
        client.call_json("DescribeInstances", {"InstanceIds": [FIXTURE_INSTANCE]})

    return call


def measure(mode: str, workers: int, port: int, pid: int, rpc: str, concurrency: int, seconds: float) -> Row:
    from tencent.compute.v1 import compute_pb2, compute_pb2_grpc

    if mode == "sdk":
        latencies, errors = closed_loop(sdk_call(ENDPOINT[0]), concurrency, seconds)
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        return Row(mode, 0, concurrency, len(latencies) / seconds, p50, p99, errors, math.nan)
    scope: dict[str, Any] = {"TenantUuid": DEMO_TENANT, "ClusterUuid": DEMO_CLUSTER, "Region": REGION}
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = compute_pb2_grpc.ComputeServiceStub(channel)
    if rpc == "inspect":
        request: Any = compute_pb2.InspectRequest(**scope, InstanceId=FIXTURE_INSTANCE)

        def call() -> None:
            stub.Inspect(request, timeout=30)
    else:
        request = compute_pb2.ListRequest(**scope, PageSize=10)

        def call() -> None:
            stub.List(request, timeout=30)

    cpu_before = cpu_seconds(pid)
    wall_before = time.monotonic()
    latencies, errors = closed_loop(call, concurrency, seconds)
    cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)  # includes the warm-up second
    channel.close()
    ok = len(latencies) / seconds
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    return Row(mode, workers, concurrency, ok, p50, p99, errors, cpu * 100)


def log_row(round_number: int, row: Row) -> None:
    print(
        f"round {round_number} {row.mode:6} workers={row.workers:3} clients={row.concurrency:3} "
        f"{row.ok_per_s:7.1f}/s p50={row.p50_ms:6.1f}ms p99={row.p99_ms:6.1f}ms errors={row.errors} "
        f"server cpu={row.server_cpu_percent:5.1f}%",
        file=sys.stderr,
        flush=True,
    )


def print_table(rows: dict[tuple[str, int, int], list[Row]]) -> None:
    print("| mode | threads | client concurrency | ok/s | ok/s range | p50 | p99 | errors | server CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (mode, workers, concurrency), runs in rows.items():
        ok = [r.ok_per_s for r in runs]
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        cpu = statistics.median(r.server_cpu_percent for r in runs)
        errors = sum(r.errors for r in runs)
        print(
            f"| {mode} | {workers} | {concurrency} | {statistics.median(ok):.0f} | "
            f"{min(ok):.0f}-{max(ok):.0f} | {p50:.1f} ms | {p99:.1f} ms | {errors} | {cpu:.0f}% |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.speed.measure_concurrency", description=__doc__)
    parser.add_argument("--workers", default="4,8,16,32,64")
    parser.add_argument("--concurrency", default="32,64")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--modes", default="server,sync,aio")
    parser.add_argument("--rpc", choices=("inspect", "list"), default="inspect")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every row; the table shows medians")
    args = parser.parse_args(argv)
    pools = [int(n) for n in args.workers.split(",")]
    variants = [(mode, n) for mode in args.modes.split(",") for n in ([0] if mode == "sdk" else pools)]
    loads = [int(n) for n in args.concurrency.split(",")]
    rows: dict[tuple[str, int, int], list[Row]] = {}
    with start_emulator("--no-throttle", "--log-level", "WARNING") as emulator:
        emulator.add_fault(Action="*", LatencyMs=args.latency_ms)
        ENDPOINT[0] = emulator.endpoint
        for round_number in range(1, args.rounds + 1):  # rounds interleave variants: drift hits all alike
            for mode, workers in variants:
                with variant(emulator.endpoint, mode, workers) as (pid, port):
                    for concurrency in loads:
                        row = measure(mode, workers, port, pid, args.rpc, concurrency, args.seconds)
                        rows.setdefault((mode, workers, concurrency), []).append(row)
                        log_row(round_number, row)
    print(
        f"\n{args.rpc}, emulator latency {args.latency_ms} ms, {args.seconds:.0f} s per row, "
        f"{args.rounds} round(s), medians; {os.cpu_count()} CPUs\n"
    )
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
