"""A compute server variant for measuring the concurrency model (tests/speed/measure_concurrency.py).

    python -m tests.speed.probe_server --config FILE --mode sync|aio --workers N

Both modes serve the production `ComputeServicer`, wired exactly as `server.app.create_app` wires it (the
servicer is taken from there), without the server interceptors (they exist for the threaded server only):
- `sync`: grpcio's threaded server, N worker threads (what `python -m server` runs, minus interceptors);
- `aio`:  grpc.aio on an event loop; each call's servicer method (synchronous, like the Tencent SDK under
  it) runs in a pool of N threads through `run_in_executor`.
Only the success path is served faithfully (errors would need the aio context's async abort); the probe only
makes calls that succeed. Prints `probe server listening on 127.0.0.1:<port>` once ready. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from tencent.compute.v1 import compute_pb2_grpc

from server.app import create_app
from server.config import load_settings
from server.observability.logs import configure_logging
from server.security.caller import ANONYMOUS, caller_context


def production_servicer(config: Path) -> Any:
    """The servicer `create_app` builds for this config (gateway, limiter, caches, validation, store)."""
    captured: list[Any] = []
    register = compute_pb2_grpc.add_ComputeServiceServicer_to_server

    def capture(servicer: Any, server: Any) -> None:
        captured.append(servicer)
        register(servicer, server)

    compute_pb2_grpc.add_ComputeServiceServicer_to_server = capture
    try:
        create_app(load_settings(config).with_port(0))  # built, never started
    finally:
        compute_pb2_grpc.add_ComputeServiceServicer_to_server = register
    return captured[0]


class _Anonymous(compute_pb2_grpc.ComputeServiceServicer):
    """The production servicer's inspect and list as auth mode "none" lets them run: the caller the auth
    interceptor would set (ANONYMOUS, any tenant), set here since the probe runs no interceptors."""

    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer

    def Inspect(self, request: Any, context: Any) -> Any:
        with caller_context(ANONYMOUS):
            return self._servicer.Inspect(request, context)

    def List(self, request: Any, context: Any) -> Any:
        with caller_context(ANONYMOUS):
            return self._servicer.List(request, context)


def serve_sync(servicer: Any, workers: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=[("grpc.so_reuseport", 0)])
    compute_pb2_grpc.add_ComputeServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"probe server listening on 127.0.0.1:{port}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    while not stop.wait(1.0):
        pass
    server.stop(1).wait()


class _AioServicer(compute_pb2_grpc.ComputeServiceServicer):
    """Each RPC awaits the production servicer's method running in the thread pool."""

    def __init__(self, servicer: Any, pool: futures.ThreadPoolExecutor) -> None:
        self._servicer = servicer
        self._pool = pool

    async def _offload(self, method: Callable[[Any, Any], Any], request: Any, context: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, method, request, context)

    async def Inspect(self, request: Any, context: Any) -> Any:
        return await self._offload(self._servicer.Inspect, request, context)

    async def List(self, request: Any, context: Any) -> Any:
        return await self._offload(self._servicer.List, request, context)


async def serve_aio(servicer: Any, workers: int) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    pool = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aio-offload")
    compute_pb2_grpc.add_ComputeServiceServicer_to_server(_AioServicer(servicer, pool), server)  # type: ignore[abstract]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"probe server listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop(1)
    pool.shutdown(wait=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.speed.probe_server", description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--mode", choices=("sync", "aio"), required=True)
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    servicer = _Anonymous(production_servicer(args.config))  # type: ignore[abstract]
    if args.mode == "sync":
        serve_sync(servicer, args.workers)
    else:
        asyncio.run(serve_aio(servicer, args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
