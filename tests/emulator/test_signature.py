"""TC3-HMAC-SHA256 verification: the official test vector, then the real SDK and hand-signed requests
against the real emulator process."""

from __future__ import annotations

import hashlib
import json
import time
import types
from typing import Any

import pytest
from tencentcloud.common import abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from emulator import signature
from emulator.errors import ApiError
from tests.emulator.tc3 import sign_by_hand
from tests.support.emulator import EmulatorProcess

# The official example from Tencent's signature documentation (facts file).
VECTOR_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
VECTOR_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
VECTOR_TIMESTAMP = 1551113065
VECTOR_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
VECTOR_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


def vector_request(signature_hex: str = VECTOR_SIGNATURE, **header_overrides: str) -> signature.SignedRequest:
    headers = {
        "content-type": "application/json; charset=utf-8",
        "host": "cvm.tencentcloudapi.com",
        "x-tc-action": "DescribeInstances",
        "x-tc-timestamp": str(VECTOR_TIMESTAMP),
        "authorization": (
            f"TC3-HMAC-SHA256 Credential={VECTOR_SECRET_ID}/2019-02-25/cvm/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature_hex}"
        ),
        **header_overrides,
    }
    return signature.SignedRequest("POST", "/", "", headers, VECTOR_BODY)


def vector_keys(secret_id: str) -> str | None:
    return VECTOR_SECRET_KEY if secret_id == VECTOR_SECRET_ID else None


def test_official_test_vector_signature() -> None:
    canonical = signature.canonical_request(
        "POST",
        "/",
        "",
        {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"},
        ("content-type", "host"),
        hashlib.sha256(VECTOR_BODY).hexdigest(),
    )
    to_sign = signature.string_to_sign(str(VECTOR_TIMESTAMP), "2019-02-25", "cvm", canonical)
    assert signature.compute_signature(VECTOR_SECRET_KEY, "2019-02-25", "cvm", to_sign) == VECTOR_SIGNATURE


def test_official_test_vector_verifies_as_a_request() -> None:
    caller = signature.verify(vector_request(), vector_keys, now=VECTOR_TIMESTAMP + 10)
    assert caller == signature.Caller(secret_id=VECTOR_SECRET_ID, service="cvm")


def test_unsigned_headers_may_change_but_signed_ones_may_not() -> None:
    # x-tc-action is not in SignedHeaders here, so changing it keeps the signature valid.
    signature.verify(vector_request(**{"x-tc-action": "RunInstances"}), vector_keys, now=VECTOR_TIMESTAMP)
    with pytest.raises(ApiError) as raised:
        signature.verify(
            vector_request(host="cvm.ap-guangzhou.tencentcloudapi.com"), vector_keys, VECTOR_TIMESTAMP
        )
    assert raised.value.code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (VECTOR_TIMESTAMP + 301, "AuthFailure.SignatureExpire"),
        (VECTOR_TIMESTAMP - 301, "AuthFailure.SignatureExpire"),
        (VECTOR_TIMESTAMP + 299, None),
    ],
)
def test_clock_skew_over_five_minutes_is_rejected(now: int, code: str | None) -> None:
    if code is None:
        signature.verify(vector_request(), vector_keys, now=now)
        return
    with pytest.raises(ApiError) as raised:
        signature.verify(vector_request(), vector_keys, now=now)
    assert raised.value.code == code


def test_wrong_signature_and_unknown_secret_id() -> None:
    with pytest.raises(ApiError) as raised:
        signature.verify(vector_request("0" * 64), vector_keys, VECTOR_TIMESTAMP)
    assert raised.value.code == "AuthFailure.SignatureFailure"
    with pytest.raises(ApiError) as raised:
        signature.verify(vector_request(), lambda secret_id: None, VECTOR_TIMESTAMP)
    assert raised.value.code == "AuthFailure.SecretIdNotFound"


def tc3(
    credential: str, signed_headers: str | None = "content-type;host", hex_signature: str = "a" * 64
) -> str:
    signed = "" if signed_headers is None else f" SignedHeaders={signed_headers},"
    return f"TC3-HMAC-SHA256 Credential={credential},{signed} Signature={hex_signature}"


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "garbage",
        tc3("AKID/2019-02-25/cvm/tc3_request").replace("TC3-HMAC-SHA256", "HMAC-SHA256"),
        tc3("AKID/2019-02-25/cvm"),
        tc3("AKID/20190225/cvm/tc3_request"),
        tc3("/2019-02-25/cvm/tc3_request"),
        tc3("AKID/2019-02-25/cvm/tc3_request", signed_headers="host"),
        tc3("AKID/2019-02-25/cvm/tc3_request", signed_headers=None),
        tc3("AKID/2019-02-25/cvm/tc3_request", hex_signature="xyz"),
    ],
)
def test_malformed_authorization(authorization: str) -> None:
    assert signature.parse_authorization(tc3("AKID/2019-02-25/cvm/tc3_request")).secret_id == "AKID"
    with pytest.raises(ApiError) as raised:
        signature.parse_authorization(authorization)
    assert raised.value.code == "AuthFailure.InvalidAuthorization"


def test_the_scope_date_must_be_the_timestamps_utc_date() -> None:
    # Sign consistently with a wrong date in the scope: the HMAC matches, the date check does not.
    canonical = signature.canonical_request(
        "POST",
        "/",
        "",
        {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"},
        ("content-type", "host"),
        hashlib.sha256(VECTOR_BODY).hexdigest(),
    )
    to_sign = signature.string_to_sign(str(VECTOR_TIMESTAMP), "2019-02-24", "cvm", canonical)
    hex_signature = signature.compute_signature(VECTOR_SECRET_KEY, "2019-02-24", "cvm", to_sign)
    request = vector_request(
        hex_signature,
        authorization=(
            f"TC3-HMAC-SHA256 Credential={VECTOR_SECRET_ID}/2019-02-24/cvm/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={hex_signature}"
        ),
    )
    with pytest.raises(ApiError) as raised:
        signature.verify(request, vector_keys, VECTOR_TIMESTAMP)
    assert raised.value.code == "AuthFailure.SignatureFailure"


# --- end to end: the real SDK and hand-signed requests against the real emulator process ---


def post(emulator: EmulatorProcess, headers: dict[str, str], body: bytes = b"{}") -> dict[str, Any]:
    status, reply_headers, raw = emulator.request("POST", "/", body, headers)
    assert status == 200
    assert reply_headers["Content-Type"] == "application/json"
    response: dict[str, Any] = json.loads(raw)["Response"]
    assert response["RequestId"]
    return response


def error_code(response: dict[str, Any]) -> str | None:
    error = response.get("Error")
    return None if error is None else str(error["Code"])


def test_sdk_signed_calls_verify(emulator: EmulatorProcess) -> None:
    zones = emulator.cvm_client().DescribeZones(cvm_models.DescribeZonesRequest())
    assert zones.TotalCount >= 1
    assert zones.RequestId


def sdk_error(call: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as raised:
        call()
    return raised.value


def test_sdk_with_wrong_secret_key(emulator: EmulatorProcess) -> None:
    client = emulator.cvm_client(secret_key="not-the-secret")
    error = sdk_error(lambda: client.DescribeZones(cvm_models.DescribeZonesRequest()))
    assert error.code == "AuthFailure.SignatureFailure"
    assert error.requestId
    assert "not-the-secret" not in error.message


def test_sdk_with_unknown_secret_id(emulator: EmulatorProcess) -> None:
    client = emulator.cvm_client(secret_id="AKIDNOBODYHASTHISKEY")
    error = sdk_error(lambda: client.DescribeZones(cvm_models.DescribeZonesRequest()))
    assert error.code == "AuthFailure.SecretIdNotFound"


def test_sdk_with_a_stale_clock(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK stamps requests with time.time(); give only the SDK a clock ten minutes slow.
    real_time = time.time
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: real_time() - 600))
    error = sdk_error(lambda: emulator.cvm_client().DescribeZones(cvm_models.DescribeZonesRequest()))
    assert error.code == "AuthFailure.SignatureExpire"


def test_missing_or_malformed_authorization_header(emulator: EmulatorProcess) -> None:
    headers = sign_by_hand(host=emulator.endpoint)
    del headers["Authorization"]
    assert error_code(post(emulator, headers)) == "AuthFailure.InvalidAuthorization"
    headers["Authorization"] = "TC3-HMAC-SHA256 Credential=nonsense"
    assert error_code(post(emulator, headers)) == "AuthFailure.InvalidAuthorization"


def test_host_is_taken_as_received(emulator: EmulatorProcess) -> None:
    # Signed for the public host name and sent with that Host header: valid.
    headers = sign_by_hand(host="cvm.tencentcloudapi.com")
    assert error_code(post(emulator, headers)) is None
    # The same signature with the Host we actually connect to: the canonical request differs.
    headers["Host"] = emulator.endpoint
    assert error_code(post(emulator, headers)) == "AuthFailure.SignatureFailure"


def test_signed_headers_list_is_honoured(emulator: EmulatorProcess) -> None:
    signed = ("content-type", "host", "x-tc-action")
    headers = sign_by_hand(host=emulator.endpoint, signed_headers=signed)
    assert error_code(post(emulator, headers)) is None
    # x-tc-action is signed now: changing it after signing breaks the signature.
    headers["X-TC-Action"] = "DescribeRegions"
    assert error_code(post(emulator, headers)) == "AuthFailure.SignatureFailure"
    # An unsigned header (X-TC-Region here) may change without breaking it.
    headers = sign_by_hand(host=emulator.endpoint)
    headers["X-TC-Region"] = "ap-shanghai"
    assert error_code(post(emulator, headers)) is None


def test_tampered_body_fails(emulator: EmulatorProcess) -> None:
    headers = sign_by_hand(host=emulator.endpoint, body=b"{}")
    assert error_code(post(emulator, headers, body=b'{"ZoneIds": []}')) == "AuthFailure.SignatureFailure"


def test_stale_hand_signed_timestamp(emulator: EmulatorProcess) -> None:
    headers = sign_by_hand(host=emulator.endpoint, timestamp=int(time.time()) - 3600)
    assert error_code(post(emulator, headers)) == "AuthFailure.SignatureExpire"


def test_scope_service_routes_to_vpc(emulator: EmulatorProcess) -> None:
    from tencentcloud.vpc.v20170312 import models as vpc_models

    vpcs = emulator.vpc_client().DescribeVpcs(vpc_models.DescribeVpcsRequest())
    assert any(vpc.VpcId == "vpc-evvn0y6d" for vpc in vpcs.VpcSet)


def test_unknown_scope_service(emulator: EmulatorProcess) -> None:
    headers = sign_by_hand(host=emulator.endpoint, service="cbs")
    assert error_code(post(emulator, headers)) == "AuthFailure.InvalidAuthorization"
