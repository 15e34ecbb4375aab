"""A private stack for the trust tests: the real server (its own config: auth mode, store file, retry timings)
and, in front of it, real Envoy; both on free ports, against a real emulator.

    with running_stack(emulator, store_path=tmp_path / "compute.db", auth_toml=token_auth(...)) as stack:
        reply = stack.json("list", {...}, token=...)       # JSON through Envoy, reply recorded
        stub = stack.stub(via_envoy=True)                     # native gRPC through Envoy's listener

Every reply and error a helper here receives is recorded (tests/trust/capture.py) for the secrets check.
"""

from __future__ import annotations

import contextlib
import functools
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from tests.contract.legacy_api import ENVELOPE_KEYS, PATH_PREFIX, RPC_BY_VERB
from tests.service.helpers import RpcFailure, failure_of
from tests.support import captured
from tests.support.emulator import EmulatorProcess
from tests.support.envoy import EnvoyProcess, HttpReply, start_envoy
from tests.support.processes import REPO_ROOT
from tests.support.server import ServerProcess, demo_clusters_toml, start_server
from tests.trust.capture import record, register_secret

AUTH_NONE = '[auth]\nmode = "none"\n'

# Quick backoff and many attempts: the fault tests inject 30% throttling plus drops, and every call must
# still get through within its deadline. The production defaults are the same policy, slower.
FAST_RETRY_TOML = """
[retry]
max_attempts = 14
base_delay = 0.02
max_delay = 0.25
attempt_timeout_seconds = 2.0
default_deadline_seconds = 30
"""


def config_text(
    emulator_endpoint: str,
    *,
    store_path: Path,
    auth_toml: str = AUTH_NONE,
    extra_toml: str = "",
    log_level: str = "INFO",
) -> str:
    """Both demo clusters on `emulator_endpoint`, the given [auth] table, the store at `store_path`, no
    metrics port. `extra_toml` adds tables ([limits], [retry] replaces FAST_RETRY_TOML when it has one)."""
    retry = "" if "[retry]" in extra_toml else FAST_RETRY_TOML
    return f"""
[server]
listen = "127.0.0.1:0"
max_workers = 32
grace_seconds = 5
{demo_clusters_toml(emulator_endpoint, language="en-US")}
{auth_toml}

[store]
path = "{store_path.as_posix()}"

[observability]
metrics_enabled = false
json_logs = true
log_level = "{log_level}"
{retry}
{extra_toml}
"""


@dataclass
class Stack:
    server: ServerProcess
    envoy: EnvoyProcess | None
    store_path: Path

    def json(
        self,
        verb: str,
        body: Any,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpReply:
        assert self.envoy is not None, "this stack runs without Envoy"
        return post_json(self.envoy, verb, body, token=token, headers=headers)

    def stub(self, *, via_envoy: bool = False) -> Any:
        """A ComputeService stub: straight to the server, or through Envoy's listener (h2c)."""
        if via_envoy:
            assert self.envoy is not None
            return self.server.stub(grpc.insecure_channel(self.envoy.grpc_target))
        return self.server.stub()


def post_json(
    envoy: EnvoyProcess,
    verb: str,
    body: Any,
    *,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpReply:
    """POST a legacy JSON request through Envoy; the reply is recorded and must carry the envelope."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    reply = envoy.post(PATH_PREFIX + verb, body, sent)
    record(f"json {verb} {reply.status}", reply.body)
    assert isinstance(reply.body, dict), f"not a JSON object: {reply.body!r:.300}"
    assert set(ENVELOPE_KEYS) <= set(reply.body), f"no envelope: {reply.body!r:.300}"
    return reply


def rpc_failure(call: Any) -> RpcFailure:
    """tests/service/helpers.failure_of, with everything the caller received recorded."""
    failure = failure_of(call)
    record(f"grpc {failure.code.name}", {"details": failure.details, "trailers": failure.trailers})
    return failure


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@contextlib.contextmanager
def running_stack(
    emulator: EmulatorProcess,
    *,
    store_path: Path,
    auth_toml: str = AUTH_NONE,
    extra_toml: str = "",
    with_envoy: bool = True,
    log_level: str = "INFO",
) -> Iterator[Stack]:
    text = config_text(
        emulator.endpoint,
        store_path=store_path,
        auth_toml=auth_toml,
        extra_toml=extra_toml,
        log_level=log_level,
    )
    try:
        with start_server(emulator.endpoint, config_text=text) as server:
            if not with_envoy:
                yield Stack(server, None, store_path)
                return
            with start_envoy(server.port) as envoy:
                yield Stack(server, envoy, store_path)
    finally:
        keep_store(store_path)


def keep_store(store_path: Path) -> None:
    """The store file(s) into the capture directory: the audit trail must hold no secret either."""
    for suffix in ("", "-wal"):
        captured.keep(Path(f"{store_path}{suffix}"), "store")


# --- one call, either surface ------------------------------------------------------------------------

CODE_NAMES: Mapping[int, str] = {code.value[0]: code.name for code in grpc.StatusCode}


@dataclass
class Outcome:
    """What a caller got, the same shape for both surfaces."""

    code: str  # "OK" or the gRPC code name
    desc: str  # the envelope's desc: the ErrorInfo reason
    envelope: dict[str, Any]
    http_status: int | None = None  # JSON only
    violations: list[str] = field(default_factory=list)  # BadRequest fields (gRPC only)

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.envelope.get("data") or {}
        return data


class JsonSurface:
    """The legacy JSON API through Envoy."""

    def __init__(self, envoy: EnvoyProcess, name: str = "json") -> None:
        self.envoy = envoy
        self.name = name

    def close(self) -> None:
        pass

    def call(
        self,
        verb: str,
        body: Any,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Outcome:
        headers = {**(headers or {}), "grpc-timeout": f"{int(timeout * 1000)}m"}
        reply = post_json(self.envoy, verb, body, token=token, headers=headers)
        envelope: dict[str, Any] = reply.body
        return Outcome(CODE_NAMES[int(envelope["scode"])], envelope["desc"], envelope, reply.status)


class GrpcSurface:
    """Native gRPC, straight to the server or through Envoy's listener."""

    def __init__(self, target: str, name: str) -> None:
        from tencent.compute.v1 import compute_pb2, compute_pb2_grpc

        self._pb = compute_pb2
        self._channel = grpc.insecure_channel(target)
        self._stub = compute_pb2_grpc.ComputeServiceStub(self._channel)
        self.name = name

    def close(self) -> None:
        self._channel.close()

    def call(
        self,
        verb: str,
        body: Any,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Outcome:
        method_name = RPC_BY_VERB[verb]
        request = json_format.ParseDict(body, getattr(self._pb, f"{method_name}Request")())
        metadata = [(name.lower(), value) for name, value in (headers or {}).items()]
        if token is not None:
            metadata += bearer(token)
        method = getattr(self._stub, method_name)
        try:
            reply = method(request, metadata=tuple(metadata), timeout=timeout)
        except grpc.RpcError as error:
            if not dict(error.trailing_metadata() or ()).get("x-legacy-envelope"):
                # No answer from the service at all (connection lost, client-side deadline): no envelope.
                record(f"grpc {error.code().name}", error.details() or "")
                return Outcome(error.code().name, "", {})
            failure = rpc_failure(functools.partial(_raise, error))
            return Outcome(
                failure.code.name, failure.envelope["desc"], failure.envelope, None, failure.violated_fields
            )
        envelope = json_format.MessageToDict(reply, preserving_proto_field_name=True)
        return Outcome("OK", "", envelope)


def _raise(error: BaseException) -> None:
    raise error


Surface = JsonSurface | GrpcSurface


def surfaces(stack: Stack) -> dict[str, Surface]:
    """Every way in: gRPC straight to the server, gRPC through Envoy, JSON through Envoy."""
    assert stack.envoy is not None
    return {
        "grpc": GrpcSurface(stack.server.target, "grpc"),
        "grpc-envoy": GrpcSurface(stack.envoy.grpc_target, "grpc-envoy"),
        "json": JsonSurface(stack.envoy),
    }


# --- credentials ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    config_entry: str  # the [[auth.tokens]] table tools/hash_token.py printed


def issue_token(subject: str, *tenants: str) -> IssuedToken:
    """A new static bearer token and its config entry, made by tools/hash_token.py as an operator would."""
    command = [sys.executable, "tools/hash_token.py", "--generate", "--subject", subject]
    for tenant in tenants:
        command += ["--tenant", tenant]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=30)
    token = done.stderr.strip().rpartition(": ")[2]
    assert len(token) >= 32 and token not in done.stdout  # only the hash goes into the config
    return IssuedToken(register_secret(token), done.stdout.strip())


def token_auth(*tokens: IssuedToken) -> str:
    return '[auth]\nmode = "token"\n\n' + "\n\n".join(token.config_entry for token in tokens) + "\n"


def jwt_auth(jwks_file: Path, *, issuer: str, audience: str, tenant_claim: str) -> str:
    return f"""[auth]
mode = "jwt"
[auth.jwt]
issuer = {json.dumps(issuer)}
audience = {json.dumps(audience)}
jwks_file = {json.dumps(jwks_file.as_posix())}
algorithms = ["RS256", "ES256"]
leeway_seconds = 0
tenant_claim = {json.dumps(tenant_claim)}
"""
