"""Validation with what only Tencent knows, on both surfaces: the Region exists, the zone is one of its
zones, and the image's platform picks the Linux or Windows password rule. The facts come from DescribeZones
and DescribeImages, cached per cluster and region (server/compute/catalog.py), so in steady state a request
costs no extra cloud call. Also: a bad Idempotency-Key header or a blank ClientToken is INVALID_ARGUMENT.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.helpers import ZONE, calls, demo_scope
from tests.trust.capture import register_secret
from tests.trust.stack import GrpcSurface, JsonSurface, Outcome, Surface

WINDOWS_IMAGE = "img-9id7emv7"  # Windows Server 2016 (emulator fixtures)
LINUX_IMAGE = "img-n7nyt2d7"  # CentOS 8.2
# 8 characters, two classes: enough for Linux, not for Windows (12+ characters, three classes).
LINUX_ONLY_PASSWORD = register_secret("lowpass12")


@pytest.fixture(params=["grpc", "json"])
def surface(request: pytest.FixtureRequest, grpc_server: Any, envoy: Any) -> Iterator[Surface]:
    way: Surface = GrpcSurface(grpc_server.target, "grpc") if request.param == "grpc" else JsonSurface(envoy)
    yield way
    way.close()


def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        **demo_scope(),
        "Placement": {"Zone": ZONE},
        "ImageId": LINUX_IMAGE,
        "InstanceType": "MA2.SMALL8",
        "InstanceName": "catalog-check",
    }
    body.update(overrides)
    return body


def assert_invalid(outcome: Outcome, field: str) -> None:
    assert outcome.code == "INVALID_ARGUMENT", (outcome.code, outcome.desc, outcome.envelope.get("message"))
    assert outcome.desc == "INVALID_ARGUMENT"
    assert field in outcome.envelope["message"]
    if outcome.http_status is not None:
        assert outcome.http_status == 400
    else:
        assert outcome.violations == [field]  # exactly one BadRequest violation, for that field


# unknown; known but without CVM
@pytest.mark.parametrize("region", ["ap-nowhere", "ap-hongkong"])
def test_an_unknown_region_is_invalid_before_any_call(surface: Surface, cloud: Any, region: str) -> None:
    outcome = surface.call("list", demo_scope(Region=region))

    assert_invalid(outcome, "Region")
    assert "not available to this cluster" in outcome.envelope["message"]
    assert calls(cloud, "DescribeInstances") == 0


def test_an_absurdly_long_region_is_malformed_before_any_call(surface: Surface, cloud: Any) -> None:
    # It would also travel in the X-TC-Region header: the format rule bounds its length.
    outcome = surface.call("list", demo_scope(Region="ap-" + "x" * 200_000))

    assert_invalid(outcome, "Region")
    assert "is not a region name" in outcome.envelope["message"]
    assert calls(cloud, "DescribeInstances") == 0
    assert calls(cloud, "DescribeZones") == 0


def test_an_unknown_region_on_create_names_the_region_only(surface: Surface, cloud: Any) -> None:
    outcome = surface.call("create", create_body(Region="ap-nowhere", Placement={"Zone": "ap-nowhere-1"}))

    assert_invalid(outcome, "Region")
    assert calls(cloud, "RunInstances") == 0


def test_an_unknown_zone_is_invalid(surface: Surface, cloud: Any) -> None:
    outcome = surface.call("create", create_body(Placement={"Zone": "ap-guangzhou-9"}))

    assert_invalid(outcome, "Placement.Zone")
    assert calls(cloud, "RunInstances") == 0


def test_a_windows_image_needs_the_windows_password_rule(surface: Surface, cloud: Any) -> None:
    login = {"Password": LINUX_ONLY_PASSWORD}

    windows = surface.call("create", create_body(ImageId=WINDOWS_IMAGE, LoginSettings=login))
    assert_invalid(windows, "LoginSettings.Password")
    assert "Windows password rules" in windows.envelope["message"]
    assert LINUX_ONLY_PASSWORD not in str(windows.envelope)
    assert calls(cloud, "RunInstances") == 0

    linux = surface.call("create", create_body(ImageId=LINUX_IMAGE, LoginSettings=login))
    assert linux.code == "OK", linux.envelope
    assert len(linux.data["InstanceIds"]) == 1


def test_reset_checks_the_new_images_password_rule(surface: Surface, cloud: Any) -> None:
    body = {**demo_scope(), "InstanceId": "ins-2n9bmcww", "ImageId": WINDOWS_IMAGE}
    outcome = surface.call("reset", {**body, "LoginSettings": {"Password": LINUX_ONLY_PASSWORD}})

    assert_invalid(outcome, "LoginSettings.Password")
    assert calls(cloud, "ResetInstance") == 0


def test_key_pairs_are_refused_for_windows_images(surface: Surface, cloud: Any) -> None:
    login = {"KeyIds": ["skey-3glfot13"]}
    outcome = surface.call("create", create_body(ImageId=WINDOWS_IMAGE, LoginSettings=login))

    assert_invalid(outcome, "LoginSettings.KeyIds")


def test_steady_state_costs_no_catalog_call_per_request(surface: Surface, cloud: Any) -> None:
    """Zones and image platforms are cached: many requests, at most one lookup each (zero when an earlier
    test of this run already loaded them)."""
    cloud.set_throttle(False)
    region = "ap-shanghai"
    for _ in range(15):
        assert surface.call("list", demo_scope(Region=region)).code == "OK"
        login = {"Password": LINUX_ONLY_PASSWORD}  # needs the zones and the image's platform to judge
        outcome = surface.call("create", create_body(ImageId=WINDOWS_IMAGE, LoginSettings=login))
        assert_invalid(outcome, "LoginSettings.Password")

    assert calls(cloud, "DescribeZones") <= 2  # ap-shanghai and ap-guangzhou, once each at most
    assert calls(cloud, "DescribeImages") <= 1


@pytest.mark.parametrize("key", ["   ", "", "k" * 256])
def test_a_bad_idempotency_key_header_is_invalid(surface: Surface, cloud: Any, key: str) -> None:
    outcome = surface.call("create", create_body(), headers={"Idempotency-Key": key})

    assert_invalid(outcome, "Idempotency-Key")
    assert calls(cloud, "RunInstances") == 0


def test_a_blank_client_token_is_invalid(surface: Surface, cloud: Any) -> None:
    outcome = surface.call("create", create_body(ClientToken="    "))

    assert_invalid(outcome, "ClientToken")
    assert calls(cloud, "RunInstances") == 0
