"""Prometheus metrics of the compute service, and the HTTP endpoint that serves them.

One `Metrics` object holds every metric of one server, registered on its own `CollectorRegistry` (never the
process-global default), so tests can run several servers in one process without name clashes. Call sites
use the small `record_*` / `rpc_*` methods: one line each, label values normalised in one place.

The metric names, labels and meanings are listed in docs/observability.md; keep the two in step.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer

NAMESPACE = "compute"
METRICS_PATH = "/metrics"

# Latency buckets from 0.5 ms (an in-process cache hit) to 60 s (a full fleet listing under rate limits).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)

# Label value for a Tencent call that succeeded (an empty label value is indistinguishable from a missing
# label in PromQL, so success gets an explicit value).
TENCENT_OK = "OK"
UNKNOWN_METHOD = "unknown"  # label for RPCs to a method the server does not implement (bounded cardinality)
_MAX_LABEL_LENGTH = 120  # label values come partly from outside (error codes); keep them bounded


def _label(value: str | None, empty: str) -> str:
    if not value:
        return empty
    return value[:_MAX_LABEL_LENGTH]


class Metrics:
    """All metrics of one server. Thread-safe (prometheus_client metrics are)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, process_metrics: bool = True) -> None:
        """`registry`: where to register; a fresh one when None. `process_metrics`: also export the
        process's memory/CPU/file descriptors (`process_*`) and Python runtime (`python_*`) metrics."""
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry

        self.rpc_requests = Counter(
            "rpc_requests",
            "RPCs handled, by full gRPC method and final status code.",
            ["method", "code"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.rpc_duration = Histogram(
            "rpc_duration_seconds",
            "Time from the server receiving an RPC to its handler finishing, by method.",
            ["method"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rpc_in_flight = Gauge(
            "rpc_in_flight",
            "RPCs being handled right now, by method.",
            ["method"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.tencent_calls = Counter(
            "tencent_calls",
            "Tencent Cloud API calls (each attempt, retries included), by action and error code ('OK').",
            ["action", "error_code"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.tencent_call_duration = Histogram(
            "tencent_call_duration_seconds",
            "Duration of one Tencent Cloud API attempt, by action.",
            ["action"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tencent_retries = Counter(
            "tencent_retries",
            "Tencent Cloud API attempts that were retried, by action and reason.",
            ["action", "reason"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.tencent_retry_give_ups = Counter(
            "tencent_retry_give_ups",
            "Retryable Tencent failures finally returned to the caller, by action and why retrying stopped"
            " ('attempts' or 'deadline').",
            ["action", "why"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.ratelimit_wait = Histogram(
            "ratelimit_wait_seconds",
            "Time spent waiting for a rate-limiter token before a Tencent call, by action.",
            ["action"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ratelimit_timeouts = Counter(
            "ratelimit_timeouts",
            "Tencent calls given up because no rate-limiter token could come before the deadline.",
            ["action"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.cache_lookups = Counter(
            "cache_lookups",
            "Cache lookups by cache name and result (hit or miss).",
            ["cache", "result"],
            namespace=NAMESPACE,
            registry=r,
        )
        if process_metrics:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)
        # `labels()` normalises and locks on every call (a few µs, several times per RPC): the children of
        # each label combination are looked up once and kept. Prometheus keeps every child it has created
        # anyway, so these dicts hold no series that the metrics do not already hold.
        self._rpc_children: dict[str, tuple[Any, Any]] = {}  # method -> (in flight, duration)
        self._request_children: dict[tuple[str, str], Any] = {}  # (method, code) -> counter
        self._tencent_children: dict[tuple[str, str], tuple[Any, Any]] = {}  # (action, code)
        self._wait_children: dict[str, Any] = {}  # action -> limiter wait histogram
        self._cache_children: dict[tuple[str, bool], Any] = {}  # (cache, hit) -> counter

    # --- RPCs (called by the observability interceptor) -------------------------------------------------

    def rpc_started(self, method: str) -> None:
        self._rpc_of(method)[0].inc()

    def rpc_finished(self, method: str, code: str, seconds: float) -> None:
        """`code`: the gRPC status code name, e.g. "OK", "NOT_FOUND"."""
        in_flight, duration = self._rpc_of(method)
        in_flight.dec()
        requests = self._request_children.get((method, code))
        if requests is None:
            requests = self._request_children.setdefault(
                (method, code), self.rpc_requests.labels(_label(method, UNKNOWN_METHOD), code)
            )
        requests.inc()
        duration.observe(seconds)

    def _rpc_of(self, method: str) -> tuple[Any, Any]:
        """The in-flight gauge and duration histogram children of `method` (a served method: bounded)."""
        children = self._rpc_children.get(method)
        if children is None:
            label = _label(method, UNKNOWN_METHOD)
            children = self._rpc_children.setdefault(
                method, (self.rpc_in_flight.labels(label), self.rpc_duration.labels(label))
            )
        return children

    def record_unknown_method(self) -> None:
        """An RPC to a method no handler serves: counted under one label so callers cannot create series."""
        self.rpc_requests.labels(UNKNOWN_METHOD, "UNIMPLEMENTED").inc()

    # --- Tencent calls (called by the gateway) ---------------------------------------------------------

    def record_tencent_call(self, action: str, error_code: str | None, seconds: float) -> None:
        """One attempt at a Tencent API action. `error_code`: Tencent's code (e.g.
        "RequestLimitExceeded", or the SDK's "ClientNetworkError"); "" or None for success."""
        key = (action, _label(error_code, TENCENT_OK))
        children = self._tencent_children.get(key)
        if children is None:
            children = self._tencent_children.setdefault(
                key, (self.tencent_calls.labels(*key), self.tencent_call_duration.labels(action))
            )
        children[0].inc()
        children[1].observe(seconds)

    def record_retry(self, action: str, reason: str) -> None:
        """A retry is about to happen. `reason`: the error code or a short word ("timeout", "http_502")."""
        self.tencent_retries.labels(action, _label(reason, "unknown")).inc()

    def record_retry_give_up(self, action: str, why: str) -> None:
        """Retrying stopped with the error still there. `why`: "attempts" or "deadline"."""
        self.tencent_retry_give_ups.labels(action, _label(why, "unknown")).inc()

    # Adapters with the hook signatures of server/tencent/retry.py `RetryPolicy(on_retry=, on_give_up=)`.

    def on_retry(self, action: str, reason: str, delay: float) -> None:
        self.record_retry(action, reason)

    def on_give_up(self, action: str, reason: str, why: str, attempts: int) -> None:
        self.record_retry_give_up(action, why)

    def record_ratelimit_wait(self, action: str, seconds: float) -> None:
        """Seconds the limiter made a call wait (record 0.0 too: the count is then the number of acquires)."""
        child = self._wait_children.get(action)
        if child is None:
            child = self._wait_children.setdefault(action, self.ratelimit_wait.labels(action))
        child.observe(seconds)

    def record_ratelimit_timeout(self, action: str) -> None:
        self.ratelimit_timeouts.labels(action).inc()

    # --- caches ----------------------------------------------------------------------------------------

    def record_cache(self, name: str, hit: bool) -> None:
        """One lookup in cache `name`: "snapshot" (listing), "vpc_names", "instance_families" (name caches),
        "region_zones" or "image_platforms" (validation catalog)."""
        child = self._cache_children.get((name, hit))
        if child is None:
            child = self._cache_children.setdefault(
                (name, hit), self.cache_lookups.labels(name, "hit" if hit else "miss")
            )
        child.inc()


# --- the /metrics endpoint -------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """No access line on stderr for every scrape."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class MetricsServer:
    """A running /metrics endpoint. `stop()` closes the socket and joins the serving thread."""

    httpd: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _only_metrics_path(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found; metrics are at /metrics\n"]
        return app(environ, start_response)

    return serve


def start_metrics_server(
    host: str = "127.0.0.1", port: int = 9464, registry: CollectorRegistry | None = None
) -> tuple[MetricsServer, int]:
    """Serve `registry` at http://host:port/metrics (Prometheus text format; OpenMetrics when the scraper
    asks for it) from a daemon thread, one thread per request. `port` 0 picks a free port: the real one is
    returned. Any other path is 404. Stop with `server.stop()`."""
    app = _only_metrics_path(make_wsgi_app(registry if registry is not None else CollectorRegistry()))

    # WSGIServer binds IPv4 only; pick the family from the host so "::1" works too.
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]

    class _Server(ThreadingWSGIServer):
        address_family = family

    httpd = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    # A short poll interval only makes stop() quick (shutdown waits for the loop's next poll).
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="metrics-http", daemon=True
    )
    thread.start()
    server = MetricsServer(httpd=httpd, thread=thread)
    return server, server.port
