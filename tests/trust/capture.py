"""What the trust tests saw and which secrets they used, for the secrets check and the closing figures.

- `register_secret(value)`: a SecretKey, password, bearer token or JWT a test sent. The check at the end of
  the run (conftest.py) fails if any registered value shows in anything captured.
- `record(kind, text)`: a reply, error message, trailer or exception text a test received; appended to a
  file in the capture directory (tests/support/captured.py), next to the processes' logs and stores.
- `add_figure(name, value)`: a count for the closing note (fault test, fuzz), printed in pytest's terminal
  summary and written to `<capture dir>/trust-figures.json` (and /tmp/compute-trust-figures.json).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.captured import capture_dir
from tests.support.emulator import DEMO_SECRET_KEY, OTHER_SECRET_KEY

# The legacy document's create/reset examples send this password; many tests reuse them.
LEGACY_EXAMPLE_PASSWORD = "964322396.cda"

_lock = threading.Lock()
_secrets: set[str] = {DEMO_SECRET_KEY, OTHER_SECRET_KEY, LEGACY_EXAMPLE_PASSWORD}
_figures: dict[str, Any] = {}
FIGURES_FILE = Path("/tmp/compute-trust-figures.json")


def register_secret(value: str) -> str:
    """Remember `value` as a secret that must never show in captured output; returns it."""
    if len(value) < 8:
        raise ValueError("secrets shorter than 8 characters would match by accident; use longer ones")
    with _lock:
        _secrets.add(value)
    return value


def secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def record(kind: str, text: str | bytes | Any) -> None:
    """Keep something a test received (a reply body, an error's details, trailers, exception text)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False, default=str)
    line = json.dumps({"kind": kind, "text": text}, ensure_ascii=False)
    with _lock, (capture_dir() / "trust-replies.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def add_figure(name: str, value: Any) -> None:
    with _lock:
        _figures[name] = value
        text = json.dumps(_figures, indent=2, sort_keys=True, ensure_ascii=False)
    (capture_dir() / "trust-figures.json").write_text(text, encoding="utf-8")
    FIGURES_FILE.write_text(text, encoding="utf-8")


def figures() -> dict[str, Any]:
    with _lock:
        return dict(_figures)


@dataclass(frozen=True)
class Finding:
    path: Path
    secret_hint: str  # never the secret itself: its length and first two characters


def scan(paths: Iterable[Path], values: Iterable[str]) -> list[Finding]:
    """Every (file, secret) where the secret's bytes occur in the file: UTF-8, and the JSON-escaped (ASCII)
    form too, since logs and trailers escape non-ASCII."""
    needles: list[tuple[str, set[bytes]]] = []
    for value in values:
        escaped = json.dumps(value, ensure_ascii=True)[1:-1].encode("ascii")
        needles.append((f"{value[:2]}...({len(value)} chars)", {value.encode("utf-8"), escaped}))
    findings: list[Finding] = []
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        for hint, forms in needles:
            if any(form in data for form in forms):
                findings.append(Finding(path, hint))
    return findings


def captured_files() -> list[Path]:
    return sorted(path for path in capture_dir().iterdir() if path.is_file())
