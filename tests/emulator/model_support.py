"""Helpers for tests that drive the cloud model directly (no HTTP): a World on a clock the test steps.

The HTTP layer is tested elsewhere; here `call()` goes through `World.dispatch` exactly as the HTTP layer
does, so parameter validation, region checks and lifecycle settling are all exercised.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from emulator import fixtures
from emulator.backend import CallContext
from emulator.errors import ApiError
from emulator.world import World

DEMO = "AKIDEMULATORDEMO"
OTHER = "AKIDEMULATOROTHER"
REGION = "ap-guangzhou"
SEED_INSTANCE = "ins-2n9bmcww"
TRANSITION = 1.0
LINGER = 0.5


class SteppedClock:
    """Monotonic and wall time that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.epoch = 1_700_000_000.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.epoch + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Model:
    """A World plus its clock, with shorthand for calls."""

    def __init__(self) -> None:
        self.clock = SteppedClock()
        self.world = World(fixtures.load(None), clock=self.clock, rng=random.Random(7))
        self.world.set_timings(transition_seconds=TRANSITION, operating_linger_seconds=LINGER)
        self.calls = 0

    def call(
        self,
        action: str,
        params: dict[str, Any] | None = None,
        *,
        account: str = DEMO,
        region: str = REGION,
        service: str = "cvm",
        version: str = "2017-03-12",
        language: str = "zh-CN",
    ) -> dict[str, Any]:
        self.calls += 1
        ctx = CallContext(account, service, action, version, region, language, f"req-{self.calls}")
        return self.world.dispatch(ctx, params or {})

    def error(self, action: str, params: dict[str, Any] | None = None, **kwargs: Any) -> ApiError:
        with pytest.raises(ApiError) as caught:
            self.call(action, params, **kwargs)
        return caught.value

    def instance(self, instance_id: str, **kwargs: Any) -> dict[str, Any]:
        reply = self.call("DescribeInstances", {"InstanceIds": [instance_id]}, **kwargs)
        assert reply["TotalCount"] == 1, f"{instance_id} not listed"
        item: dict[str, Any] = reply["InstanceSet"][0]
        return item

    def exists(self, instance_id: str, **kwargs: Any) -> bool:
        reply = self.call("DescribeInstances", {"InstanceIds": [instance_id]}, **kwargs)
        return bool(reply["TotalCount"])

    def settle(self) -> None:
        """Let every transition and linger window pass."""
        self.clock.advance(TRANSITION + LINGER + 0.01)

    def run(self, count: int = 1, **params: Any) -> list[str]:
        """RunInstances with working defaults (CentOS in ap-guangzhou-3) plus `params`."""
        request: dict[str, Any] = {
            "Placement": {"Zone": "ap-guangzhou-3"},
            "ImageId": "img-n7nyt2d7",
            "InstanceType": "S5.MEDIUM4",
            "InstanceCount": count,
        }
        request.update(params)
        ids: list[str] = self.call("RunInstances", request)["InstanceIdSet"]
        return ids

    def running(self, count: int = 1, **params: Any) -> list[str]:
        """Instances that are RUNNING with their launch operation settled."""
        ids = self.run(count, **params)
        self.settle()
        return ids
