"""Everything the suite's processes wrote, kept in one directory per pytest run (the secrets check greps it).

The process fixtures (emulator.py, server.py, envoy.py) call `keep(path, kind)` when a process they started
has stopped, before its temporary directory goes away: its log (stdout and stderr), and for the server its
store (the audit trail). Never the server's config file: that holds the clusters' SecretKeys by design.

tests/trust/ reads `capture_dir()` at the end of the run and fails the run if a secret shows anywhere in it.
The directory is removed when the test process exits, unless that check found something (`keep_after_run`)
or the environment sets COMPUTE_TEST_KEEP_CAPTURE=1 (to look at what a run captured).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_dir: Path | None = None
_numbers = itertools.count(1)
_keep = False
KEEP_ENV = "COMPUTE_TEST_KEEP_CAPTURE"


def capture_dir() -> Path:
    """This pytest run's capture directory (created on first use)."""
    global _dir
    with _lock:
        if _dir is None:
            _dir = Path(tempfile.mkdtemp(prefix="compute-test-capture-"))
            atexit.register(_remove)
        return _dir


def keep_after_run() -> None:
    """Leave the capture directory in place when the test process exits."""
    global _keep
    _keep = True


def _remove() -> None:
    if _dir is not None and not _keep and os.environ.get(KEEP_ENV) != "1":
        shutil.rmtree(_dir, ignore_errors=True)


def keep(path: Path, kind: str) -> Path | None:
    """Copy `path` into the capture directory as `<n>-<kind>-<name>`; None if it does not exist."""
    if not path.is_file():
        return None
    target = capture_dir() / f"{next(_numbers):04d}-{kind}-{path.name}"
    shutil.copyfile(path, target)
    return target
