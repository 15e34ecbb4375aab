"""Service tests: the real server (tests/support/server.py) over the real emulator, real gRPC channels."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def cloud(fresh_emulator: Any) -> Any:
    """The session's emulator reset to its fixtures (ins-2n9bmcww RUNNING, ...), counters zeroed."""
    return fresh_emulator


@pytest.fixture
def pb() -> Any:
    from tencent.compute.v1 import compute_pb2

    return compute_pb2
