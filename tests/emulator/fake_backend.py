"""A tiny Backend for unit tests of the HTTP layer (wire, signature, throttling, faults, control API).

It echoes what the HTTP layer handed it, so tests can see exactly how a request was parsed and routed.
Tests of the cloud model itself use the real World through the `emulator` fixture instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.backend import CallContext
from emulator.errors import ApiError
from emulator.http_server import EmulatorServer, create_server
from emulator.throttle import Throttle

DEMO = ("AKIDEMULATORDEMO", "emulator-demo-secret")
OTHER = ("AKIDEMULATOROTHER", "emulator-other-secret")


class FakeBackend:
    def __init__(self) -> None:
        self.accounts = dict([DEMO, OTHER])
        self.timings = {"transition_seconds": 0.02, "operating_linger_seconds": 0.01}
        self.launch_failure = 0.0
        self.seeded: dict[str, dict[str, int]] = {}
        self.calls: list[CallContext] = []

    def secret_key_for(self, secret_id: str) -> str | None:
        return self.accounts.get(secret_id)

    def dispatch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(ctx)
        if ctx.action == "Fail":
            raise ApiError("InvalidParameterValue", "English message.", "中文消息。")
        if ctx.action == "Crash":
            raise RuntimeError("a bug in the model")
        return {
            "Echo": {
                "Service": ctx.service,
                "Action": ctx.action,
                "Version": ctx.version,
                "Region": ctx.region,
                "Language": ctx.language,
                "Account": ctx.account,
                "RequestId": ctx.request_id,
                "Params": params,
            }
        }

    def reset(self) -> None:
        self.accounts = dict([DEMO, OTHER])
        self.seeded = {}

    def add_account(self, secret_id: str, secret_key: str) -> None:
        self.accounts[secret_id] = secret_key

    def seed_instances(self, account: str, region: str, count: int, **options: Any) -> list[str]:
        if account not in self.accounts:
            raise ApiError("AuthFailure.SecretIdNotFound", "unknown account")
        per_region = self.seeded.setdefault(account, {})
        start = per_region.get(region, 0)
        per_region[region] = start + count
        return [f"ins-{index:08d}" for index in range(start, start + count)]

    def set_timings(self, **seconds: float) -> dict[str, float]:
        self.timings.update(seconds)
        return dict(self.timings)

    def set_launch_failure(self, probability: float) -> None:
        self.launch_failure = probability

    def instance_counts(self) -> dict[str, dict[str, int]]:
        return {account: dict(regions) for account, regions in self.seeded.items()}


@contextmanager
def serve(backend: FakeBackend | None = None, throttle: Throttle | None = None) -> Iterator[EmulatorServer]:
    """The real HTTP server around a fake backend, in this process, on a free loopback port."""
    server = create_server(backend or FakeBackend(), "127.0.0.1", 0, throttle=throttle)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
