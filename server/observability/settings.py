"""Settings for the `[observability]` table of the service configuration.

    [observability]
    metrics_enabled = true         # serve Prometheus metrics on their own HTTP port
    metrics_host = "127.0.0.1"     # loopback by default: expose deliberately, never by accident
    metrics_port = 9464            # 0 picks a free port (the server logs the one it got)
    log_level = "INFO"             # DEBUG, INFO, WARNING, ERROR, CRITICAL
    json_logs = true               # one JSON object per line; false gives plain text for a terminal

Every key is optional; an unknown key is an error so that a typo does not silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

from server.config_errors import ConfigError, reject_unknown_keys

DEFAULT_METRICS_HOST = "127.0.0.1"
DEFAULT_METRICS_PORT = 9464  # the port OpenTelemetry/Prometheus exporters conventionally use
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class ObservabilitySettings:
    metrics_enabled: bool = True
    metrics_host: str = DEFAULT_METRICS_HOST
    metrics_port: int = DEFAULT_METRICS_PORT
    log_level: str = "INFO"
    json_logs: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        reject_unknown_keys(data, {f.name for f in fields(cls)}, "[observability]")

        defaults = cls()
        metrics_enabled = _bool(data, "metrics_enabled", defaults.metrics_enabled)
        json_logs = _bool(data, "json_logs", defaults.json_logs)

        metrics_host = data.get("metrics_host", defaults.metrics_host)
        if not isinstance(metrics_host, str) or not metrics_host:
            raise ConfigError("[observability]: metrics_host must be a non-empty string")

        metrics_port = data.get("metrics_port", defaults.metrics_port)
        # bool is an int subclass: `metrics_port = true` must not mean port 1.
        if (
            isinstance(metrics_port, bool)
            or not isinstance(metrics_port, int)
            or not 0 <= metrics_port <= 65535
        ):
            raise ConfigError(
                "[observability]: metrics_port must be an integer from 0 to 65535 (0 = any free port)"
            )

        log_level = data.get("log_level", defaults.log_level)
        if not isinstance(log_level, str) or log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"[observability]: log_level must be one of {', '.join(LOG_LEVELS)}")

        return cls(
            metrics_enabled=metrics_enabled,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
            log_level=log_level.upper(),
            json_logs=json_logs,
        )


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"[observability]: {key} must be true or false")
    return value
