"""The [observability] settings table: defaults, accepted values, and errors for everything else."""

from __future__ import annotations

import pytest

from server.observability.settings import ObservabilitySettings


def test_settings_defaults_and_validation() -> None:
    defaults = ObservabilitySettings.from_mapping({})
    assert (defaults.metrics_enabled, defaults.metrics_host, defaults.metrics_port) == (
        True,
        "127.0.0.1",
        9464,
    )
    assert (defaults.log_level, defaults.json_logs) == ("INFO", True)

    custom = ObservabilitySettings.from_mapping(
        {"metrics_port": 0, "metrics_enabled": False, "log_level": "debug", "json_logs": False}
    )
    assert (custom.metrics_port, custom.metrics_enabled, custom.log_level, custom.json_logs) == (
        0,
        False,
        "DEBUG",
        False,
    )

    for bad in (
        {"metrics_port": True},
        {"metrics_port": 70000},
        {"metrics_port": "9464"},
        {"metrics_enabled": "yes"},
        {"log_level": "LOUD"},
        {"metrics_host": ""},
        {"metrics_prot": 1},
    ):
        with pytest.raises(ValueError, match=r"\[observability\]"):
            ObservabilitySettings.from_mapping(bad)
