"""Pytest fixtures that run the real compute server (`python -m server`) as a subprocess on a free port.

- `grpc_server` (session): one server for the whole run, its demo clusters pointed at the session's
  `emulator` (tests/support/emulator.py). Yields a `ServerProcess`: `.port`, `.target`, `.channel()`,
  `.stub()`, `.health_stub()`, `.log_text()`.
- `grpc_stub` (function): a ComputeService stub on a fresh channel to that server.
- `start_server(emulator_endpoint, extra_toml="")`: a context manager for a private server (tests that stop
  it, or need other settings). `server_config_toml(...)` is the config text both use.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc
from tencent.compute.v1 import compute_pb2_grpc

from tests.support import captured
from tests.support.processes import announced_process, stop_process

DEMO_TENANT = "system"
DEMO_CLUSTER = "72db4b34-1473-418f-ade4-de00b956f16b"
DEMO_SECRET_ID = "AKIDEMULATORDEMO"
DEMO_SECRET_KEY = "emulator-demo-secret"
OTHER_TENANT = "tenant-other"
OTHER_CLUSTER = "0b1c6c8e-2f4a-4d0e-9c57-3e8a5d7b9f12"
OTHER_SECRET_ID = "AKIDEMULATOROTHER"
OTHER_SECRET_KEY = "emulator-other-secret"

LISTENING_PREFIX = "compute server listening on "


def demo_clusters_toml(emulator_endpoint: str, *, language: str = "zh-CN") -> str:
    """The demo registry of config/demo.toml (tenant `system` and `tenant-other`, each with its emulator
    account) against an emulator at `emulator_endpoint` ("host:port")."""
    return f"""
[[clusters]]
uuid = "{DEMO_CLUSTER}"
tenants = ["{DEMO_TENANT}"]
endpoint = "{emulator_endpoint}"
language = "{language}"
[clusters.credentials]
secret_id = "{DEMO_SECRET_ID}"
secret_key = "{DEMO_SECRET_KEY}"

[[clusters]]
uuid = "{OTHER_CLUSTER}"
tenants = ["{OTHER_TENANT}"]
endpoint = "{emulator_endpoint}"
language = "{language}"
[clusters.credentials]
secret_id = "{OTHER_SECRET_ID}"
secret_key = "{OTHER_SECRET_KEY}"
"""


def server_config_toml(
    emulator_endpoint: str, *, store_path: Path | None = None, extra_toml: str = ""
) -> str:
    """The demo registry (both demo clusters) against an emulator at `emulator_endpoint` ("host:port"),
    auth off, metrics on a free port, the store in a private file. `extra_toml` is appended verbatim
    (new tables only: TOML forbids defining a table twice)."""
    store = f'\n[store]\npath = "{store_path.as_posix()}"\n' if store_path is not None else ""
    return f"""
[server]
listen = "127.0.0.1:0"
max_workers = 16
grace_seconds = 10
{demo_clusters_toml(emulator_endpoint)}
[auth]
mode = "none"

[observability]
metrics_port = 0
json_logs = true
{store}
{extra_toml}
"""


class ServerProcess:
    """A running compute server: where it listens, channels and stubs to it, its log."""

    def __init__(self, process: subprocess.Popen[bytes], host: str, port: int, log_path: Path) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.log_path = log_path

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.target)

    def stub(self, channel: grpc.Channel | None = None) -> Any:
        return compute_pb2_grpc.ComputeServiceStub(channel or self.channel())

    def health_stub(self, channel: grpc.Channel | None = None) -> Any:
        return health_pb2_grpc.HealthStub(channel or self.channel())

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> None:
        """Send SIGTERM (graceful shutdown) without waiting."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit (kill after `timeout`). Returns the exit code."""
        return stop_process(self.process, timeout)


@contextlib.contextmanager
def start_server(
    emulator_endpoint: str, *, extra_toml: str = "", config_text: str | None = None
) -> Iterator[ServerProcess]:
    """Run `python -m server --config <temp file> --port 0` from the repository root until the block ends."""
    with tempfile.TemporaryDirectory(prefix="compute-server-") as workdir:
        work = Path(workdir)
        config_path = work / "server.toml"
        if config_text is None:
            config_text = server_config_toml(
                emulator_endpoint, store_path=work / "compute.db", extra_toml=extra_toml
            )
        config_path.write_text(config_text, encoding="utf-8")
        log_path = work / "server.log"
        env = {key: value for key, value in os.environ.items() if key != "COMPUTE_CONFIG"}
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "server", "--config", str(config_path), "--port", "0"]
        try:
            with announced_process(
                "server", command, env=env, log_path=log_path, prefix=LISTENING_PREFIX
            ) as (process, host, port):
                yield ServerProcess(process, host, port, log_path)
        finally:
            # For the secrets check (tests/support/captured.py): the log and the store, not the config.
            for name in ("server.log", "compute.db", "compute.db-wal"):
                captured.keep(work / name, "server")


@pytest.fixture(scope="session")
def grpc_server(emulator: Any) -> Iterator[ServerProcess]:
    """The session's compute server, its demo clusters on the session's emulator."""
    with start_server(emulator.endpoint) as running:
        yield running


@pytest.fixture
def grpc_stub(grpc_server: ServerProcess) -> Iterator[Any]:
    """A ComputeService stub on a fresh channel to the session's server (closed after the test)."""
    channel = grpc_server.channel()
    try:
        yield grpc_server.stub(channel)
    finally:
        channel.close()
