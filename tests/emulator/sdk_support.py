"""Helpers for end-to-end tests that drive the emulator with the real tencentcloud SDK."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator
from typing import Any

from tencentcloud.cvm.v20170312 import models
from tencentcloud.cvm.v20170312.cvm_client import CvmClient

POLL_SECONDS = 0.01
WAIT_LIMIT_SECONDS = 30.0  # a safety net only: waits end as soon as the state shows up


def instance_or_none(client: CvmClient, instance_id: str) -> Any:
    request = models.DescribeInstancesRequest()
    request.InstanceIds = [instance_id]
    reply = client.DescribeInstances(request)
    return reply.InstanceSet[0] if reply.InstanceSet else None


def wait_for_instance(client: CvmClient, instance_id: str, state: str | None) -> Any:
    """Poll until the instance is in `state` with its operation settled (None: until it is gone)."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while True:
        item = instance_or_none(client, instance_id)
        if state is None and item is None:
            return None
        if item is not None and item.InstanceState == state and item.LatestOperationState != "OPERATING":
            return item
        if time.monotonic() > deadline:
            shown = None if item is None else (item.InstanceState, item.LatestOperationState)
            raise AssertionError(f"{instance_id} never reached {state}; last seen {shown}")
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def no_sdk_warnings() -> Iterator[None]:
    """Fail when an SDK model warns while parsing (e.g. "X fileds are useless." for unknown members)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    messages = [str(warning.message) for warning in caught]
    assert not messages, f"the SDK warned while parsing: {messages}"
