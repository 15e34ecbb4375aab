"""Fixtures shared by the whole suite. The ones that start real processes live in tests/support/, one module
per process; the two small ones every service-level folder uses are here."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from tencent.compute.v1 import compute_pb2

pytest_plugins = [
    "tests.support.emulator",
    "tests.support.server",
    "tests.support.envoy",
]


@pytest.fixture
def pb() -> ModuleType:
    """The generated request and reply messages (tencent.compute.v1.compute_pb2)."""
    return compute_pb2


@pytest.fixture
def cloud(fresh_emulator: Any) -> Any:
    """The session's emulator reset to its fixtures (ins-2n9bmcww RUNNING, ...): faults cleared, counters
    zeroed, throttling on."""
    return fresh_emulator
