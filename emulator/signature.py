"""TC3-HMAC-SHA256 verification, as Tencent's API gateway does it (SDK `common/sign.py` is the client side).

The canonical request is rebuilt from what arrived on the wire: the method, the path, the raw query string,
the headers the client listed in `SignedHeaders` (the `Host` header exactly as received, names and values
lowercased and trimmed) and the SHA-256 of the body. The credential scope's service (`cvm` or `vpc`) is part
of the signing key, so it also tells which API the caller meant: that is how requests are routed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from emulator.errors import ApiError

ALGORITHM = "TC3-HMAC-SHA256"
MAX_CLOCK_SKEW_SECONDS = 300  # Tencent rejects a timestamp more than five minutes off
SERVICES = frozenset({"cvm", "vpc"})
REQUIRED_SIGNED_HEADERS = frozenset({"content-type", "host"})
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_AUTHORIZATION = re.compile(
    r"^(?P<algorithm>\S+)\s+"
    r"Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed_headers>[^,\s]+)\s*,\s*"
    r"Signature=(?P<signature>[0-9a-fA-F]{64})\s*$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Authorization:
    """The parts of an `Authorization: TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


@dataclass(frozen=True)
class SignedRequest:
    """What verification needs from an HTTP request. `headers` maps lowercased names to raw values."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Caller:
    secret_id: str
    service: str


def parse_authorization(value: str | None) -> Authorization:
    if not value:
        raise _invalid_authorization()
    match = _AUTHORIZATION.match(value.strip())
    if match is None or match["algorithm"] != ALGORITHM:
        raise _invalid_authorization()
    scope = match["credential"].split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not scope[0] or not _DATE.match(scope[1]):
        raise _invalid_authorization()
    signed_headers = tuple(name.strip().lower() for name in match["signed_headers"].split(";"))
    if any(not name for name in signed_headers) or not set(signed_headers) >= REQUIRED_SIGNED_HEADERS:
        raise _invalid_authorization()
    return Authorization(
        secret_id=scope[0],
        date=scope[1],
        service=scope[2],
        signed_headers=signed_headers,
        signature=match["signature"].lower(),
    )


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    payload_sha256: str,
) -> str:
    """The signed headers in the order the client listed them (the SDK lists them sorted)."""
    canonical_headers = "".join(
        f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers
    )
    return "\n".join((method, path, query, canonical_headers, ";".join(signed_headers), payload_sha256))


def string_to_sign(timestamp: str, date: str, service: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


@lru_cache(maxsize=256)
def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """The HMAC chain "TC3"+SecretKey -> date -> service -> "tc3_request" (cached: it changes once a day)."""
    key = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac(key, service)
    return _hmac(key, "tc3_request")


def compute_signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    return hmac.new(
        signing_key(secret_key, date, service), to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def payload_sha256(headers: Mapping[str, str], body: bytes) -> str:
    if headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD:
        body = UNSIGNED_PAYLOAD.encode("ascii")
    return hashlib.sha256(body).hexdigest()


def verify(request: SignedRequest, secret_key_for: Callable[[str], str | None], now: float) -> Caller:
    """Check one request's signature; raise the `AuthFailure.*` error Tencent would give."""
    auth = parse_authorization(request.headers.get("authorization"))
    if auth.service not in SERVICES:
        raise ApiError(
            "AuthFailure.InvalidAuthorization",
            f"The service `{auth.service}` in the credential scope is not served here (cvm, vpc).",
            f"凭证范围中的服务 `{auth.service}` 不受支持（cvm、vpc）。",
        )
    timestamp = request.headers.get("x-tc-timestamp", "").strip()
    if not timestamp:
        raise ApiError(
            "MissingParameter",
            "The request is missing a required parameter `Timestamp`.",
            "缺少必选参数 `Timestamp`。",
        )
    if not timestamp.isdigit():
        raise ApiError(
            "InvalidParameter",
            f"The value of `X-TC-Timestamp` ({timestamp[:32]}) is not a unix time in seconds.",
            f"`X-TC-Timestamp` 的值（{timestamp[:32]}）不是以秒为单位的 Unix 时间。",
        )
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            f"Signature expired. Timestamp: {timestamp}; server time: {int(now)}. "
            "The timestamp must be within five minutes of the server time.",
            f"签名过期。Timestamp：{timestamp}，服务器时间：{int(now)}。"
            "Timestamp 与服务器时间相差不得超过五分钟，请检查本地时间是否与标准时间同步。",
        )
    secret_key = secret_key_for(auth.secret_id)
    if secret_key is None:
        raise ApiError(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
            "密钥不存在，请检查 SecretId 是否填写正确。",
        )
    expected_date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    canonical = canonical_request(
        request.method,
        request.path,
        request.query,
        request.headers,
        auth.signed_headers,
        payload_sha256(request.headers, request.body),
    )
    expected = compute_signature(
        secret_key, auth.date, auth.service, string_to_sign(timestamp, auth.date, auth.service, canonical)
    )
    # The scope's date must be the timestamp's UTC date; a mismatch fails like a wrong signature.
    if not hmac.compare_digest(expected, auth.signature) or auth.date != expected_date:
        raise ApiError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
            "请求签名验证失败，请检查您的签名计算是否正确。",
        )
    return Caller(secret_id=auth.secret_id, service=auth.service)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _invalid_authorization() -> ApiError:
    return ApiError(
        "AuthFailure.InvalidAuthorization",
        "Check the `Authorization` in the request header: it is not a well-formed TC3-HMAC-SHA256 value "
        "(`TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, "
        "SignedHeaders=content-type;host, Signature=<hex>`).",
        "请求头部的 Authorization 不符合腾讯云 TC3-HMAC-SHA256 标准。",
    )
