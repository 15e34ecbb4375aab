"""Real Envoy for the tests: envoy.yaml rendered onto free ports, in front of the real gRPC server.

Fixtures:
- `envoy` (session): Envoy whose upstream is the `grpc_server` fixture (tests/support/server.py, which
  provides `.port`). Yields an `EnvoyProcess` with `.http_url`, `.grpc_target` and `.post(...)`.

Helpers for tests that need a variant of the config (always-200 switch, upstream down):
`render_envoy_config`, `always_200_config`, `start_envoy`, `refused_port`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.support import captured
from tests.support.processes import REPO_ROOT, stop_process

ENVOY_BIN = REPO_ROOT / ".venv" / "bin" / "envoy"
ENVOY_CONFIG = REPO_ROOT / "envoy.yaml"

# The three fixed addresses of envoy.yaml (TEAM.md), and how each is written there.
LISTENER_ADDRESS = "127.0.0.1:8080"
ADMIN_ADDRESS = "127.0.0.1:9901"
UPSTREAM_ADDRESS = "127.0.0.1:50051"

READY_TIMEOUT_SECONDS = 30.0


def _yaml_address(host_port: str) -> str:
    """How envoy.yaml spells a host:port: one flow mapping on one line."""
    host, _, port = host_port.rpartition(":")
    return f"{{address: {host}, port_value: {int(port)}}}"


def render_envoy_config(
    text: str,
    *,
    listener: str = LISTENER_ADDRESS,
    admin: str = ADMIN_ADDRESS,
    upstream: str = UPSTREAM_ADDRESS,
) -> str:
    """envoy.yaml's text with its listener, admin and upstream host:port replaced (plain text).

    Port 0 is allowed for the listener and the admin (the kernel picks; `start_envoy` reads them back).
    Raises ValueError if envoy.yaml no longer spells one of the three addresses exactly once, so a config
    edit cannot silently leave a test on a fixed port.
    """
    for old, new in ((LISTENER_ADDRESS, listener), (ADMIN_ADDRESS, admin), (UPSTREAM_ADDRESS, upstream)):
        old_text = _yaml_address(old)
        found = text.count(old_text)
        if found != 1:
            raise ValueError(f"envoy config must contain {old_text!r} exactly once, found {found}")
        text = text.replace(old_text, _yaml_address(new))
    return text


def always_200_config() -> str:
    """envoy.yaml with its documented switch on: every JSON reply is HTTP 200 (callers read scode)."""
    text = ENVOY_CONFIG.read_text()
    if text.count("always_200: false") != 1:
        raise ValueError("envoy.yaml no longer spells the always_200 switch as documented")
    return text.replace("always_200: false", "always_200: true")


@dataclass(frozen=True)
class HttpReply:
    """One HTTP reply: status, lowercased headers, and the JSON body parsed (or the raw text if not JSON)."""

    status: int
    headers: dict[str, str]
    body: Any

    def __iter__(self) -> Iterator[Any]:
        # Unpacks as (status, headers, parsed_json).
        return iter((self.status, self.headers, self.body))


def http_request(
    url_host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | str | object | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> HttpReply:
    """Send exactly one HTTP/1.1 request; bytes and str bodies go out byte for byte, other objects as JSON."""
    if body is None:
        payload = b""
    elif isinstance(body, bytes):
        payload = body
    elif isinstance(body, str):
        payload = body.encode("utf-8")
    else:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    sent_headers = {"Content-Type": "application/json"}
    sent_headers.update(headers or {})
    conn = http.client.HTTPConnection(url_host, port, timeout=timeout)
    try:
        # Envoy may answer (e.g. 413) and close before it has read the whole body: read that answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(method, path, body=payload, headers=sent_headers)
        response = conn.getresponse()
        raw = response.read()
        reply_headers = {name.lower(): value for name, value in response.getheaders()}
        status = response.status
    finally:
        conn.close()
    parsed: Any
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", errors="replace")
    return HttpReply(status, reply_headers, parsed)


@dataclass
class EnvoyProcess:
    """A running Envoy: its listener (JSON and native gRPC) and admin ports."""

    process: subprocess.Popen[bytes]
    http_port: int
    admin_port: int
    log_path: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    def post(
        self, path: str, body: bytes | str | object, headers: Mapping[str, str] | None = None
    ) -> HttpReply:
        """POST to the listener; returns (status, headers, parsed_json)."""
        return self.request("POST", path, body, headers)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | object | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpReply:
        """Any method to the listener (e.g. GET on a POST path)."""
        return http_request("127.0.0.1", self.http_port, method, path, body, headers)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _wait_ready(process: subprocess.Popen[bytes], admin_path_file: Path, log_path: Path) -> tuple[int, int]:
    """Wait for Envoy's admin to report /ready; return (listener port, admin port)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    admin_port = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")
            raise RuntimeError(f"envoy exited with {process.returncode}:\n{log}")
        if not admin_port and admin_path_file.exists():
            written = admin_path_file.read_text().strip()
            if written:
                admin_port = int(written.rpartition(":")[2])
        if admin_port:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_request("127.0.0.1", admin_port, "GET", "/ready", timeout=2).status == 200:
                    listeners = http_request("127.0.0.1", admin_port, "GET", "/listeners?format=json").body
                    address = listeners["listener_statuses"][0]["local_address"]["socket_address"]
                    return int(address["port_value"]), admin_port
        time.sleep(0.05)
    log = log_path.read_text(errors="replace")
    raise RuntimeError(f"envoy not ready after {READY_TIMEOUT_SECONDS}s:\n{log}")


@contextlib.contextmanager
def start_envoy(upstream_port: int, config_text: str | None = None) -> Iterator[EnvoyProcess]:
    """Run Envoy with `config_text` (default: envoy.yaml) on kernel-chosen ports, upstream on `upstream_port`.

    Envoy runs from the repository root (envoy.yaml loads gen/compute.pb relative to it), without hot
    restart so several Envoys can run side by side.
    """
    source = ENVOY_CONFIG.read_text() if config_text is None else config_text
    rendered = render_envoy_config(
        source, listener="127.0.0.1:0", admin="127.0.0.1:0", upstream=f"127.0.0.1:{upstream_port}"
    )
    with tempfile.TemporaryDirectory(prefix="envoy-test-") as tmp:
        workdir = Path(tmp)
        config_path = workdir / "envoy.yaml"
        config_path.write_text(rendered)
        admin_path_file = workdir / "admin-address"
        log_path = workdir / "envoy.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(ENVOY_BIN),
                    "-c",
                    str(config_path),
                    "--admin-address-path",
                    str(admin_path_file),
                    "--disable-hot-restart",
                    "--concurrency",
                    "2",
                    "--log-level",
                    "warning",
                ],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ},
            )
        try:
            http_port, admin_port = _wait_ready(process, admin_path_file, log_path)
            yield EnvoyProcess(process, http_port, admin_port, log_path)
        finally:
            stop_process(process)
            captured.keep(log_path, "envoy")  # for the secrets check (tests/support/captured.py)


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused: bound (so nobody else takes it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


class _HasPort(Protocol):
    @property
    def port(self) -> int: ...


@pytest.fixture(scope="session")
def envoy(grpc_server: _HasPort) -> Iterator[EnvoyProcess]:
    """Envoy (envoy.yaml) in front of the session's real gRPC server."""
    with start_envoy(grpc_server.port) as process:
        yield process
