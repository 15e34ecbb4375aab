"""What every scenario is handed: the running processes, the emulator control client and the plan."""

from __future__ import annotations

from dataclasses import dataclass

from bench.emulator_control import EmulatorControl
from bench.plan import Plan
from bench.processes import ManagedProcess


@dataclass
class ServiceStack:
    """One server and the Envoy in front of it. `None` where that process could not be started (the run
    then measures what exists and says what was missing)."""

    label: str
    server: ManagedProcess | None
    envoy: ManagedProcess | None
    problem: str = ""
    metrics_port: int | None = None  # the server's Prometheus port (it picks a free one)


@dataclass
class RunContext:
    plan: Plan
    emulator: ManagedProcess
    control: EmulatorControl
    # Production-like: the server's own rate limiter at Tencent's rates, as config/demo.toml has it.
    limited: ServiceStack
    # The server's limiter raised far above the emulator's capacity: used only for the throughput rows
    # with the emulator's throttling off, to measure the stack itself rather than Tencent's quota.
    unlimited: ServiceStack
    # Instance IDs seeded per account (SecretId), in seeding order.
    seeded: dict[str, list[str]]

    @property
    def emulator_endpoint(self) -> str:
        return f"127.0.0.1:{self.emulator.port}"
