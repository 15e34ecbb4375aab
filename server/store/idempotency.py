"""Pure helpers around idempotency keys: the scope a key lives in, the request fingerprint, the ClientToken.

A caller's key counts within a scope (tenant, cluster, region, operation), so two tenants that happen to
pick the same key never see each other's results. The fingerprint tells "same key, same request" (answer
the stored result) from "same key, another request" (reject). The ClientToken sent to Tencent is derived
from scope and key alone, so every attempt for one key (the service's retries, the caller's retries, a
retry after a crash or on another replica) sends the same token and Tencent creates the machines once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

FINGERPRINT_VERSION = "v1"
MAX_KEY_LENGTH = 255
REDACTED = "<redacted>"

_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")  # printable ASCII, as HTTP headers carry


def idempotency_key_problem(key: str) -> str | None:
    """None if `key` is acceptable, else why not (for a BadRequest field violation)."""
    if _KEY.fullmatch(key) and key.strip():
        return None
    return f"an idempotency key must be 1-{MAX_KEY_LENGTH} printable ASCII characters, not only spaces"


def idempotency_scope(*, tenant: str, cluster: str, region: str, operation: str) -> str:
    """The scope string for Store.claim. JSON, so no choice of ids can make two scopes collide."""
    return json.dumps([tenant, cluster, region, operation], ensure_ascii=True, separators=(",", ":"))


def client_token_for_key(scope: str, key: str) -> str:
    """The RunInstances ClientToken for a caller's key: 64 hex characters (Tencent's limit is 64 ASCII)."""
    return hashlib.sha256(f"{FINGERPRINT_VERSION}\n{scope}\n{key}".encode()).hexdigest()


def fingerprint(message: Mapping[str, Any], *, exclude: Collection[str] = ("ClientToken",)) -> str:
    """A stable digest of a request (a dict of JSON values, e.g. the normalized create parameters).

    - Top-level keys in `exclude` (the idempotency key itself) do not count.
    - Key order does not matter; list order does.
    - Secret fields (any key containing "password" or "secret", at any depth) count only as present or
      absent: their values never enter the digest, because a fast unsalted hash of a short password stored
      in the database could be reversed by guessing. So a retry that changes only the password is taken as
      the same request (the machines were created with the first one).
    Pass the request after defaults are applied, so an explicit default and an omitted field agree.
    """
    canonical = _canonical({k: v for k, v in message.items() if k not in exclude})
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return f"{FINGERPRINT_VERSION}:{hashlib.sha256(text.encode('ascii')).hexdigest()}"


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return "password" in lowered or "secret" in lowered


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if is_secret_field(str(k)) and v not in (None, "") else _canonical(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    raise TypeError(f"fingerprint takes JSON values only, not {type(value).__name__}")
