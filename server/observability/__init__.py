"""Observability of the compute service: Prometheus metrics, structured JSON logs with a request ID, the
server interceptor that ties them to RPCs, and the trace header sent to Tencent. See docs/observability.md."""

from server.observability.interceptor import (
    REQUEST_ID_METADATA_KEY,
    ObservabilityInterceptor,
    request_id_for_context,
)
from server.observability.logs import (
    bind_request_id,
    configure_logging,
    current_request_id,
    register_secret,
    with_current_context,
)
from server.observability.metrics import Metrics, MetricsServer, start_metrics_server
from server.observability.settings import ObservabilitySettings
from server.observability.tracing import TRACE_HEADER, trace_headers

__all__ = [
    "REQUEST_ID_METADATA_KEY",
    "TRACE_HEADER",
    "Metrics",
    "MetricsServer",
    "ObservabilityInterceptor",
    "ObservabilitySettings",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "register_secret",
    "request_id_for_context",
    "start_metrics_server",
    "trace_headers",
    "with_current_context",
]
