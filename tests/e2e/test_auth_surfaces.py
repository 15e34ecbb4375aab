"""UNAUTHENTICATED and PERMISSION_DENIED on both surfaces, from a private server in auth mode `token`
(docs/security.md) behind Envoy: tokens made the documented way (tools/hash_token.py reads the token on
stdin and prints the config entry), sent as gRPC `authorization` metadata or the JSON `Authorization`
header, which Envoy passes through. No token ever shows in a reply or in the server's log."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.contract.legacy_api import RPC_BY_VERB
from tests.e2e.error_cases import Case, Surfaces, legacy, observe_everywhere
from tests.e2e.helpers import (
    Stack,
    assert_no_leak,
    assert_success_reply,
    example,
    example_as_grpc_request,
    start_stack,
)
from tests.support.envoy import always_200_config, start_envoy
from tests.support.processes import REPO_ROOT
from tests.support.server import DEMO_TENANT, OTHER_TENANT, server_config_toml

SYSTEM_TOKEN = secrets.token_urlsafe(32)  # may act for the legacy examples' tenant
OTHER_TOKEN = secrets.token_urlsafe(32)  # may act only for the other demo tenant
UNKNOWN_TOKEN = secrets.token_urlsafe(32)  # in no config
TOKENS = (SYSTEM_TOKEN, OTHER_TOKEN, UNKNOWN_TOKEN)


def token_entry(token: str, subject: str, tenant: str) -> str:
    """The `[[auth.tokens]]` entry tools/hash_token.py prints for `token` (given on stdin, as documented)."""
    made = subprocess.run(
        [sys.executable, "tools/hash_token.py", "--subject", subject, "--tenant", tenant],
        input=token + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    )
    assert token not in made.stdout + made.stderr
    return made.stdout


def token_mode_config(store: Path) -> str:
    """The demo registry with auth mode `token` (start_stack fills in the emulator's address)."""
    demo = server_config_toml("{endpoint}", store_path=store)
    auth = "\n".join(
        [
            '[auth]\nmode = "token"\n',
            token_entry(SYSTEM_TOKEN, "e2e-system", DEMO_TENANT),
            token_entry(OTHER_TOKEN, "e2e-other", OTHER_TENANT),
        ]
    )
    assert demo.count('[auth]\nmode = "none"\n') == 1
    return demo.replace('[auth]\nmode = "none"\n', auth + "\n")


@pytest.fixture(scope="module")
def token_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = token_mode_config(tmp_path_factory.mktemp("auth") / "compute.db")
    with start_stack(server_config=config) as stack:
        yield stack


@pytest.fixture(scope="module")
def surfaces(token_stack: Stack) -> Iterator[Surfaces]:
    with start_envoy(token_stack.server.port, always_200_config()) as envoy_always_200:
        yield Surfaces(token_stack.server, token_stack.envoy, envoy_always_200, token_stack.cloud)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


INSPECT = legacy("inspect")
CASES = {
    "no-credentials": Case(
        grpc.StatusCode.UNAUTHENTICATED,
        "MISSING_CREDENTIALS",
        "inspect",
        INSPECT,
    ),
    "not-a-bearer-token": Case(
        grpc.StatusCode.UNAUTHENTICATED,
        "MALFORMED_CREDENTIALS",
        "inspect",
        INSPECT,
        metadata=(("authorization", f"Basic {UNKNOWN_TOKEN}"),),
    ),
    "unknown-token": Case(
        grpc.StatusCode.UNAUTHENTICATED,
        "INVALID_CREDENTIALS",
        "inspect",
        INSPECT,
        metadata=bearer(UNKNOWN_TOKEN),
    ),
    "token-of-another-tenant": Case(
        grpc.StatusCode.PERMISSION_DENIED,
        "TENANT_NOT_ALLOWED",
        "inspect",
        INSPECT,
        metadata=bearer(OTHER_TOKEN),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_credentials_error_on_both_surfaces(surfaces: Surfaces, pb: Any, name: str) -> None:
    observe_everywhere(CASES[name], surfaces, pb, *TOKENS)


@pytest.mark.parametrize("verb", ["list", "inspect"])
def test_a_valid_token_works_on_both_surfaces(token_stack: Stack, pb: Any, verb: str) -> None:
    json_reply = token_stack.post(
        verb, example(verb).request_example, headers={"Authorization": f"Bearer {SYSTEM_TOKEN}"}
    )
    assert_success_reply(verb, json_reply)
    for target in (token_stack.server.target, token_stack.envoy.grpc_target):
        with grpc.insecure_channel(target) as channel:
            method = getattr(token_stack.server.stub(channel), RPC_BY_VERB[verb])
            reply = method(example_as_grpc_request(verb, pb), metadata=bearer(SYSTEM_TOKEN), timeout=30)
        assert reply.scode == 0


def test_rejected_call_names_its_request_id_in_error_info(surfaces: Surfaces, pb: Any) -> None:
    failure = CASES["no-credentials"].grpc_call(surfaces.server.target, pb)
    assert failure.metadata.get("request_id") == failure.trailers["x-request-id"]


def test_no_token_reaches_the_log(surfaces: Surfaces, pb: Any) -> None:
    for case in CASES.values():
        observe_everywhere(case, surfaces, pb, *TOKENS)
    assert_no_leak(surfaces.server.log_text(), *TOKENS)
