"""SDK clients are reused per cluster and region with HTTP keep-alive: many list calls, each making several
Tencent calls (pages fetched side by side), open a handful of TCP connections, not one per call."""

from __future__ import annotations

from typing import Any

from tests.service.helpers import demo_scope
from tests.speed.test_listing_calls import PAGE_WORKERS
from tests.support.server import DEMO_SECRET_ID

LISTS = 20


def calls_and_connections(emulator: Any) -> tuple[int, int]:
    """DescribeInstances calls and TCP connections the emulator accepted since its counters were reset.
    The counters request arrives on a fresh connection of its own, which is not the server's."""
    counters = emulator.counters()
    describes = int(counters["Calls"].get(DEMO_SECRET_ID, {}).get("DescribeInstances", 0))
    return describes, int(counters["ConnectionsAccepted"]) - 1


def test_list_calls_reuse_kept_alive_connections(quiet_cloud: Any, server_factory: Any, pb: Any) -> None:
    quiet_cloud.seed(300, NamePrefix="fleet")
    # 300 per list, read directly (not a full listing, so never from the snapshot): 3 DescribeInstances
    # each, the last two side by side.
    request = pb.ListRequest(**demo_scope(), PageSize=300)
    stub = server_factory().stub()
    quiet_cloud.reset_counters()

    for _ in range(LISTS):
        assert len(stub.List(request, timeout=60).data.List) == 300
    describes, connections = calls_and_connections(quiet_cloud)

    assert describes == 3 * LISTS
    # A new server: its first calls open the connections its pools keep (two pages side by side, the VPC
    # client, validation's lookups), then it reuses them.
    assert 1 <= connections <= PAGE_WORKERS + 3

    quiet_cloud.reset_counters()
    for _ in range(LISTS):
        stub.List(request, timeout=60)
    describes, connections = calls_and_connections(quiet_cloud)
    assert describes == 3 * LISTS
    assert connections == 0  # every call on a kept-alive connection
