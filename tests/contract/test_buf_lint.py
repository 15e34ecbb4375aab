"""buf lint is clean with the standard rules, minus the one documented exception (FIELD_LOWER_SNAKE_CASE)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUF = REPO_ROOT / ".venv" / "bin" / "buf"


def _lint(workspace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUF), "lint", "--error-format", "json"],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _violations(result: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _copy_workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(REPO_ROOT / "buf.yaml", workspace / "buf.yaml")
    shutil.copytree(REPO_ROOT / "proto", workspace / "proto")
    shutil.copytree(REPO_ROOT / "third_party", workspace / "third_party")
    return workspace


def test_buf_lint_is_clean() -> None:
    result = _lint(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_only_exception_is_field_lower_snake_case_and_it_is_explained() -> None:
    text = (REPO_ROOT / "buf.yaml").read_text()
    assert "except:\n        - FIELD_LOWER_SNAKE_CASE\n" in text
    assert "cluster_uuid" in text, "buf.yaml must explain the exception"


def test_without_the_exception_only_field_names_are_reported(tmp_path: Path) -> None:
    workspace = _copy_workspace(tmp_path)
    config = workspace / "buf.yaml"
    config.write_text(config.read_text().replace("      except:\n        - FIELD_LOWER_SNAKE_CASE\n", ""))
    rules = {violation["type"] for violation in _violations(_lint(workspace))}
    assert rules == {"FIELD_LOWER_SNAKE_CASE"}


def test_lint_really_checks_the_contract(tmp_path: Path) -> None:
    """Guard against a config that lints nothing: a new violation in proto/ is reported."""
    workspace = _copy_workspace(tmp_path)
    proto = workspace / "proto/tencent/compute/v1/compute.proto"
    proto.write_text(proto.read_text() + "\nenum Colour {\n  RED = 0;\n}\n")
    result = _lint(workspace)
    assert result.returncode != 0
    assert "ENUM_VALUE_PREFIX" in {violation["type"] for violation in _violations(result)}
