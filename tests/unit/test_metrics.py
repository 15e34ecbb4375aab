"""Metrics: record functions, independent registries, and the /metrics endpoint over real HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.observability.metrics import LATENCY_BUCKETS, Metrics, MetricsServer, start_metrics_server


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_two_metrics_objects_do_not_share_state() -> None:
    first, second = Metrics(), Metrics()
    first.record_cache("snapshot", hit=True)
    assert value(first, "compute_cache_lookups_total", cache="snapshot", result="hit") == 1
    assert value(second, "compute_cache_lookups_total", cache="snapshot", result="hit") == 0


def test_rpc_counts_latency_and_in_flight() -> None:
    metrics = Metrics()
    method = "/tencent.compute.v1.ComputeService/List"
    metrics.rpc_started(method)
    assert value(metrics, "compute_rpc_in_flight", method=method) == 1
    metrics.rpc_finished(method, "OK", 0.004)
    metrics.rpc_started(method)
    metrics.rpc_finished(method, "NOT_FOUND", 0.002)
    assert value(metrics, "compute_rpc_in_flight", method=method) == 0
    assert value(metrics, "compute_rpc_requests_total", method=method, code="OK") == 1
    assert value(metrics, "compute_rpc_requests_total", method=method, code="NOT_FOUND") == 1
    assert value(metrics, "compute_rpc_duration_seconds_count", method=method) == 2
    assert value(metrics, "compute_rpc_duration_seconds_bucket", method=method, le="0.0025") == 1
    assert value(metrics, "compute_rpc_duration_seconds_bucket", method=method, le="0.005") == 2


def test_unknown_methods_share_one_series() -> None:
    metrics = Metrics()
    metrics.record_unknown_method()
    metrics.record_unknown_method()
    assert value(metrics, "compute_rpc_requests_total", method="unknown", code="UNIMPLEMENTED") == 2


@pytest.mark.parametrize("success", ["", None, "OK"])
def test_tencent_success_is_labelled_ok(success: str | None) -> None:
    metrics = Metrics()
    metrics.record_tencent_call("DescribeInstances", success, 0.03)
    assert value(metrics, "compute_tencent_calls_total", action="DescribeInstances", error_code="OK") == 1
    assert value(metrics, "compute_tencent_call_duration_seconds_count", action="DescribeInstances") == 1


def test_tencent_error_code_label_and_bounded_length() -> None:
    metrics = Metrics()
    metrics.record_tencent_call("StartInstances", "RequestLimitExceeded", 0.01)
    metrics.record_tencent_call("StartInstances", "X" * 500, 0.01)
    assert (
        value(
            metrics, "compute_tencent_calls_total", action="StartInstances", error_code="RequestLimitExceeded"
        )
        == 1
    )
    assert value(metrics, "compute_tencent_calls_total", action="StartInstances", error_code="X" * 120) == 1


def test_retries_ratelimit_and_cache() -> None:
    metrics = Metrics()
    metrics.record_retry("DescribeInstances", "RequestLimitExceeded")
    metrics.record_retry("DescribeInstances", "RequestLimitExceeded")
    metrics.record_ratelimit_wait("DescribeInstances", 0.0)
    metrics.record_ratelimit_wait("DescribeInstances", 0.25)
    metrics.record_ratelimit_timeout("DescribeInstances")
    metrics.record_cache("vpc_names", hit=False)
    metrics.record_cache("vpc_names", hit=True)
    metrics.record_cache("vpc_names", hit=True)

    assert (
        value(
            metrics,
            "compute_tencent_retries_total",
            action="DescribeInstances",
            reason="RequestLimitExceeded",
        )
        == 2
    )
    assert value(metrics, "compute_ratelimit_wait_seconds_count", action="DescribeInstances") == 2
    assert value(metrics, "compute_ratelimit_wait_seconds_sum", action="DescribeInstances") == pytest.approx(
        0.25
    )
    assert value(metrics, "compute_ratelimit_timeouts_total", action="DescribeInstances") == 1
    assert value(metrics, "compute_cache_lookups_total", cache="vpc_names", result="hit") == 2
    assert value(metrics, "compute_cache_lookups_total", cache="vpc_names", result="miss") == 1


def test_retry_policy_hooks() -> None:
    metrics = Metrics()
    metrics.on_retry("StopInstances", "ClientNetworkError", 0.12)
    metrics.on_give_up("StopInstances", "ClientNetworkError", "deadline", 3)
    labels = {"action": "StopInstances"}
    assert value(metrics, "compute_tencent_retries_total", reason="ClientNetworkError", **labels) == 1
    assert value(metrics, "compute_tencent_retry_give_ups_total", why="deadline", **labels) == 1


def test_latency_buckets_span_half_a_millisecond_to_a_minute() -> None:
    assert LATENCY_BUCKETS[0] == 0.0005
    assert LATENCY_BUCKETS[-1] == 60.0
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


def test_process_metrics_are_optional() -> None:
    assert Metrics().registry.get_sample_value("process_resident_memory_bytes") is not None
    assert Metrics(process_metrics=False).registry.get_sample_value("process_resident_memory_bytes") is None


@pytest.fixture
def served() -> Iterator[tuple[Metrics, MetricsServer, int]]:
    metrics = Metrics()
    server, port = start_metrics_server("127.0.0.1", 0, metrics.registry)
    try:
        yield metrics, server, port
    finally:
        server.stop()


def test_metrics_endpoint_serves_prometheus_text(served: tuple[Metrics, MetricsServer, int]) -> None:
    metrics, server, port = served
    assert port > 0 and server.port == port
    metrics.record_tencent_call("DescribeInstances", "", 0.02)
    metrics.record_cache("snapshot", hit=False)

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        body = reply.read().decode()

    families = {family.name: family for family in text_string_to_metric_families(body)}
    calls = families["compute_tencent_calls"]
    assert any(
        s.labels == {"action": "DescribeInstances", "error_code": "OK"} and s.value == 1
        for s in calls.samples
    )
    assert "compute_rpc_duration_seconds" in families
    assert "compute_cache_lookups" in families
    assert "process_resident_memory_bytes" in families


def test_metrics_endpoint_only_answers_on_metrics_path(served: tuple[Metrics, MetricsServer, int]) -> None:
    _, _, port = served
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    assert error.value.code == 404


def test_stopped_metrics_server_releases_its_port() -> None:
    server, port = start_metrics_server("127.0.0.1", 0, Metrics().registry)
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
