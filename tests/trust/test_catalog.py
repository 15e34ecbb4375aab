"""server/compute/catalog.py on its own (a scripted Tencent and a fake clock): what is cached for how long,
which failures fail the request, which only skip a check. The end-to-end behaviour is in
test_validation_context.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from server.compute.catalog import PlacementCatalog
from server.compute.errors import Internal, InvalidArgument, ServiceError, Unavailable
from server.compute.ports import Scope
from server.config import ClusterConfig, Credentials
from tests.support.clock import ManualClock

CLUSTER = ClusterConfig(uuid="c-1", tenants=frozenset({"t"}), credentials=Credentials("AKID", "key"))
ZONES = {"ZoneSet": [{"Zone": "ap-guangzhou-3"}, {"Zone": "ap-guangzhou-4"}], "TotalCount": 2}


class ScriptedCloud:
    """Answers each action from a function of the call; counts calls."""

    def __init__(self, answers: dict[str, Callable[[Scope, dict[str, Any]], dict[str, Any]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def call(self, scope: Scope, service: str, action: str, params: dict[str, Any], *, write: bool) -> Any:
        assert service == "cvm" and not write
        self.calls.append((action, scope.region))
        return self.answers[action](scope, params)


def scope(region: str = "ap-guangzhou") -> Scope:
    return Scope(cluster=CLUSTER, region=region, tenant="t")


def raising(error: ServiceError) -> Callable[[Scope, dict[str, Any]], dict[str, Any]]:
    def answer(_scope: Scope, _params: dict[str, Any]) -> dict[str, Any]:
        raise error

    return answer


def zones_or_unknown_region(s: Scope, _params: dict[str, Any]) -> dict[str, Any]:
    if s.region == "ap-guangzhou":
        return ZONES
    raise InvalidArgument("no such region", reason="InvalidRegion.NotFound")


def test_zones_are_loaded_once_per_ttl() -> None:
    clock = ManualClock()
    cloud = ScriptedCloud({"DescribeZones": zones_or_unknown_region})
    catalog = PlacementCatalog(cloud, ttl_seconds=600, clock=clock)

    first = catalog.validation_context(scope(), zones=True)
    for _ in range(50):
        assert catalog.validation_context(scope(), zones=True) == first
    assert first.known_regions == {"ap-guangzhou"}
    assert first.known_zones == {"ap-guangzhou-3", "ap-guangzhou-4"}
    assert cloud.calls == [("DescribeZones", "ap-guangzhou")]

    clock.now += 601
    catalog.validation_context(scope())
    assert len(cloud.calls) == 2


def test_an_unknown_region_is_remembered_as_unknown() -> None:
    cloud = ScriptedCloud({"DescribeZones": zones_or_unknown_region})
    catalog = PlacementCatalog(cloud, clock=ManualClock())

    for _ in range(3):
        context = catalog.validation_context(scope("ap-nowhere"), zones=True, image_id="img-12345678")
        assert context.known_regions == frozenset()  # validation reports Region: UNKNOWN_REGION
        assert context.image_platform is None  # no image lookup in a region that does not exist
    assert cloud.calls == [("DescribeZones", "ap-nowhere")]


def test_tencent_unreachable_fails_the_request_and_caches_nothing() -> None:
    failures = [Unavailable("down", reason="ClientNetworkError")]

    def flaky(s: Scope, params: dict[str, Any]) -> dict[str, Any]:
        if failures:
            raise failures.pop()
        return ZONES

    cloud = ScriptedCloud({"DescribeZones": flaky})
    catalog = PlacementCatalog(cloud, clock=ManualClock())

    with pytest.raises(Unavailable):
        catalog.validation_context(scope())
    assert catalog.validation_context(scope()).known_regions == {"ap-guangzhou"}
    assert len(cloud.calls) == 2


def test_other_failures_skip_the_checks_for_a_short_while() -> None:
    clock = ManualClock()
    cloud = ScriptedCloud({"DescribeZones": raising(Internal("denied", reason="UnauthorizedOperation"))})
    catalog = PlacementCatalog(cloud, ttl_seconds=600, unknown_ttl_seconds=60, clock=clock)

    context = catalog.validation_context(scope(), zones=True)
    assert context.known_regions is None and context.known_zones is None  # not checked: Tencent judges
    catalog.validation_context(scope())
    assert len(cloud.calls) == 1
    clock.now += 61
    catalog.validation_context(scope())
    assert len(cloud.calls) == 2


def test_the_image_platform_picks_the_password_rule() -> None:
    images = {
        "img-9id7emv7": {"ImageId": "img-9id7emv7", "Platform": "Windows", "OsName": "Windows Server 2016"},
        "img-n7nyt2d7": {"ImageId": "img-n7nyt2d7", "Platform": "CentOS", "OsName": "CentOS 8.2 64位"},
    }

    def describe_images(_s: Scope, params: dict[str, Any]) -> dict[str, Any]:
        found = [images[i] for i in params["ImageIds"] if i in images]
        return {"ImageSet": found, "TotalCount": len(found)}

    cloud = ScriptedCloud({"DescribeZones": zones_or_unknown_region, "DescribeImages": describe_images})
    catalog = PlacementCatalog(cloud, clock=ManualClock())

    assert catalog.validation_context(scope(), image_id="img-9id7emv7").image_platform == "WINDOWS"
    assert catalog.validation_context(scope(), image_id="img-n7nyt2d7").image_platform == "LINUX"
    assert catalog.validation_context(scope(), image_id="img-00000000").image_platform is None
    catalog.validation_context(scope(), image_id="img-9id7emv7")
    assert [action for action, _ in cloud.calls].count("DescribeImages") == 3
