"""The wire protocol: POST JSON and GET flattened parameters, exact replies, languages, keep-alive."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from emulator import wire
from emulator.errors import ApiError
from emulator.http_server import EmulatorServer
from tests.emulator.fake_backend import FakeBackend, serve
from tests.support.emulator import EmulatorProcess, common_client, start_emulator

# --- parsing, unit level ---


def test_flattened_query_becomes_nested_objects_and_lists() -> None:
    query = (
        "InstanceIds.0=ins-a&InstanceIds.1=ins-b&Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3"
        "&Filters.0.Values.1=ap-guangzhou-4&Filters.1.Name=instance-name&Filters.1.Values.0=%E6%9C%AA%E5%91%BD%E5%90%8D"
        "&Placement.Zone=ap-guangzhou-3&Limit=100&DryRun=True&Empty="
    )
    assert wire.parse_query(query) == {
        "InstanceIds": ["ins-a", "ins-b"],
        "Filters": [
            {"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]},
            {"Name": "instance-name", "Values": ["未命名"]},
        ],
        "Placement": {"Zone": "ap-guangzhou-3"},
        "Limit": "100",  # GET values stay strings: the model coerces them by the spec
        "DryRun": "True",
        "Empty": "",
    }


def test_list_order_follows_indexes_not_arrival() -> None:
    assert wire.parse_query("Ids.1=b&Ids.0=a&Ids.2=c") == {"Ids": ["a", "b", "c"]}
    assert wire.parse_query("") == {}


@pytest.mark.parametrize(
    "query",
    ["Ids.0=a&Ids.2=c", "A=1&A.0=2", "A.0=2&A=1", "A=1&A=2", "A..B=1", ".A=1", "Ids.0=a&Ids.0=b"],
)
def test_malformed_flattened_parameters(query: str) -> None:
    with pytest.raises(ApiError) as raised:
        wire.parse_query(query)
    assert raised.value.code == "InvalidParameter"


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b"\xff\xfe", b'"text"'])
def test_post_body_must_be_a_json_object(body: bytes) -> None:
    with pytest.raises(ApiError) as raised:
        wire.parse_json_body(body)
    assert raised.value.code == "InvalidParameter"


def test_empty_post_body_means_no_parameters() -> None:
    assert wire.parse_json_body(b"") == {}
    assert wire.parse_json_body(b'{"Limit": 1}') == {"Limit": 1}


def test_envelopes() -> None:
    assert json.loads(wire.encode_success({"TotalCount": 0, "InstanceSet": []}, "rid")) == {
        "Response": {"TotalCount": 0, "InstanceSet": [], "RequestId": "rid"}
    }
    error = ApiError("InvalidZone.MismatchRegion", "Zone mismatch.", "可用区与地域不匹配。")
    assert json.loads(wire.encode_error(error, "en-US", "rid")) == {
        "Response": {
            "Error": {"Code": "InvalidZone.MismatchRegion", "Message": "Zone mismatch."},
            "RequestId": "rid",
        }
    }
    assert (
        json.loads(wire.encode_error(error, "zh-CN", "rid"))["Response"]["Error"]["Message"]
        == "可用区与地域不匹配。"
    )


def test_language_choice() -> None:
    assert wire.choose_language(None) == "zh-CN"
    assert wire.choose_language("en-US") == "en-US"
    assert wire.choose_language("fr-FR") == "zh-CN"


# --- the HTTP layer in process, around a fake backend that echoes what it was handed ---


@pytest.fixture
def echo_server() -> Iterator[EmulatorServer]:
    with serve(FakeBackend()) as server:
        yield server


def test_sdk_get_mode_parameters_arrive_nested(echo_server: EmulatorServer) -> None:
    client = common_client(f"127.0.0.1:{echo_server.port}", method="GET")
    params = {
        "InstanceIds": ["ins-2n9bmcww"],
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0},
        "Limit": 100,
        "DryRun": True,
    }
    echo = client.call_json("DescribeInstances", params)["Response"]["Echo"]
    assert echo["Params"] == {
        "InstanceIds": ["ins-2n9bmcww"],
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": "0"},
        "Limit": "100",
        "DryRun": "True",
    }
    assert (echo["Service"], echo["Action"], echo["Version"], echo["Region"]) == (
        "cvm",
        "DescribeInstances",
        "2017-03-12",
        "ap-guangzhou",
    )


def test_sdk_post_mode_parameters_keep_json_types(echo_server: EmulatorServer) -> None:
    client = common_client(f"127.0.0.1:{echo_server.port}", service="vpc")
    reply = client.call_json("DescribeVpcs", {"Offset": "0", "Limit": "20", "Filters": []})["Response"]
    assert reply["Echo"]["Params"] == {"Offset": "0", "Limit": "20", "Filters": []}
    assert reply["Echo"]["Service"] == "vpc"
    # The RequestId the model was given is the one the reply carries.
    assert reply["Echo"]["RequestId"] == reply["RequestId"]


def test_model_errors_are_rendered_in_the_asked_language(echo_server: EmulatorServer) -> None:
    endpoint = f"127.0.0.1:{echo_server.port}"
    with pytest.raises(TencentCloudSDKException) as raised:
        common_client(endpoint, language="en-US").call_json("Fail", {})
    assert (raised.value.code, raised.value.message) == ("InvalidParameterValue", "English message.")
    with pytest.raises(TencentCloudSDKException) as raised:
        common_client(endpoint).call_json("Fail", {})
    assert raised.value.message == "中文消息。"


def test_a_model_crash_is_an_internal_error_with_a_request_id(echo_server: EmulatorServer) -> None:
    with pytest.raises(TencentCloudSDKException) as raised:
        common_client(f"127.0.0.1:{echo_server.port}").call_json("Crash", {})
    assert raised.value.code == "InternalError"
    assert uuid.UUID(raised.value.requestId)


# --- end to end against the real emulator process ---


def raw_post(
    emulator: EmulatorProcess, headers: dict[str, str], body: bytes = b"{}"
) -> tuple[int, dict[str, str], dict[str, Any]]:
    status, reply_headers, raw = emulator.request("POST", "/", body, headers)
    return status, reply_headers, json.loads(raw)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Authorization, no action
        {"X-TC-Action": "DescribeZones", "X-TC-Version": "2017-03-12"},  # unsigned
        {"X-TC-Version": "2017-03-12", "Authorization": "x"},  # no action
    ],
)
def test_every_reply_is_exact_json_with_a_request_id(
    emulator: EmulatorProcess, headers: dict[str, str]
) -> None:
    status, reply_headers, body = raw_post(emulator, {"Content-Type": "application/json", **headers})
    assert status == 200
    assert reply_headers["Content-Type"] == "application/json"
    assert set(body) == {"Response"}
    assert set(body["Response"]) == {"Error", "RequestId"}
    assert set(body["Response"]["Error"]) == {"Code", "Message"}
    assert uuid.UUID(body["Response"]["RequestId"]).version == 4


def test_invalid_json_body_is_a_tencent_error(emulator: EmulatorProcess) -> None:
    status, headers, body = raw_post(emulator, {"Content-Type": "application/json"}, b"{oops")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert body["Response"]["Error"]["Code"] == "InvalidParameter"


def test_success_replies_carry_exact_content_type_and_request_ids(emulator: EmulatorProcess) -> None:
    client = emulator.common_client()
    first = client.call_json("DescribeZones", {})["Response"]
    second = client.call_json("DescribeZones", {})["Response"]
    assert uuid.UUID(first["RequestId"]) != uuid.UUID(second["RequestId"])
    # And the typed client parses the same reply (it would silently return an empty model otherwise).
    zones = emulator.cvm_client().DescribeZones(cvm_models.DescribeZonesRequest())
    assert zones.TotalCount == len(zones.ZoneSet) > 0


def test_cvm_client_in_get_mode(fresh_emulator: EmulatorProcess) -> None:
    client = fresh_emulator.cvm_client(method="GET")
    request = cvm_models.DescribeInstancesRequest()
    request.from_json_string(
        json.dumps({"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}], "Limit": 100, "Offset": 0})
    )
    reply = client.DescribeInstances(request)
    assert "ins-2n9bmcww" in [instance.InstanceId for instance in reply.InstanceSet]
    by_ids = cvm_models.DescribeInstancesRequest()
    by_ids.InstanceIds = ["ins-2n9bmcww"]
    only = client.DescribeInstances(by_ids)
    assert [instance.InstanceId for instance in only.InstanceSet] == ["ins-2n9bmcww"]


def test_common_client_in_get_mode(fresh_emulator: EmulatorProcess) -> None:
    client = fresh_emulator.common_client(method="GET")
    reply = client.call_json(
        "DescribeInstances", {"Filters": [{"Name": "instance-name", "Values": ["123"]}], "Limit": 10}
    )["Response"]
    assert [instance["InstanceId"] for instance in reply["InstanceSet"]] == ["ins-2n9bmcww"]
    vpcs = fresh_emulator.common_client(service="vpc", method="GET").call_json("DescribeVpcs", {"Limit": "5"})
    assert vpcs["Response"]["TotalCount"] >= 1


def test_language_selects_localized_zone_names(emulator: EmulatorProcess) -> None:
    def zone_name(language: str) -> str:
        request = cvm_models.DescribeZonesRequest()
        zones = emulator.cvm_client(language=language).DescribeZones(request).ZoneSet
        return next(zone.ZoneName for zone in zones if zone.Zone == "ap-guangzhou-3")

    assert zone_name("zh-CN") == "广州三区"
    assert zone_name("en-US") == "Guangzhou Zone 3"


def test_language_selects_error_messages(emulator: EmulatorProcess) -> None:
    def message(language: str) -> str:
        client = emulator.cvm_client(secret_key="wrong", language=language)
        with pytest.raises(TencentCloudSDKException) as raised:
            client.DescribeZones(cvm_models.DescribeZonesRequest())
        assert raised.value.code == "AuthFailure.SignatureFailure"
        return str(raised.value.message)

    assert message("en-US").isascii()
    assert not message("zh-CN").isascii()


def test_raw_keep_alive_serves_several_requests_on_one_connection(emulator: EmulatorProcess) -> None:
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=30)
    try:
        for _ in range(3):
            connection.request("GET", "/_emulator/faults")
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") is None  # not closing
            response.read()
    finally:
        connection.close()


def test_sdk_client_reuses_one_tcp_connection() -> None:
    # A private emulator, so that nobody else's connections show in the global counter.
    with start_emulator() as private:
        private.set_throttle(False)
        private.reset_counters()  # the connection carrying this request was accepted before the reset
        client = private.cvm_client()
        for _ in range(50):
            client.DescribeInstances(cvm_models.DescribeInstancesRequest())
        counters = private.counters()
    assert counters["Calls"] == {"AKIDEMULATORDEMO": {"DescribeInstances": 50}}
    # One connection for the 50 SDK calls, one for the request that read the counters.
    assert counters["ConnectionsAccepted"] == 2
