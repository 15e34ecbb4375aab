"""Run independent Tencent calls of one request side by side (e.g. the remaining pages of a listing).

Each task runs in a copy of the caller's context, so context variables (request id for logs, the caller
identity) follow the work into the pool's threads. Concurrency stays bounded here and, across requests,
by the rate limiter in the gateway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from server.observability.logs import with_current_context

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_WORKERS = 8


def map_concurrently(
    fn: Callable[[T], R], items: Sequence[T], max_workers: int = DEFAULT_MAX_WORKERS
) -> list[R]:
    """[fn(item) for item in items], results in input order; the first exception is re-raised."""
    if len(items) <= 1 or max_workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="fan-out") as pool:
        task = with_current_context(fn)
        futures = [pool.submit(task, item) for item in items]
        return [future.result() for future in futures]
