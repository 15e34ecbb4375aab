"""The `[store]` table: where idempotency records and the audit trail live, how long keys count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from server.config_errors import ConfigError, reject_unknown_keys

DEFAULT_PATH = Path("var/compute.db")


class StoreConfigError(ConfigError):
    """The `[store]` table is invalid; the message names the offending key."""


@dataclass(frozen=True)
class StoreSettings:
    # SQLite file, relative to the working directory; created (with its directory) if missing. Replicas
    # that must honour each other's idempotency keys point at the same file on a local filesystem.
    path: Path = DEFAULT_PATH
    # How long a caller's idempotency key is remembered after its last use. Audit records are never purged.
    idempotency_ttl_hours: float = 24.0
    # How long a write waits for another connection's (or replica's) transaction before failing.
    busy_timeout_ms: int = 5000

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        reject_unknown_keys(
            data, ("path", "idempotency_ttl_hours", "busy_timeout_ms"), "[store]", StoreConfigError
        )
        path = data.get("path", str(DEFAULT_PATH))
        if not isinstance(path, str) or not path.strip():
            raise StoreConfigError("store.path must be a file path")
        ttl = data.get("idempotency_ttl_hours", cls.idempotency_ttl_hours)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= 24 * 366:
            raise StoreConfigError("store.idempotency_ttl_hours must be a number of hours, more than 0")
        busy = data.get("busy_timeout_ms", cls.busy_timeout_ms)
        if isinstance(busy, bool) or not isinstance(busy, int) or not 0 <= busy <= 600_000:
            raise StoreConfigError("store.busy_timeout_ms must be an integer from 0 to 600000")
        return cls(path=Path(path), idempotency_ttl_hours=float(ttl), busy_timeout_ms=busy)
