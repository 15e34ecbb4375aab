"""Fixture files: the default loads, broken ones fail with a JSON path, `--config` replaces the default."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from emulator import fixtures
from emulator.fixtures import FixtureError
from tests.emulator.model_support import DEMO, Model
from tests.support.emulator import start_emulator


def _default() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixtures.DEFAULT_PATH.read_text(encoding="utf-8"))
    return loaded


def _demo_region(raw: dict[str, Any]) -> dict[str, Any]:
    region: dict[str, Any] = raw["Accounts"][0]["Regions"]["ap-guangzhou"]
    return region


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_default_fixtures_load() -> None:
    loaded = fixtures.load(None)
    assert "ap-guangzhou" in loaded.catalog.regions
    assert loaded.catalog.images["img-9id7emv7"].is_windows
    assert loaded.catalog.instance_types["MA2.SMALL8"].cpu == 1
    assert [account["SecretId"] for account in loaded.accounts] == ["AKIDEMULATORDEMO", "AKIDEMULATOROTHER"]


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (
            lambda raw: _demo_region(raw)["Instances"][0].update(ImageId="img-zzzzzzzz"),
            "Instances[0].ImageId",
        ),
        (lambda raw: _demo_region(raw)["Instances"][0].update(InstanceId="ins-1"), "Instances[0].InstanceId"),
        (
            lambda raw: _demo_region(raw)["Instances"][0].update(PrivateIpAddresses=["10.9.9.9"]),
            "Instances[0].PrivateIpAddresses",
        ),
        (lambda raw: _demo_region(raw)["Instances"][0].update(InstanceState="PENDING"), "InstanceState"),
        (
            lambda raw: _demo_region(raw)["Vpcs"][0]["Subnets"][1].update(CidrBlock="172.16.16.0/24"),
            "CidrBlock",
        ),
        (
            lambda raw: raw["InstanceTypes"].append({"InstanceType": "ZZ.SMALL1", "CPU": 1, "Memory": 1}),
            "InstanceFamily",
        ),
        (lambda raw: raw["Accounts"].append(copy.deepcopy(raw["Accounts"][1])), "duplicate SecretId"),
        (lambda raw: raw.update(Timings={"TransitionSeconds": -1}), "Timings"),
        (
            lambda raw: _demo_region(raw)["Instances"][0].update(LoginSettings={"Password": "Secret-123"}),
            "LoginSettings",
        ),
    ],
)
def test_broken_fixtures_name_the_problem(tmp_path: Path, breakage: Any, where: str) -> None:
    raw = _default()
    breakage(raw)
    with pytest.raises(FixtureError) as caught:
        fixtures.load(_write(tmp_path, raw))
    assert where in str(caught.value)


def test_fixture_timings_apply_unless_overridden(tmp_path: Path) -> None:
    from emulator.world import build_world

    raw = _default()
    raw["Timings"] = {"TransitionSeconds": 7.0, "OperatingLingerSeconds": 0.5}
    path = _write(tmp_path, raw)
    assert build_world(path, None).set_timings() == {
        "transition_seconds": 7.0,
        "operating_linger_seconds": 0.5,
    }
    assert build_world(path, 0.02).set_timings() == {
        "transition_seconds": 0.02,
        "operating_linger_seconds": 0.01,
    }


def test_concurrent_launches_stay_consistent() -> None:
    model = Model()
    errors: list[BaseException] = []

    def launch() -> None:
        try:
            for _ in range(20):
                model.run(1)
                model.call("DescribeInstances", {"Limit": 100})
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=launch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    listing = model.call("DescribeInstances", {"Limit": 100, "Offset": 0})
    assert listing["TotalCount"] == 161
    addresses: set[str] = set()
    for offset in (0, 100):
        page = model.call("DescribeInstances", {"Limit": 100, "Offset": offset})["InstanceSet"]
        addresses.update(item["PrivateIpAddresses"][0] for item in page)
    assert len(addresses) == 161
    assert model.world.instance_counts()[DEMO]["ap-guangzhou"] == 161


def test_config_file_replaces_the_default_fixtures(tmp_path: Path) -> None:
    raw = _default()
    raw["Regions"] = [region for region in raw["Regions"] if region["Region"] == "ap-guangzhou"]
    raw["Regions"][0]["Zones"] = raw["Regions"][0]["Zones"][:2]
    raw["InstanceTypes"] = [t for t in raw["InstanceTypes"] if "Zones" not in t]
    raw["Accounts"] = [
        {"SecretId": "AKIDCUSTOM", "SecretKey": "custom-secret", "Regions": {}},
    ]
    with start_emulator("--config", str(_write(tmp_path, raw))) as custom:
        client = custom.cvm_client(secret_id="AKIDCUSTOM", secret_key="custom-secret")
        from tencentcloud.cvm.v20170312 import models

        zones = client.DescribeZones(models.DescribeZonesRequest())
        assert [zone.Zone for zone in zones.ZoneSet] == ["ap-guangzhou-3", "ap-guangzhou-4"]
        assert client.DescribeInstances(models.DescribeInstancesRequest()).TotalCount == 0
        # the demo account is not part of this configuration
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        with pytest.raises(TencentCloudSDKException) as caught:
            custom.cvm_client().DescribeZones(models.DescribeZonesRequest())
        assert caught.value.get_code() == "AuthFailure.SecretIdNotFound"
