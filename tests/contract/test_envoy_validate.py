"""envoy.yaml passes `envoy --mode validate` (from the repository root, where it finds gen/compute.pb), and
the test renderer rewrites exactly its three fixed addresses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.envoy import ENVOY_BIN, ENVOY_CONFIG, render_envoy_config
from tests.support.processes import REPO_ROOT


def _validate(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENVOY_BIN), "--mode", "validate", "-c", str(config), "--disable-hot-restart"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_envoy_yaml_validates() -> None:
    result = _validate(ENVOY_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_copy_validates(tmp_path: Path) -> None:
    rendered = render_envoy_config(
        ENVOY_CONFIG.read_text(),
        listener="127.0.0.1:18080",
        admin="127.0.0.1:19901",
        upstream="127.0.0.1:15051",
    )
    for fixed in ("port_value: 8080}", "port_value: 9901}", "port_value: 50051}"):
        assert fixed not in rendered
    config = tmp_path / "envoy.yaml"
    config.write_text(rendered)
    result = _validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_catches_a_broken_config(tmp_path: Path) -> None:
    """The validation test can fail: a missing descriptor set is reported."""
    config = tmp_path / "envoy.yaml"
    config.write_text(ENVOY_CONFIG.read_text().replace("gen/compute.pb", "gen/missing.pb"))
    assert _validate(config).returncode != 0


def test_renderer_refuses_a_config_without_the_fixed_addresses() -> None:
    with pytest.raises(ValueError, match="port_value: 8080"):
        render_envoy_config(ENVOY_CONFIG.read_text().replace("port_value: 8080}", "port_value: 8081}"))
