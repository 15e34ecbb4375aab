"""Direct SDK calls the scenarios need besides the measured ones: one listing page's round trip (the unit
of the listing floors) and waiting for instances to settle between batch operations."""

from __future__ import annotations

import statistics
import time

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models

from bench import plan as p
from bench.clients import sdk_client
from bench.plan import Account


def page_round_trip_s(endpoint: str, account: Account, samples: int = 5) -> float:
    """Median wall time of one DescribeInstances(Limit 100) page: the round trip a listing cannot beat."""
    client = sdk_client(endpoint, account.secret_id, account.secret_key, p.REGION)
    times = []
    for _ in range(samples):
        request = models.DescribeInstancesRequest()
        request.Offset, request.Limit = 0, p.TENCENT_PAGE_LIMIT
        t0 = time.perf_counter()
        client.DescribeInstances(request)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def wait_until_settled(
    endpoint: str, account: Account, ids: list[str], states: set[str], timeout_s: float = 120.0
) -> float:
    """Poll until every instance is in one of `states` (an empty set: gone) with no operation in progress.
    Returns the seconds waited; raises TimeoutError."""
    client = sdk_client(endpoint, account.secret_id, account.secret_key, p.REGION)
    t0 = time.monotonic()
    while True:
        settled = True
        for start in range(0, len(ids), p.TENCENT_PAGE_LIMIT):
            request = models.DescribeInstancesRequest()
            request.InstanceIds = ids[start : start + p.TENCENT_PAGE_LIMIT]
            request.Limit = p.TENCENT_PAGE_LIMIT
            try:
                reply = client.DescribeInstances(request)
            except TencentCloudSDKException as exc:
                if not str(exc.get_code()).startswith("RequestLimitExceeded"):
                    raise
                settled = False  # throttled: this poll tells nothing, try again
                break
            found = reply.InstanceSet or []
            if not states:
                settled = settled and not found
            else:
                settled = (
                    settled
                    and len(found) == len(request.InstanceIds)
                    and all(
                        i.InstanceState in states and i.LatestOperationState != "OPERATING" for i in found
                    )
                )
            if not settled:
                break
        if settled:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"instances did not reach {sorted(states) or 'gone'} within {timeout_s:.0f}s")
        time.sleep(0.2)
