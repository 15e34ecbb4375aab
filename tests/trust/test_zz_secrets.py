"""Secrets never leak (issue 4 point 5). Named to run last among the trust tests.

A scenario sends passwords and bearer tokens every way the service can meet them (valid and rejected
creates, a reset, Tencent failing and unreachable during a create, malformed JSON and wrong types through
Envoy, good and forged tokens), with the server logging at DEBUG. Then everything captured so far is
grepped for every secret the suite used: the processes' logs (emulator, servers, Envoys), the stores
(audit trail, idempotency keys), every reply, error text, trailer and exception text the trust tests
received. The same grep runs once more over the whole run's captures at the very end (conftest.py), after
the session's shared processes have stopped.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import grpc

from tests.service.helpers import FIXTURE_INSTANCE, ZONE, demo_scope
from tests.support.emulator import DEMO_SECRET_KEY, OTHER_SECRET_KEY
from tests.trust.capture import captured_files, record, register_secret, scan
from tests.trust.capture import secrets as all_secrets
from tests.trust.stack import GrpcSurface, JsonSurface, issue_token, running_stack, token_auth

# Valid for Linux and Windows (12+ characters, four classes), each distinctive so no accident matches.
PASSWORDS = [register_secret(f"Pw-{secrets.token_hex(6)}-X{n}!") for n in range(8)]


def create_body(password: str, **overrides: Any) -> dict[str, Any]:
    return {
        **demo_scope(),
        "Placement": {"Zone": ZONE},
        "ImageId": "img-9id7emv7",
        "InstanceType": "MA2.SMALL8",
        "LoginSettings": {"Password": password},
        "InstanceName": "secretive",
        **overrides,
    }


def test_no_secret_reaches_logs_replies_errors_or_the_audit_trail(
    cloud: Any, tmp_path: Path, grpc_server: Any, envoy: Any
) -> None:
    token = issue_token("secret-keeper", "system")
    forged = register_secret(secrets.token_urlsafe(32))
    p = iter(PASSWORDS)
    store = tmp_path / "compute.db"
    with running_stack(cloud, store_path=store, auth_toml=token_auth(token), log_level="DEBUG") as stack:
        assert stack.envoy is not None
        json_api, grpc_api = JsonSurface(stack.envoy), GrpcSurface(stack.server.target, "grpc")
        ok = [
            json_api.call("create", create_body(next(p)), token=token.token),
            grpc_api.call("create", create_body(next(p)), token=token.token),
            json_api.call(
                "reset",
                {
                    **demo_scope(),
                    "InstanceId": FIXTURE_INSTANCE,
                    "ImageId": "img-n7nyt2d7",
                    "LoginSettings": {"Password": next(p)},
                },
                token=token.token,
            ),
        ]
        assert [o.code for o in ok] == ["OK", "OK", "OK"], [o.envelope for o in ok]

        weak = register_secret("onlylowercaseletters")  # invalid for every platform: echoed nowhere
        assert json_api.call("create", create_body(weak), token=token.token).code == "INVALID_ARGUMENT"
        assert grpc_api.call("create", create_body(weak), token=token.token).code == "INVALID_ARGUMENT"

        cloud.add_fault(Action="RunInstances", ErrorCode="InvalidPassword", ErrorProbability=1.0)
        assert json_api.call("create", create_body(next(p)), token=token.token).code == "INVALID_ARGUMENT"
        cloud.clear_faults()
        cloud.add_fault(Action="RunInstances", ErrorCode="InternalError", ErrorProbability=1.0)
        assert grpc_api.call("create", create_body(next(p)), token=token.token).code == "INTERNAL"
        cloud.clear_faults()
        cloud.add_fault(Action="RunInstances", DropProbability=1.0)
        outcome = json_api.call("create", create_body(next(p)), token=token.token, timeout=10)
        assert outcome.code == "UNAVAILABLE"
        cloud.clear_faults()

        # Through Envoy, bodies it refuses itself: a wrong type next to a password, and broken JSON.
        wrong_type = create_body(next(p), InstanceCount="many")
        assert json_api.call("create", wrong_type, token=token.token).code == "INVALID_ARGUMENT"
        broken = json.dumps(create_body(next(p)))[:-10]
        assert json_api.call("create", broken, token=token.token).code == "INVALID_ARGUMENT"
        # A password in a header where a token goes, and a forged token.
        assert json_api.call(
            "list", demo_scope(), headers={"Authorization": f"Basic {PASSWORDS[0]}"}
        ).code == ("UNAUTHENTICATED")
        assert grpc_api.call("list", demo_scope(), token=forged).code == "UNAUTHENTICATED"

        # Exception text as a gRPC client sees it (str() of the RpcError includes the debug string).
        channel = grpc.insecure_channel(stack.server.target)
        try:
            stack.server.stub(channel).List(
                _list_request(), metadata=(("authorization", f"Bearer {forged}"),), timeout=10
            )
        except grpc.RpcError as error:
            record("grpc exception text", str(error))
        finally:
            channel.close()
        grpc_api.close()
        live_logs = [stack.server.log_text(), stack.envoy.log_tail(100000)]

    # The session's shared processes are still running: read their logs and store where they are.
    live_logs += [grpc_server.log_text(), cloud.log_text(), envoy.log_tail(100000)]
    live = tmp_path / "live-logs.txt"
    live.write_text("\n".join(live_logs), encoding="utf-8")
    session_store = [grpc_server.log_path.parent / name for name in ("compute.db", "compute.db-wal")]

    files = [*captured_files(), live, *session_store]
    findings = scan(files, all_secrets())

    assert all_secrets() >= {DEMO_SECRET_KEY, OTHER_SECRET_KEY, *PASSWORDS, token.token, forged}
    names = " ".join(path.name for path in files)
    assert "server.log" in names and "store-compute.db" in names and "trust-replies.jsonl" in names
    assert findings == [], [f"{f.secret_hint} in {f.path}" for f in findings]


def test_the_scan_finds_a_secret_in_any_form(tmp_path: Path) -> None:
    """The check itself: raw UTF-8 and JSON-escaped (as logs and trailers write non-ASCII) both count."""
    secret = "Pässwort-Ünïcode-1"
    raw, escaped, clean = tmp_path / "raw", tmp_path / "escaped", tmp_path / "clean"
    raw.write_bytes(b"...password=" + secret.encode() + b"...")
    escaped.write_text(json.dumps({"message": secret}, ensure_ascii=True), encoding="ascii")
    clean.write_text("nothing to see", encoding="utf-8")

    assert {f.path for f in scan([raw, escaped, clean], [secret])} == {raw, escaped}


def _list_request() -> Any:
    from tencent.compute.v1 import compute_pb2

    return compute_pb2.ListRequest(**demo_scope())
