"""Retries, deadlines and throttling end to end.

- A burst of concurrent calls is paced by the client-side limiter (Tencent's documented per-account rates),
  so the emulator, which throttles at those same rates, almost never answers RequestLimitExceeded; without
  the limiter the same burst is a storm of throttled calls that only retries absorb.
- With Tencent unreachable (every connection dropped) the caller gets UNAVAILABLE after a bounded number
  of attempts, inside its deadline, on both surfaces; a deadline shorter than Tencent's answer gives
  DEADLINE_EXCEEDED without retrying past it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.service.helpers import demo_scope
from tests.trust.capture import add_figure
from tests.trust.stack import GrpcSurface, JsonSurface, Surface, running_stack

BURST = 160  # List calls, 4x the emulator's DescribeInstances bucket (40 per second per account)
THREADS = 32
MAX_ATTEMPTS = 8  # the production default ([retry] max_attempts)


def burst(cloud: Any, tmp_path: Path, limits_toml: str) -> dict[str, int]:
    """BURST concurrent list calls through a private server; returns the emulator's figures."""
    with running_stack(
        cloud, store_path=tmp_path / "compute.db", extra_toml=limits_toml, with_envoy=False
    ) as s:
        way = GrpcSurface(s.server.target, "grpc")
        cloud.reset_counters()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            outcomes = list(pool.map(lambda _: way.call("list", demo_scope(), timeout=60), range(BURST)))
        way.close()
    counters = cloud.counters()
    return {
        "failures": sum(1 for outcome in outcomes if outcome.code != "OK"),
        "describe_calls": int(counters["Calls"]["AKIDEMULATORDEMO"].get("DescribeInstances", 0)),
        "throttled": int(counters["Throttled"]),
    }


def test_a_burst_with_the_limiter_is_not_a_throttling_storm(cloud: Any, tmp_path: Path) -> None:
    paced = burst(cloud, tmp_path / "on", "[limits]\nenabled = true\n")
    unpaced = burst(cloud, tmp_path / "off", "[limits]\nenabled = false\n")
    for name, value in paced.items():
        add_figure(f"burst_limiter_on_{name}", value)
    for name, value in unpaced.items():
        add_figure(f"burst_limiter_off_{name}", value)

    assert paced["failures"] == 0
    # Paced at the documented rate, the emulator's identical bucket has a token for (nearly) every call;
    # the odd one lost to scheduling jitter (a call overtaking an earlier one on the way) is retried.
    assert paced["throttled"] <= BURST // 20
    assert paced["describe_calls"] <= BURST + paced["throttled"] + 5
    # Without the limiter the same burst is a storm: most first attempts, and many retries, are throttled
    # (and some calls may run out of attempts). That is what the limiter prevents.
    assert unpaced["throttled"] >= BURST // 2


def test_tencent_unreachable_is_unavailable_within_the_deadline(
    grpc_server: Any, envoy: Any, cloud: Any
) -> None:
    """Production retry settings (the session's server): every connection dropped, a 20 s deadline. The
    answer is UNAVAILABLE (not DEADLINE_EXCEEDED: it came before the deadline), after at most the
    configured attempts per Tencent action."""
    cloud.add_fault(Action="*", DropProbability=1.0)
    ways: list[Surface] = [GrpcSurface(grpc_server.target, "grpc"), JsonSurface(envoy)]
    for way in ways:
        cloud.reset_counters()
        outcome = way.call("list", demo_scope(), timeout=20)

        assert outcome.code == "UNAVAILABLE", (way.name, outcome.desc, outcome.envelope.get("message"))
        assert outcome.desc == "ClientNetworkError"
        if outcome.http_status is not None:
            assert outcome.http_status == 503
        per_action = cloud.counters()["Calls"]["AKIDEMULATORDEMO"]
        assert 1 <= max(per_action.values()) <= MAX_ATTEMPTS
        way.close()


def test_a_deadline_shorter_than_tencent_is_deadline_exceeded(envoy: Any, cloud: Any) -> None:
    """Tencent answers after 3 s; the JSON caller allows 0.8 s (grpc-timeout): the server answers
    DEADLINE_EXCEEDED in the envelope (HTTP 504) and does not retry past the deadline."""
    cloud.add_fault(Action="DescribeInstances", LatencyMs=3000)

    outcome = JsonSurface(envoy).call("list", demo_scope(), timeout=0.8)

    assert outcome.code == "DEADLINE_EXCEEDED", (outcome.desc, outcome.envelope.get("message"))
    assert outcome.http_status == 504
    assert cloud.counters()["Calls"]["AKIDEMULATORDEMO"].get("DescribeInstances", 0) <= 1
