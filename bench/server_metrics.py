"""The server's own Prometheus figures that explain a measurement: time spent waiting on its rate limiter
(per Tencent action), retries, and cache hits and misses. Read from its /metrics port, which the server
picks freely (`metrics_port = 0`) and names in its log."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from bench.processes import ManagedProcess

METRICS_URL = re.compile(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")


def find_metrics_port(server: ManagedProcess, timeout_s: float = 5.0) -> int | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            match = METRICS_URL.search(server.log_path.read_text(errors="replace"))
        except OSError:
            match = None
        if match:
            return int(match.group(1))
        time.sleep(0.1)
    return None


@dataclass
class ServerFigures:
    limiter_wait_s: dict[str, float] = field(default_factory=dict)  # per Tencent action
    retries: float = 0.0
    cache: dict[str, float] = field(default_factory=dict)  # "<cache>:<hit|miss>" -> lookups
    handler_s: float = 0.0  # time inside the server's RPC handlers (rpc_duration_seconds), summed
    rpcs: float = 0.0

    def minus(self, earlier: ServerFigures) -> ServerFigures:
        return ServerFigures(
            _diff(self.limiter_wait_s, earlier.limiter_wait_s),
            self.retries - earlier.retries,
            _diff(self.cache, earlier.cache),
            self.handler_s - earlier.handler_s,
            self.rpcs - earlier.rpcs,
        )

    def summary(self) -> str:
        """One table cell, e.g. 'handler 0.40 s over 1 RPCs; limiter wait 1.20 s summed over calls
        (DescribeInstances 1.20 s); retries 0; cache snapshot:hit 9'."""
        total = sum(self.limiter_wait_s.values())
        by_action = ", ".join(f"{a} {s:.2f} s" for a, s in self.limiter_wait_s.items() if s >= 0.005)
        cache = ", ".join(f"{k} {v:.0f}" for k, v in self.cache.items() if v) or "-"
        handler = f"handler {self.handler_s:.2f} s over {self.rpcs:.0f} RPCs; " if self.rpcs else ""
        return (
            handler
            + f"limiter wait {total:.2f} s summed over calls"
            + (f" ({by_action})" if by_action else "")
            + f"; retries {self.retries:.0f}; cache {cache}"
        )


def _diff(now: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in sorted(now.items()) if v - before.get(k, 0.0)}


def scrape(port: int | None) -> ServerFigures | None:
    if port is None:
        return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return None
    figures = ServerFigures()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("ratelimit_wait_seconds_sum"):
                action = sample.labels.get("action", "?")
                figures.limiter_wait_s[action] = figures.limiter_wait_s.get(action, 0.0) + sample.value
            elif sample.name.endswith("rpc_duration_seconds_sum"):
                figures.handler_s += sample.value
            elif sample.name.endswith("rpc_duration_seconds_count"):
                figures.rpcs += sample.value
            elif sample.name.endswith("tencent_retries_total"):
                figures.retries += sample.value
            elif sample.name.endswith("cache_lookups_total"):
                key = f"{sample.labels.get('cache', '?')}:{sample.labels.get('result', '?')}"
                figures.cache[key] = figures.cache.get(key, 0.0) + sample.value
    return figures
