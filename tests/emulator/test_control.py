"""The control API under /_emulator/: reset, accounts, seeding, config, counters, errors."""

from __future__ import annotations

import http.client
import json
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from emulator.http_server import EmulatorServer
from tests.emulator.fake_backend import FakeBackend, serve
from tests.support.emulator import DEMO_SECRET_ID, EmulatorProcess, common_client, start_emulator

# --- in process, around the fake backend: what reaches the model ---


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def server(backend: FakeBackend) -> Iterator[EmulatorServer]:
    with serve(backend) as running:
        yield running


def control(server: EmulatorServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=payload)
        response = connection.getresponse()
        assert response.getheader("Content-Type") == "application/json"
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_seed_passes_options_to_the_model_in_snake_case(server: EmulatorServer, backend: FakeBackend) -> None:
    status, reply = control(
        server,
        "POST",
        "/_emulator/seed",
        {
            "SecretId": DEMO_SECRET_ID,
            "Region": "ap-shanghai",
            "Count": 3,
            "Zone": "ap-shanghai-2",
            "NamePrefix": "x",
        },
    )
    assert status == 200 and len(reply["InstanceIds"]) == 3
    assert backend.instance_counts() == {DEMO_SECRET_ID: {"ap-shanghai": 3}}


def test_timings_map_to_the_model_and_reset_restores_them(
    server: EmulatorServer, backend: FakeBackend
) -> None:
    status, config = control(
        server, "POST", "/_emulator/config", {"TransitionSeconds": 1.5, "OperatingLingerSeconds": 0.5}
    )
    assert status == 200
    assert backend.timings == {"transition_seconds": 1.5, "operating_linger_seconds": 0.5}
    assert (config["TransitionSeconds"], config["OperatingLingerSeconds"]) == (1.5, 0.5)
    control(server, "POST", "/_emulator/faults", {"LaunchFailedProbability": 0.25})
    assert backend.launch_failure == 0.25
    control(server, "POST", "/_emulator/reset", {})
    assert backend.timings == {"transition_seconds": 0.02, "operating_linger_seconds": 0.01}
    assert backend.launch_failure == 0.0


def test_a_bad_config_changes_nothing(server: EmulatorServer, backend: FakeBackend) -> None:
    status, reply = control(server, "POST", "/_emulator/config", {"TransitionSeconds": 3, "Throttle": "no"})
    assert status == 400 and reply["Error"]["Code"] == "InvalidRequest"
    assert backend.timings["transition_seconds"] == 0.02


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/_emulator/nothing-here", None, 404),
        ("GET", "/_emulator/", None, 404),
        ("GET", "/_emulator/reset", None, 405),
        ("PUT", "/_emulator/faults", {}, 405),
        ("POST", "/_emulator/seed", {"SecretId": DEMO_SECRET_ID, "Region": "ap-guangzhou"}, 400),
        ("POST", "/_emulator/seed", {"SecretId": DEMO_SECRET_ID, "Region": "ap-guangzhou", "Count": 0}, 400),
        ("POST", "/_emulator/seed", {"SecretId": "AKIDNOBODY", "Region": "ap-guangzhou", "Count": 1}, 400),
        ("POST", "/_emulator/accounts", {"SecretId": "AKIDX"}, 400),
        ("POST", "/_emulator/config", {"RateLimits": {"DescribeInstances": -1}}, 400),
        ("POST", "/_emulator/config", {"Nonsense": 1}, 400),
        ("POST", "/_emulator/reset", {"Unexpected": 1}, 400),
    ],
)
def test_control_errors_are_json(
    server: EmulatorServer, method: str, path: str, body: Any, status: int
) -> None:
    got_status, reply = control(server, method, path, body)
    assert got_status == status
    assert set(reply) == {"Error"} and set(reply["Error"]) == {"Code", "Message"}


def test_invalid_json_body(server: EmulatorServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/_emulator/config", body=b"{nope")
    response = connection.getresponse()
    assert response.status == 400
    assert json.loads(response.read())["Error"]["Code"] == "InvalidRequest"
    connection.close()


def test_account_secret_key_is_never_echoed(server: EmulatorServer, backend: FakeBackend) -> None:
    status, reply = control(
        server, "POST", "/_emulator/accounts", {"SecretId": "AKIDNEW", "SecretKey": "s3cr3t-key"}
    )
    assert status == 200 and reply == {"SecretId": "AKIDNEW"}
    assert backend.secret_key_for("AKIDNEW") == "s3cr3t-key"


def test_peak_concurrent_requests(backend: FakeBackend) -> None:
    # Hold calls inside the model until four are in flight at once.
    gate = threading.Barrier(5)
    original = backend.dispatch

    def held_dispatch(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        gate.wait(timeout=10)
        return original(ctx, params)

    backend.dispatch = held_dispatch  # type: ignore[method-assign]
    with serve(backend) as running:
        endpoint = f"127.0.0.1:{running.port}"
        threads = [
            threading.Thread(target=lambda: common_client(endpoint).call_json("DescribeZones", {}))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        gate.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=10)
        status, counters = control(running, "GET", "/_emulator/counters")
    assert status == 200
    assert counters["PeakConcurrentRequests"] == 4
    assert counters["ActiveRequests"] == 0
    assert counters["Calls"] == {DEMO_SECRET_ID: {"DescribeZones": 4}}


# --- end to end against the real emulator and the real model ---


def describe(emulator: EmulatorProcess, **options: Any) -> Any:
    client = emulator.cvm_client(
        **{k: v for k, v in options.items() if k in ("secret_id", "secret_key", "region")}
    )
    request = cvm_models.DescribeInstancesRequest()
    request.from_json_string(json.dumps({k: v for k, v in options.items() if k[0].isupper()}))
    return client.DescribeInstances(request)


def test_reset_brings_the_fixtures_back(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.set_throttle(False)
    before = describe(fresh_emulator, InstanceIds=["ins-2n9bmcww"])
    assert [instance.InstanceName for instance in before.InstanceSet] == ["123"]
    modify = cvm_models.ModifyInstancesAttributeRequest()
    modify.InstanceIds = ["ins-2n9bmcww"]
    modify.InstanceName = "renamed"
    fresh_emulator.cvm_client().ModifyInstancesAttribute(modify)
    fresh_emulator.seed(5)
    fresh_emulator.add_fault(Action="DescribeZones", ErrorCode="InternalError")
    fresh_emulator.configure(TransitionSeconds=7)

    reply = fresh_emulator.reset()
    assert reply["Reset"] is True
    assert reply["Config"]["Throttle"] is True
    assert reply["Config"]["TransitionSeconds"] == pytest.approx(0.02)
    counters = fresh_emulator.counters()
    assert counters["Calls"] == {} and counters["FaultsInjected"] == 0
    assert fresh_emulator.control("GET", "/_emulator/faults") == {"Rules": []}
    assert describe(fresh_emulator, InstanceIds=["ins-2n9bmcww"]).InstanceSet[0].InstanceName == "123"


def test_new_accounts_are_empty_and_separate(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.control(
        "POST", "/_emulator/accounts", {"SecretId": "AKIDTESTNEWACCOUNT", "SecretKey": "k-1"}
    )
    empty = describe(fresh_emulator, secret_id="AKIDTESTNEWACCOUNT", secret_key="k-1")
    assert (empty.TotalCount, empty.InstanceSet) == (0, [])
    # The wrong key for the new account fails like any other.
    with pytest.raises(TencentCloudSDKException) as raised:
        describe(fresh_emulator, secret_id="AKIDTESTNEWACCOUNT", secret_key="k-2")
    assert raised.value.code == "AuthFailure.SignatureFailure"
    fresh_emulator.reset()
    with pytest.raises(TencentCloudSDKException) as raised:
        describe(fresh_emulator, secret_id="AKIDTESTNEWACCOUNT", secret_key="k-1")
    assert raised.value.code == "AuthFailure.SecretIdNotFound"


def test_seed_ten_thousand_instances(fresh_emulator: EmulatorProcess) -> None:
    fresh_emulator.control("POST", "/_emulator/accounts", {"SecretId": "AKIDTESTSEEDING", "SecretKey": "k"})
    reply = fresh_emulator.seed(10_000, secret_id="AKIDTESTSEEDING", region="ap-shanghai", NamePrefix="bulk")
    instance_ids = reply["InstanceIds"]
    assert len(instance_ids) == len(set(instance_ids)) == 10_000
    page = describe(
        fresh_emulator, secret_id="AKIDTESTSEEDING", secret_key="k", region="ap-shanghai", Limit=100
    )
    assert page.TotalCount == 10_000
    assert len(page.InstanceSet) == 100
    assert {instance.InstanceState for instance in page.InstanceSet} == {"RUNNING"}
    assert fresh_emulator.counters()["Instances"]["AKIDTESTSEEDING"]["ap-shanghai"] == 10_000


def test_counters_shape(fresh_emulator: EmulatorProcess) -> None:
    describe(fresh_emulator)
    counters = fresh_emulator.counters()
    assert {
        "Calls",
        "Throttled",
        "ThrottledByAction",
        "FaultsInjected",
        "ConnectionsAccepted",
        "PeakConcurrentRequests",
        "Instances",
    } <= set(counters)
    assert counters["Calls"] == {DEMO_SECRET_ID: {"DescribeInstances": 1}}
    assert counters["Instances"][DEMO_SECRET_ID]["ap-guangzhou"] >= 1
    assert counters["PeakConcurrentRequests"] >= 1
    zeroed = fresh_emulator.reset_counters()
    assert zeroed["Calls"] == {} and zeroed["Throttled"] == 0


def test_the_request_journal_shows_what_reached_the_model_without_passwords(
    fresh_emulator: EmulatorProcess,
) -> None:
    run = cvm_models.RunInstancesRequest()
    run.from_json_string(
        json.dumps(
            {
                "Placement": {"Zone": "ap-guangzhou-3"},
                "ImageId": "img-n7nyt2d7",
                "InstanceType": "MA2.SMALL8",
                "ClientToken": "journal-token-1",
                "LoginSettings": {"Password": "Journal-Pass-123"},
            }
        )
    )
    fresh_emulator.cvm_client().RunInstances(run)
    describe(fresh_emulator)

    entries = fresh_emulator.requests()
    assert [entry["Action"] for entry in entries] == ["RunInstances", "DescribeInstances"]
    params = entries[0]["Params"]
    assert (entries[0]["SecretId"], entries[0]["Region"]) == (DEMO_SECRET_ID, "ap-guangzhou")
    assert params["ClientToken"] == "journal-token-1"
    assert params["LoginSettings"] == {"Password": "***"}
    assert "Journal-Pass-123" not in json.dumps(fresh_emulator.control("GET", "/_emulator/requests"))
    fresh_emulator.reset_counters()
    assert fresh_emulator.requests() == []


def test_config_round_trip(fresh_emulator: EmulatorProcess) -> None:
    config = fresh_emulator.configure(
        TransitionSeconds=0.05,
        OperatingLingerSeconds=0.02,
        Throttle=True,
        RateLimits={"DescribeInstances": 5},
    )
    assert config["TransitionSeconds"] == pytest.approx(0.05)
    assert config["OperatingLingerSeconds"] == pytest.approx(0.02)
    assert config["RateLimits"]["DescribeInstances"] == 5
    assert fresh_emulator.control("GET", "/_emulator/config") == config


def test_unknown_control_path_is_json_404(emulator: EmulatorProcess) -> None:
    status, reply = emulator.control_raw("GET", "/_emulator/unknown")
    assert status == 404
    assert reply["Error"]["Code"] == "NotFound"


def test_sigterm_and_sigint_exit_cleanly() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        with start_emulator() as private:
            assert private.control("GET", "/_emulator/faults") == {"Rules": []}
            assert private.process is not None
            private.process.send_signal(signum)
            assert private.process.wait(timeout=15) == 0
            assert private.process.stdout is not None
            assert private.process.stdout.read() == b""  # the listening line was the only stdout output
