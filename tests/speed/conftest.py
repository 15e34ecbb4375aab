"""Fixtures for the speed tests: a private server with the listing snapshot ON (the session's server keeps
it off, the default), started per test so no snapshot outlives the emulator state it was taken from."""

from __future__ import annotations

import contextlib
import math
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.server import DEMO_SECRET_ID, DEMO_SECRET_KEY, ServerProcess, start_server

REGION = "ap-guangzhou"
PAGE_LIMIT = 100  # Tencent's DescribeInstances page size
SNAPSHOT_TTL_SECONDS = 60  # far longer than any test: a test never sees a snapshot expire unless it means to
METRICS_LINE = re.compile(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")


@dataclass(frozen=True)
class ExtraCluster:
    """A cluster added to the test registry (the demo account unless told otherwise)."""

    uuid: str
    tenants: tuple[str, ...]
    secret_id: str = DEMO_SECRET_ID
    secret_key: str = DEMO_SECRET_KEY

    def toml(self, endpoint: str) -> str:
        tenants = ", ".join(f'"{tenant}"' for tenant in self.tenants)
        return f"""
[[clusters]]
uuid = "{self.uuid}"
tenants = [{tenants}]
endpoint = "{endpoint}"
[clusters.credentials]
secret_id = "{self.secret_id}"
secret_key = "{self.secret_key}"
"""


def cache_toml(snapshot_ttl: float, **other_ttls: float) -> str:
    lines = [
        f"{name} = {value}" for name, value in {"snapshot_ttl_seconds": snapshot_ttl, **other_ttls}.items()
    ]
    return "\n[cache]\n" + "\n".join(lines) + "\n"


@contextlib.contextmanager
def snapshot_server(
    emulator: Any,
    *,
    snapshot_ttl: float = SNAPSHOT_TTL_SECONDS,
    clusters: tuple[ExtraCluster, ...] = (),
    **other_ttls: float,
) -> Iterator[ServerProcess]:
    """A private server on `emulator` with the snapshot on (`snapshot_ttl` seconds), other `[cache]` keys
    as given (e.g. vpc_names_ttl_seconds=0) and `clusters` added to the registry."""
    extra = cache_toml(snapshot_ttl, **other_ttls)
    extra += "".join(cluster.toml(emulator.endpoint) for cluster in clusters)
    with start_server(emulator.endpoint, extra_toml=extra) as server:
        yield server


@pytest.fixture
def quiet_cloud(fresh_emulator: Any) -> Iterator[Any]:
    """The session's emulator reset to its fixtures with throttling OFF, so every call the counters show is
    one the service chose to make (no RequestLimitExceeded retries). The server's own limiter still paces
    its calls to Tencent's rates. Reset again afterwards: throttling back on, faults (latency) cleared."""
    fresh_emulator.set_throttle(False)
    fresh_emulator.reset_counters()
    try:
        yield fresh_emulator
    finally:
        fresh_emulator.reset()


@pytest.fixture
def server_factory(quiet_cloud: Any) -> Iterator[Callable[..., ServerProcess]]:
    """`server_factory(snapshot_ttl=..., clusters=...)`: start a snapshot server; all stop after the test."""
    with contextlib.ExitStack() as stack:

        def start(**options: Any) -> ServerProcess:
            return stack.enter_context(snapshot_server(quiet_cloud, **options))

        yield start


class CallCounter:
    """Tencent calls per action made by one account, since `mark()`."""

    def __init__(self, emulator: Any, secret_id: str = DEMO_SECRET_ID) -> None:
        self._emulator = emulator
        self._secret_id = secret_id
        self._base: dict[str, int] = {}
        self.mark()

    def _now(self) -> dict[str, int]:
        calls = self._emulator.counters()["Calls"].get(self._secret_id, {})
        return {action: int(n) for action, n in calls.items()}

    def mark(self) -> None:
        self._base = self._now()

    def since_mark(self) -> dict[str, int]:
        now = self._now()
        return {
            action: n - self._base.get(action, 0)
            for action, n in now.items()
            if n - self._base.get(action, 0)
        }

    def __call__(self, action: str) -> int:
        return self.since_mark().get(action, 0)


def pages_for(count: int) -> int:
    return math.ceil(count / PAGE_LIMIT)


def instance_count(emulator: Any, secret_id: str = DEMO_SECRET_ID, region: str = REGION) -> int:
    return int(emulator.counters()["Instances"].get(secret_id, {}).get(region, 0))


def metrics_text(server: ServerProcess, timeout: float = 10.0) -> str:
    """The server's /metrics page (its port is free-picked and logged at start)."""
    deadline = time.monotonic() + timeout
    while (match := METRICS_LINE.search(server.log_text())) is None:
        if time.monotonic() > deadline:
            raise AssertionError("the server did not log its metrics address")
        time.sleep(0.05)
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with no_proxy.open(f"http://127.0.0.1:{match.group(1)}/metrics", timeout=10) as reply:
        return str(reply.read().decode("utf-8"))


def cache_lookups(server: ServerProcess, cache: str, result: str) -> float:
    labels = {f'cache="{cache}"', f'result="{result}"'}
    for line in metrics_text(server).splitlines():
        name, _, rest = line.partition("{")
        if name == "compute_cache_lookups_total" and labels <= set(rest.partition("}")[0].split(",")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
