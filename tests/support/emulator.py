"""Pytest fixtures that run the real emulator (`python -m emulator`) as a subprocess on a free port.

- `emulator` (session): one emulator for the whole run, started with `--port 0 --transition-seconds 0.02`.
- `fresh_emulator` (function): the same emulator after `reset()`: fixtures back, faults cleared, counters
  zeroed, timings and rate limits back to startup values.
- `start_emulator(*args)`: a context manager for a private emulator, for tests that need global counters
  (connections accepted, peak concurrency) nobody else touches, or other startup flags.

Throttling stays ON (Tencent's documented per-action rates, per account): that is what the service meets in
production. A test that makes many calls quickly either expects `RequestLimitExceeded` or switches
throttling off first with `emulator.set_throttle(False)` (`reset()` switches it back on).

Clients come from `.cvm_client()`, `.vpc_client()` and `.common_client()`: the real tencentcloud SDK with
`HttpProfile(protocol="http", endpoint="127.0.0.1:PORT")`. Loopback is added to NO_PROXY so that an
HTTP(S)_PROXY in the environment never captures emulator traffic (the SDK only skips the proxy when
NO_PROXY contains the exact `127.0.0.1:PORT`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312.cvm_client import CvmClient
from tencentcloud.vpc.v20170312.vpc_client import VpcClient

from tests.support import captured
from tests.support.processes import announced_process, stop_process

DEMO_SECRET_ID = "AKIDEMULATORDEMO"
DEMO_SECRET_KEY = "emulator-demo-secret"
OTHER_SECRET_ID = "AKIDEMULATOROTHER"
OTHER_SECRET_KEY = "emulator-other-secret"
DEFAULT_REGION = "ap-guangzhou"
TEST_TRANSITION_SECONDS = 0.02
LISTENING_PREFIX = "emulator listening on http://"


class ControlError(AssertionError):
    """A control-API call answered with a non-200 status."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class EmulatorProcess:
    """A running emulator: where it listens, its control API and SDK clients pointed at it."""

    def __init__(
        self, process: subprocess.Popen[bytes] | None, host: str, port: int, log_path: Path | None = None
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.log_path = log_path

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    # --- control API ---

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP request on a fresh connection (no proxy): status, headers, body."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def control_raw(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        status, _, raw = self.request(method, path, payload, headers)
        return status, json.loads(raw) if raw else None

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call `/_emulator/...`; returns the JSON reply, raises ControlError unless 200."""
        status, reply = self.control_raw(method, path, body)
        if status != 200:
            raise ControlError(status, reply)
        return reply

    def reset(self) -> Any:
        return self.control("POST", "/_emulator/reset", {})

    def counters(self) -> Any:
        return self.control("GET", "/_emulator/counters")

    def reset_counters(self) -> Any:
        return self.control("POST", "/_emulator/counters/reset", {})

    def requests(self, action: str | None = None) -> list[dict[str, Any]]:
        """The journal of calls that reached the model (passwords redacted), oldest first."""
        entries: list[dict[str, Any]] = self.control("GET", "/_emulator/requests")["Requests"]
        return [entry for entry in entries if action is None or entry["Action"] == action]

    def configure(self, **members: Any) -> Any:
        """POST /_emulator/config, e.g. configure(Throttle=False, TransitionSeconds=0.05)."""
        return self.control("POST", "/_emulator/config", members)

    def set_throttle(self, enabled: bool) -> Any:
        return self.configure(Throttle=enabled)

    def add_fault(self, **rule: Any) -> Any:
        return self.control("POST", "/_emulator/faults", rule)

    def clear_faults(self) -> Any:
        return self.control("DELETE", "/_emulator/faults")

    def seed(
        self, count: int, secret_id: str = DEMO_SECRET_ID, region: str = DEFAULT_REGION, **options: Any
    ) -> Any:
        return self.control(
            "POST", "/_emulator/seed", {"SecretId": secret_id, "Region": region, "Count": count, **options}
        )

    # --- SDK clients (see the module-level functions) ---

    def cvm_client(
        self,
        secret_id: str = DEMO_SECRET_ID,
        secret_key: str = DEMO_SECRET_KEY,
        region: str = DEFAULT_REGION,
        language: str = "zh-CN",
        method: str = "POST",
    ) -> CvmClient:
        return cvm_client(self.endpoint, secret_id, secret_key, region, language, method)

    def vpc_client(
        self,
        secret_id: str = DEMO_SECRET_ID,
        secret_key: str = DEMO_SECRET_KEY,
        region: str = DEFAULT_REGION,
        language: str = "zh-CN",
        method: str = "POST",
    ) -> VpcClient:
        return vpc_client(self.endpoint, secret_id, secret_key, region, language, method)

    def common_client(
        self,
        service: str = "cvm",
        version: str = "2017-03-12",
        secret_id: str = DEMO_SECRET_ID,
        secret_key: str = DEMO_SECRET_KEY,
        region: str = DEFAULT_REGION,
        language: str = "zh-CN",
        method: str = "POST",
    ) -> CommonClient:
        return common_client(self.endpoint, service, version, secret_id, secret_key, region, language, method)

    def log_text(self) -> str:
        if self.log_path is None:
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int | None:
        """SIGTERM, then wait for a clean exit (kill after 10 s). Returns the exit code."""
        if self.process is None:
            return None  # attached to an emulator somebody else runs
        return stop_process(self.process)


def attach(endpoint: str) -> EmulatorProcess:
    """An emulator somebody else started (e.g. `python -m emulator` on 127.0.0.1:9000)."""
    host, _, port = endpoint.rpartition(":")
    bypass_proxy_for(endpoint)
    return EmulatorProcess(None, host, int(port))


def client_profile(
    endpoint: str, language: str = "zh-CN", method: str = "POST", timeout: int = 30
) -> ClientProfile:
    """The SDK profile for a local endpoint ("127.0.0.1:PORT", no scheme: it is the signed Host)."""
    bypass_proxy_for(endpoint)
    http_profile = HttpProfile(protocol="http", endpoint=endpoint, reqMethod=method, reqTimeout=timeout)
    return ClientProfile(httpProfile=http_profile, language=language)


def cvm_client(
    endpoint: str,
    secret_id: str = DEMO_SECRET_ID,
    secret_key: str = DEMO_SECRET_KEY,
    region: str = DEFAULT_REGION,
    language: str = "zh-CN",
    method: str = "POST",
) -> CvmClient:
    profile = client_profile(endpoint, language, method)
    return CvmClient(credential.Credential(secret_id, secret_key), region, profile)


def vpc_client(
    endpoint: str,
    secret_id: str = DEMO_SECRET_ID,
    secret_key: str = DEMO_SECRET_KEY,
    region: str = DEFAULT_REGION,
    language: str = "zh-CN",
    method: str = "POST",
) -> VpcClient:
    profile = client_profile(endpoint, language, method)
    return VpcClient(credential.Credential(secret_id, secret_key), region, profile)


def common_client(
    endpoint: str,
    service: str = "cvm",
    version: str = "2017-03-12",
    secret_id: str = DEMO_SECRET_ID,
    secret_key: str = DEMO_SECRET_KEY,
    region: str = DEFAULT_REGION,
    language: str = "zh-CN",
    method: str = "POST",
) -> CommonClient:
    profile = client_profile(endpoint, language, method)
    return CommonClient(service, version, credential.Credential(secret_id, secret_key), region, profile)


def bypass_proxy_for(endpoint: str) -> None:
    """Keep loopback traffic away from any HTTP(S)_PROXY, for the SDK and for requests alike."""
    for name in ("NO_PROXY", "no_proxy"):
        entries = [entry for entry in os.environ.get(name, "").split(",") if entry]
        for wanted in ("127.0.0.1", "localhost", endpoint):
            if wanted not in entries:
                entries.append(wanted)
        os.environ[name] = ",".join(entries)


@contextlib.contextmanager
def start_emulator(
    *args: str, transition_seconds: float = TEST_TRANSITION_SECONDS
) -> Iterator[EmulatorProcess]:
    """Run `python -m emulator --port 0 --transition-seconds S *args` from the repository root."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EMULATOR_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable,
        "-m",
        "emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--transition-seconds",
        str(transition_seconds),
        *args,
    ]
    with tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False) as log_file:
        log_path = Path(log_file.name)
    try:
        with announced_process("emulator", command, env=env, log_path=log_path, prefix=LISTENING_PREFIX) as (
            process,
            host,
            port,
        ):
            running = EmulatorProcess(process, host, port, log_path)
            bypass_proxy_for(running.endpoint)
            yield running
    finally:
        captured.keep(log_path, "emulator")  # for the secrets check (tests/support/captured.py)
        with contextlib.suppress(OSError):
            log_path.unlink()


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """The session's emulator (throttling on; see the module docstring)."""
    with start_emulator() as running:
        yield running


@pytest.fixture
def fresh_emulator(emulator: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator, reset to its fixtures and startup settings before the test."""
    emulator.reset()
    return emulator
