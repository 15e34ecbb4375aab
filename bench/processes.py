"""Start and stop the three real processes the benchmark measures: emulator, server, Envoy.

Each runs as a child on free loopback ports; readiness is what the process itself announces (the one
stdout line the emulator and server print once listening) or, for Envoy, its admin `/ready` plus a routed
request. Every process started is registered on a `contextlib.ExitStack`, so it is stopped however the run
ends (normal end, exception, Ctrl-C, SIGTERM turned into SystemExit by `__main__`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

# The one rule for putting envoy.yaml on other ports (plain text replacement of its three fixed addresses,
# TEAM.md), shared with the tests so the two can never disagree about how the file spells them.
from tests.support.envoy import render_envoy_config as envoy_config_on

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ENVOY_BIN = Path(PYTHON).parent / "envoy"

PR_SET_PDEATHSIG = 1  # linux/prctl.h

EMULATOR_READY = re.compile(r"emulator listening on http://127\.0\.0\.1:(\d+)")
SERVER_READY = re.compile(r"compute server listening on 127\.0\.0\.1:(\d+)")


class StartupError(RuntimeError):
    pass


def free_port() -> int:
    """A port free right now on 127.0.0.1 (for Envoy, which cannot report a port it picked itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for children (and this process): no proxy variables, so loopback traffic is never
    sent to a proxy (the Tencent SDK and urllib both honour them)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[str]
    log_path: Path
    port: int = 0
    ports: dict[str, int] = field(default_factory=dict)
    _pump: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM (the server drains in-flight calls on it), then SIGKILL if it has not exited in time."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        if self._pump is not None:
            self._pump.join(timeout=2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _load_prctl() -> Callable[..., int] | None:
    try:
        return cast(Callable[..., int], ctypes.CDLL(None, use_errno=True).prctl)
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()  # resolved here, in the parent: the child after fork should do as little as possible


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when the harness dies, even by SIGKILL, when no
    cleanup code can run. Best effort: without prctl (not Linux) the ExitStack is the only cleanup."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(name: str, argv: list[str], log_dir: Path, env: Mapping[str, str]) -> ManagedProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_file = log_path.open("w")
    popen = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        start_new_session=True,  # our own shutdown order; a terminal Ctrl-C reaches only the harness
        preexec_fn=_die_with_parent,
    )
    log_file.close()  # the child holds its own descriptor
    return ManagedProcess(name=name, popen=popen, log_path=log_path)


def _wait_for_stdout_line(proc: ManagedProcess, pattern: re.Pattern[str], timeout_s: float) -> int:
    """Read stdout until the readiness line; then keep draining it into the log in the background so the
    child never blocks on a full pipe. Returns the port captured by the pattern."""
    assert proc.popen.stdout is not None
    stdout: IO[str] = proc.popen.stdout
    found: list[int] = []
    done = threading.Event()

    def pump() -> None:
        with proc.log_path.open("a") as log:
            for line in stdout:
                log.write("[stdout] " + line)
                log.flush()
                if not found:
                    match = pattern.search(line)
                    if match:
                        found.append(int(match.group(1)))
                        done.set()
        done.set()  # EOF: the process exited

    proc._pump = threading.Thread(target=pump, name=f"{proc.name}-stdout", daemon=True)
    proc._pump.start()
    if not done.wait(timeout_s) or not found:
        time.sleep(0.2)  # let an exiting child's stderr reach the log
        state = (
            f"exited with code {proc.popen.poll()}" if not proc.alive() else f"silent for {timeout_s:.0f}s"
        )
        raise StartupError(f"{proc.name} did not report readiness ({state}):\n{proc.log_tail()}")
    return found[0]


def start_emulator(
    stack: contextlib.ExitStack,
    log_dir: Path,
    *,
    extra_args: list[str] | None = None,
    timeout_s: float = 30.0,
) -> ManagedProcess:
    argv = [PYTHON, "-m", "emulator", "--host", "127.0.0.1", "--port", "0", *(extra_args or [])]
    proc = _spawn("emulator", argv, log_dir, child_env())
    stack.callback(proc.stop)
    proc.port = _wait_for_stdout_line(proc, EMULATOR_READY, timeout_s)
    return proc


def start_server(
    stack: contextlib.ExitStack,
    log_dir: Path,
    config_path: Path,
    *,
    name: str = "server",
    timeout_s: float = 60.0,
) -> ManagedProcess:
    argv = [PYTHON, "-m", "server", "--config", str(config_path), "--port", "0"]
    proc = _spawn(name, argv, log_dir, child_env({"COMPUTE_CONFIG": str(config_path)}))
    stack.callback(proc.stop)
    proc.port = _wait_for_stdout_line(proc, SERVER_READY, timeout_s)
    return proc


def render_envoy_config(source: Path, target: Path, *, listener: int, admin: int, upstream: int) -> None:
    """A copy of envoy.yaml with its listener, admin and upstream on these loopback ports."""
    try:
        text = envoy_config_on(
            source.read_text(),
            listener=f"127.0.0.1:{listener}",
            admin=f"127.0.0.1:{admin}",
            upstream=f"127.0.0.1:{upstream}",
        )
    except ValueError as exc:  # envoy.yaml no longer spells one of the addresses exactly once
        raise StartupError(f"{source}: {exc}; cannot render free ports into it") from None
    target.write_text(text)


def _http_ok(url: str, timeout_s: float = 1.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout_s) as reply:
            return int(reply.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, proc: ManagedProcess) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise StartupError(
                f"{proc.name} exited (code {proc.popen.returncode}) while {what}:\n{proc.log_tail()}"
            )
        if check():
            return
        time.sleep(0.05)
    raise StartupError(f"{proc.name}: timed out after {timeout_s:.0f}s while {what}:\n{proc.log_tail()}")


def start_envoy(
    stack: contextlib.ExitStack,
    log_dir: Path,
    upstream_port: int,
    *,
    name: str = "envoy",
    source: Path = REPO_ROOT / "envoy.yaml",
    timeout_s: float = 30.0,
) -> ManagedProcess:
    """Envoy runs from the repo root (envoy.yaml names the descriptor set by a relative path)."""
    listener, admin = free_port(), free_port()
    while admin == listener:
        admin = free_port()
    rendered = log_dir / f"{name}.yaml"
    log_dir.mkdir(parents=True, exist_ok=True)
    render_envoy_config(source, rendered, listener=listener, admin=admin, upstream=upstream_port)
    argv = [
        str(ENVOY_BIN),
        "-c",
        str(rendered),
        "--disable-hot-restart",  # several Envoys (tests, other runs) may share this machine
        "--log-level",
        "warning",
    ]
    proc = _spawn(name, argv, log_dir, child_env())
    stack.callback(proc.stop)
    proc.port = listener
    proc.ports = {"listener": listener, "admin": admin}
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    wait_until(lambda: _http_ok(f"http://127.0.0.1:{admin}/ready"), timeout_s, "waiting for /ready", proc)
    return proc


def _drain(proc: ManagedProcess) -> None:
    if proc.popen.stdout is None:
        return
    with proc.log_path.open("a") as log:
        for line in proc.popen.stdout:
            log.write("[stdout] " + line)
