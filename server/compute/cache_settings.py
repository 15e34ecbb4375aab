"""The `[cache]` table: how long the listing snapshot (server/compute/snapshot.py) and the name caches
(server/compute/name_cache.py) may reuse what Tencent answered."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from server.config_errors import ConfigError, reject_unknown_keys

_KEYS = frozenset({"snapshot_ttl_seconds", "family_names_ttl_seconds", "vpc_names_ttl_seconds"})


@dataclass(frozen=True)
class CacheSettings:
    """The `[cache]` table: how long listings and names may be reused (seconds; 0 = not cached).

    [cache]
    snapshot_ttl_seconds = 5         # listing snapshot per cluster, tenant and region; default 0 (off)
    family_names_ttl_seconds = 3600  # instance family names per account, region and language
    vpc_names_ttl_seconds = 60       # VPC names per account and region
    """

    snapshot_ttl_seconds: float = 0.0
    family_names_ttl_seconds: float = 3600.0
    vpc_names_ttl_seconds: float = 60.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        reject_unknown_keys(data, _KEYS, "[cache]")
        values = {name: _seconds(data.get(name, getattr(cls, name)), name) for name in _KEYS}
        return cls(**values)


def _seconds(value: Any, name: str) -> float:
    # bool is an int subclass: `snapshot_ttl_seconds = true` must not become 1 second.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"[cache] {name} must be a number of seconds >= 0, got {value!r}")
    return float(value)
