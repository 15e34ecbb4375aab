"""Starting and stopping the suite's real processes, the same way for each of them.

The emulator and the server each print one line to stdout once they accept connections (`emulator listening
on http://127.0.0.1:<port>`, `compute server listening on 127.0.0.1:<port>`); `announced_process` waits for
that line and reads the address from it. `stop_process` ends any of them (Envoy too) without leaving a child
behind: SIGTERM, so servers shut down gracefully, then a kill if that takes too long.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 60.0
KILL_WAIT_SECONDS = 10.0


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM (unless it already exited), wait up to `timeout` seconds, then kill. Returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=KILL_WAIT_SECONDS)
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def _read_first_line(process: subprocess.Popen[bytes], deadline: float, name: str) -> str:
    """The first stdout line, read without blocking past `deadline` (a hung child must fail the test)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                raise TimeoutError(f"the {name} did not print its listening line in time")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the {name} exited early with code {process.wait()}")
            line += chunk
        return line.decode("utf-8").strip()
    finally:
        selector.close()


@contextlib.contextmanager
def announced_process(
    name: str, command: Sequence[str], *, env: Mapping[str, str], log_path: Path, prefix: str
) -> Iterator[tuple[subprocess.Popen[bytes], str, int]]:
    """Run `command` from the repository root, stderr to `log_path`, until the block ends. Yields the process
    and the host and port of its first stdout line, `<prefix><host>:<port>`. The process is stopped on the
    way out (`stop_process`) unless the block stopped it already."""
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            list(command), cwd=REPO_ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=log_file
        )
    try:
        try:
            line = _read_first_line(process, time.monotonic() + STARTUP_TIMEOUT_SECONDS, name)
        except (TimeoutError, RuntimeError) as error:
            raise RuntimeError(f"{error}; {name} log:\n{log_path.read_text(errors='replace')}") from error
        if not line.startswith(prefix):
            raise RuntimeError(f"unexpected first line from the {name}: {line!r}")
        host, _, port = line[len(prefix) :].rpartition(":")
        yield process, host, int(port)
    finally:
        stop_process(process)
