"""Fixtures of the end-to-end tests (the processes themselves come from tests/support/)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def pb() -> Any:
    """The generated messages (imported when a test runs, like tests/support does)."""
    from tencent.compute.v1 import compute_pb2

    return compute_pb2
