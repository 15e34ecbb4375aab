"""Wiring: settings -> a ready (not yet started) grpc server. The one place that knows every part.

interceptors: ObservabilityInterceptor (outermost: request id, RPC metrics, access log)
              -> AuthInterceptor (caller identity; health and reflection exempt)
services:     ComputeService (servicer -> use cases -> TencentGateway -> SDK clients)
              grpc.health.v1.Health (SERVING for "" and the compute service)
              server reflection (grpcurl can list and call every method)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from tencent.compute.v1 import compute_pb2, compute_pb2_grpc

from server.compute.cache_settings import CacheSettings
from server.compute.catalog import PlacementCatalog
from server.compute.enrichment import Enricher, NameSource
from server.compute.listing import InstanceLister
from server.compute.name_cache import CachedNames
from server.compute.snapshot import ListingSnapshots
from server.config import Settings
from server.observability.interceptor import ObservabilityInterceptor, ResponseFirstExecutor
from server.observability.metrics import Metrics, MetricsServer, start_metrics_server
from server.observability.settings import ObservabilitySettings
from server.registry import ClusterRegistry
from server.security.auth import AuthInterceptor, warn_if_insecure
from server.security.settings import AuthSettings
from server.store import StoreCallAudit, StoreSettings, open_store
from server.tencent.clients import ClientPool
from server.tencent.gateway import MutationListener, TencentGateway
from server.tencent.ratelimit import LimitSettings, RateLimiter
from server.tencent.retry import RetryPolicy, RetrySettings
from server.transport.access import CallerTenantAccess
from server.transport.servicer import ComputeServicer, catalog_validation_context

log = logging.getLogger(__name__)

SERVICE_NAME: str = compute_pb2.DESCRIPTOR.services_by_name["ComputeService"].full_name


@dataclass
class App:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    metrics: Metrics
    metrics_server: MetricsServer | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def start(self) -> None:
        self.server.start()

    def stop(self, grace: float | None) -> None:
        """Graceful stop: health says NOT_SERVING, new RPCs are refused, in-flight ones get `grace` seconds
        to finish; then the side servers and the store close. Blocks until done."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        for close in reversed(self._closers):
            close()


def build_name_source(settings: Settings, gateway: TencentGateway, metrics: Metrics) -> NameSource:
    """Family and VPC names for list and inspect: the Enricher behind per-(account, region) TTL caches
    ([cache] family_names_ttl_seconds, vpc_names_ttl_seconds; server/compute/name_cache.py)."""
    cache: CacheSettings = settings.subsystem("cache")
    return CachedNames(
        Enricher(gateway),
        family_ttl_seconds=cache.family_names_ttl_seconds,
        vpc_ttl_seconds=cache.vpc_names_ttl_seconds,
        observer=metrics,
    )


def build_listing_scan(
    settings: Settings, lister: InstanceLister, metrics: Metrics
) -> tuple[Callable[..., Any] | None, Sequence[MutationListener]]:
    """The listing snapshot around `lister.scan_all` ([cache] snapshot_ttl_seconds; 0 = off, the direct
    scan) and its invalidation after every mutating call (server/compute/snapshot.py).
    Returns (scan or None for the direct one, mutation listeners)."""
    cache: CacheSettings = settings.subsystem("cache")
    if cache.snapshot_ttl_seconds <= 0:
        return None, ()
    snapshots = ListingSnapshots(lister.scan_all, cache.snapshot_ttl_seconds, observer=metrics)
    return snapshots.scan, (snapshots.invalidate,)


def build_validation_context(
    settings: Settings, gateway: TencentGateway, metrics: Metrics
) -> Callable[[Any, Any], Any]:
    """What validation needs from Tencent (the Region exists, the zone is one of its zones, the
    image's platform picks the password rule), from DescribeZones / DescribeImages cached per cluster and
    region (server/compute/catalog.py). Returns the servicer's `validation_context` source."""
    return catalog_validation_context(PlacementCatalog(gateway, observer=metrics))


def create_app(settings: Settings) -> App:
    auth_settings: AuthSettings = settings.subsystem("auth")
    limit_settings: LimitSettings = settings.subsystem("limits")
    retry_settings: RetrySettings = settings.subsystem("retry")
    observability: ObservabilitySettings = settings.subsystem("observability")
    store_settings: StoreSettings = settings.subsystem("store")

    metrics = Metrics()
    warn_if_insecure(auth_settings, log)
    store = open_store(store_settings)  # idempotency keys and the audit trail

    gateway = TencentGateway(
        ClientPool(pool_size=settings.server.max_workers),
        limiter=RateLimiter.from_settings(limit_settings),
        retry=RetryPolicy.from_settings(
            retry_settings, on_retry=metrics.on_retry, on_give_up=metrics.on_give_up
        ),
        observer=metrics,
        audit=StoreCallAudit(store),
    )
    names = build_name_source(settings, gateway, metrics)
    lister = InstanceLister(gateway, names)
    scan, snapshot_listeners = build_listing_scan(settings, lister, metrics)
    if scan is not None:
        lister.scan = scan
    for listener in snapshot_listeners:
        gateway.add_mutation_listener(listener)

    servicer = ComputeServicer(
        cloud=gateway,
        registry=ClusterRegistry(settings.clusters),
        names=names,
        lister=lister,
        default_deadline_seconds=retry_settings.default_deadline_seconds,
        tenant_access=CallerTenantAccess(),
        store=store,
        validation_context=build_validation_context(settings, gateway, metrics),
    )

    server = grpc.server(
        # A ThreadPoolExecutor that writes the access-log line after the response (interceptor.py).
        ResponseFirstExecutor(max_workers=settings.server.max_workers, thread_name_prefix="rpc"),
        interceptors=[ObservabilityInterceptor(metrics), AuthInterceptor(auth_settings)],
        # A port in use must fail loudly, not be shared. Other channel arguments (optimization target,
        # BDP probing) made no measurable difference to latency (docs/performance.md).
        options=[("grpc.so_reuseport", 0)],
    )
    compute_pb2_grpc.add_ComputeServiceServicer_to_server(servicer, server)

    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

    port = server.add_insecure_port(settings.server.address)
    if port == 0:
        raise OSError(f"cannot listen on {settings.server.address}")

    app = App(server=server, port=port, health=health_servicer, metrics=metrics)
    if observability.metrics_enabled:
        app.metrics_server, metrics_port = start_metrics_server(
            observability.metrics_host, observability.metrics_port, metrics.registry
        )
        log.info("metrics on http://%s:%d/metrics", observability.metrics_host, metrics_port)
    app._closers.append(store.close)
    return app
