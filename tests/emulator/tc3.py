"""Hand-made TC3-HMAC-SHA256 signatures for tests that need headers the SDK does not send.

Built independently of emulator/signature.py (only the SDK's HMAC chain is shared), so a test does not
check the verifier against itself.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from tencentcloud.common.sign import Sign

from tests.support.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY


def sign_by_hand(
    *,
    host: str,
    action: str = "DescribeZones",
    body: bytes = b"{}",
    signed_headers: tuple[str, ...] = ("content-type", "host"),
    extra_headers: dict[str, str] | None = None,
    secret_id: str = DEMO_SECRET_ID,
    secret_key: str = DEMO_SECRET_KEY,
    service: str = "cvm",
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers for a TC3 request, signed independently of emulator.signature (uses the SDK's HMAC chain)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    headers = {
        "Content-Type": "application/json",
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": "2017-03-12",
        "X-TC-Region": "ap-guangzhou",
        "X-TC-Timestamp": str(timestamp),
        **(extra_headers or {}),
    }
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name].strip().lower()}\n" for name in signed_headers)
    canonical = "\n".join(
        ["POST", "/", "", canonical_headers, ";".join(signed_headers), hashlib.sha256(body).hexdigest()]
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        ]
    )
    hex_signature = Sign.sign_tc3(secret_key, date, service, to_sign)
    headers["Authorization"] = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders={';'.join(signed_headers)}, Signature={hex_signature}"
    )
    return headers
