"""Caller authentication end to end, on every surface: native gRPC (straight to the server and through
Envoy) and JSON through Envoy, which passes `Authorization` through as metadata.

Mode token: tokens made by tools/hash_token.py, only their hashes in the config. Mode jwt: RS256 and ES256
keys made here, a JWKS file, issuer / audience / expiry checks and a configurable tenant claim.
Outcomes: missing or invalid credentials UNAUTHENTICATED (HTTP 401), a tenant the caller may not act for
PERMISSION_DENIED (403), a cluster the tenant does not own NOT_FOUND (404), and instances of another account
NOT_FOUND, untouched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.service.helpers import FIXTURE_INSTANCE, demo_scope, describe, other_scope
from tests.support.server import DEMO_CLUSTER, OTHER_SECRET_ID, OTHER_SECRET_KEY, OTHER_TENANT
from tests.trust.capture import register_secret
from tests.trust.stack import (
    IssuedToken,
    Outcome,
    Stack,
    Surface,
    issue_token,
    jwt_auth,
    running_stack,
    surfaces,
    token_auth,
)

SURFACE_NAMES = ("grpc", "grpc-envoy", "json")
OTHER_ACCOUNT_INSTANCE = "ins-0th3r001"  # RUNNING in the second demo account (emulator fixtures)
HTTP_STATUS = {"OK": 200, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404}


def assert_outcome(outcome: Outcome, code: str, desc: str | None = None) -> None:
    assert outcome.code == code, (outcome.code, outcome.desc, outcome.envelope.get("message"))
    if desc is not None:
        assert outcome.desc == desc
    if outcome.http_status is not None:  # JSON: the mapped HTTP status, and the full envelope
        assert outcome.http_status == HTTP_STATUS[code]
        assert outcome.envelope["stack"] is None
        assert outcome.envelope["scode"] == (0 if code == "OK" else outcome.envelope["scode"])


# --- mode token -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokens() -> dict[str, IssuedToken]:
    return {
        "system": issue_token("billing-service", "system"),
        "other": issue_token("other-team", OTHER_TENANT),
        "operator": issue_token("operator", "*"),
    }


@pytest.fixture(scope="module")
def token_stack(
    emulator: Any, tokens: dict[str, IssuedToken], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    store = tmp_path_factory.mktemp("auth-token") / "compute.db"
    with running_stack(emulator, store_path=store, auth_toml=token_auth(*tokens.values())) as stack:
        yield stack


@pytest.fixture(scope="module")
def token_surfaces(token_stack: Stack) -> Iterator[dict[str, Surface]]:
    ways = surfaces(token_stack)
    yield ways
    for way in ways.values():
        way.close()


@pytest.fixture(params=SURFACE_NAMES)
def surface(request: pytest.FixtureRequest, token_surfaces: dict[str, Surface]) -> Surface:
    return token_surfaces[request.param]


def test_missing_credentials_are_unauthenticated(surface: Surface) -> None:
    outcome = surface.call("list", demo_scope())
    assert_outcome(outcome, "UNAUTHENTICATED", "MISSING_CREDENTIALS")
    assert "Authorization: Bearer" in outcome.envelope["message"]


def test_an_unknown_token_is_unauthenticated(surface: Surface) -> None:
    forged = register_secret(secrets.token_urlsafe(32))
    outcome = surface.call("list", demo_scope(), token=forged)
    assert_outcome(outcome, "UNAUTHENTICATED", "INVALID_CREDENTIALS")
    assert forged not in json.dumps(outcome.envelope)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer two words"])
def test_a_malformed_authorization_header_is_unauthenticated(surface: Surface, header: str) -> None:
    outcome = surface.call("list", demo_scope(), headers={"Authorization": header})
    assert_outcome(outcome, "UNAUTHENTICATED", "MALFORMED_CREDENTIALS")


def test_a_valid_token_acts_for_its_tenant(
    surface: Surface, tokens: dict[str, IssuedToken], cloud: Any
) -> None:
    outcome = surface.call("list", demo_scope(), token=tokens["system"].token)
    assert_outcome(outcome, "OK")
    assert FIXTURE_INSTANCE in json.dumps(outcome.data)


def test_an_operator_token_acts_for_any_tenant(
    surface: Surface, tokens: dict[str, IssuedToken], cloud: Any
) -> None:
    for scope in (demo_scope(), other_scope()):
        assert_outcome(surface.call("list", scope, token=tokens["operator"].token), "OK")


def test_another_tenant_is_permission_denied(surface: Surface, tokens: dict[str, IssuedToken]) -> None:
    outcome = surface.call("list", other_scope(), token=tokens["system"].token)
    assert_outcome(outcome, "PERMISSION_DENIED", "TENANT_NOT_ALLOWED")


def test_a_cluster_the_tenant_does_not_own_is_not_found(
    surface: Surface, tokens: dict[str, IssuedToken]
) -> None:
    """tenant-other may act for itself, but the demo cluster is not its own: the very same NOT_FOUND as a
    cluster that does not exist, so nothing tells the two apart."""
    token = tokens["other"].token
    not_owned = surface.call("list", other_scope(ClusterUuid=DEMO_CLUSTER), token=token)
    unknown_cluster = "00000000-0000-4000-8000-000000000000"
    unknown = surface.call("list", other_scope(ClusterUuid=unknown_cluster), token=token)

    assert_outcome(not_owned, "NOT_FOUND", "CLUSTER_NOT_FOUND")
    assert_outcome(unknown, "NOT_FOUND", "CLUSTER_NOT_FOUND")
    assert not_owned.envelope["message"].replace(DEMO_CLUSTER, "?") == unknown.envelope["message"].replace(
        unknown_cluster, "?"
    )


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        ("inspect", {"InstanceId": OTHER_ACCOUNT_INSTANCE}),
        ("turn_off", {"InstanceIds": [OTHER_ACCOUNT_INSTANCE]}),
        ("update", {"InstanceIds": [OTHER_ACCOUNT_INSTANCE], "InstanceName": "hijacked"}),
        ("delete", {"InstanceIds": [OTHER_ACCOUNT_INSTANCE]}),
    ],
)
def test_instances_of_another_account_are_not_found_and_untouched(
    surface: Surface, tokens: dict[str, IssuedToken], cloud: Any, verb: str, body: dict[str, Any]
) -> None:
    outcome = surface.call(verb, demo_scope(**body), token=tokens["system"].token)

    assert_outcome(outcome, "NOT_FOUND")
    seen = describe(cloud, [OTHER_ACCOUNT_INSTANCE], secret_id=OTHER_SECRET_ID, secret_key=OTHER_SECRET_KEY)
    assert seen[OTHER_ACCOUNT_INSTANCE]["InstanceState"] == "RUNNING"
    assert seen[OTHER_ACCOUNT_INSTANCE]["InstanceName"] != "hijacked"


def test_health_needs_no_credentials(token_stack: Stack) -> None:
    from grpc_health.v1 import health_pb2

    with token_stack.server.channel() as channel:
        reply = token_stack.server.health_stub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


# --- mode jwt ---------------------------------------------------------------------------------------------

ISSUER = "https://login.example.test/"
AUDIENCE = "compute-service"
TENANT_CLAIM = "https://compute.example.test/tenants"  # a namespaced claim, as identity providers use


class Issuer:
    """An identity provider: an RSA and an EC P-256 key, published in a JWKS file by kid."""

    def __init__(self, directory: Path) -> None:
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        keys = []
        for kid, alg, public_jwk in (
            ("rsa-1", "RS256", RSAAlgorithm.to_jwk(self.rsa_key.public_key(), as_dict=True)),
            ("ec-1", "ES256", ECAlgorithm.to_jwk(self.ec_key.public_key(), as_dict=True)),
        ):
            keys.append({**public_jwk, "kid": kid, "alg": alg, "use": "sig"})
        self.jwks_file = directory / "jwks.json"
        self.jwks_file.write_text(json.dumps({"keys": keys}), encoding="utf-8")

    def token(
        self,
        algorithm: str = "RS256",
        *,
        key: Any = None,
        kid: str | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A token with good claims, `claims` replacing some (None removes one)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "ci-pipeline",
            "iat": now,
            "exp": now + 600,
            TENANT_CLAIM: ["system"],
        }
        payload.update(claims or {})
        payload = {name: value for name, value in payload.items() if value is not None}
        signing_key = key or (self.rsa_key if algorithm == "RS256" else self.ec_key)
        headers = {"kid": kid or ("rsa-1" if algorithm == "RS256" else "ec-1")}
        return register_secret(jwt.encode(payload, signing_key, algorithm=algorithm, headers=headers))

    def hs256_with_public_key(self) -> str:
        """The key-confusion attack: HS256 "signed" with the RSA public key's PEM bytes as the secret."""
        public_pem = self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        now = int(time.time())
        header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "attacker", "exp": now + 600, TENANT_CLAIM: "*"}
        signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(payload))}"
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return register_secret(f"{signing_input}.{_b64(signature)}")

    def unsigned(self) -> str:
        now = int(time.time())
        header = {"alg": "none", "typ": "JWT"}
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "attacker", "exp": now + 600, TENANT_CLAIM: "*"}
        return register_secret(f"{_b64(json.dumps(header))}.{_b64(json.dumps(payload))}.")


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    return Issuer(tmp_path_factory.mktemp("jwt"))


@pytest.fixture(scope="module")
def jwt_surfaces(
    emulator: Any, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Surface]]:
    store = tmp_path_factory.mktemp("auth-jwt") / "compute.db"
    auth = jwt_auth(issuer.jwks_file, issuer=ISSUER, audience=AUDIENCE, tenant_claim=TENANT_CLAIM)
    with running_stack(emulator, store_path=store, auth_toml=auth) as stack:
        ways = surfaces(stack)
        yield ways
        for way in ways.values():
            way.close()


@pytest.fixture(params=SURFACE_NAMES)
def jwt_surface(request: pytest.FixtureRequest, jwt_surfaces: dict[str, Surface]) -> Surface:
    return jwt_surfaces[request.param]


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_valid_jwt_acts_for_its_tenants(jwt_surface: Surface, issuer: Issuer, algorithm: str) -> None:
    outcome = jwt_surface.call("list", demo_scope(), token=issuer.token(algorithm))
    assert_outcome(outcome, "OK")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_jwt_for_other_tenants_is_permission_denied(
    jwt_surface: Surface, issuer: Issuer, algorithm: str
) -> None:
    token = issuer.token(algorithm, claims={TENANT_CLAIM: [OTHER_TENANT]})
    assert_outcome(
        jwt_surface.call("list", demo_scope(), token=token), "PERMISSION_DENIED", "TENANT_NOT_ALLOWED"
    )


def _bad_tokens(issuer: Issuer) -> dict[str, tuple[str, str]]:
    """name -> (token, expected desc)."""
    now = int(time.time())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "expired": (
            issuer.token("ES256", claims={"exp": now - 120, "iat": now - 720}),
            "EXPIRED_CREDENTIALS",
        ),
        "wrong issuer": (issuer.token(claims={"iss": "https://evil.example.test/"}), "INVALID_CREDENTIALS"),
        "wrong audience": (issuer.token("ES256", claims={"aud": "another-service"}), "INVALID_CREDENTIALS"),
        "no expiry": (issuer.token(claims={"exp": None}), "INVALID_CREDENTIALS"),
        "no tenant claim": (issuer.token(claims={TENANT_CLAIM: None}), "INVALID_CREDENTIALS"),
        "signed by another key": (issuer.token(key=stranger), "INVALID_CREDENTIALS"),
        "unknown kid": (issuer.token(kid="rsa-9"), "INVALID_CREDENTIALS"),
        "HS256 with the public key": (issuer.hs256_with_public_key(), "INVALID_CREDENTIALS"),
        "alg none": (issuer.unsigned(), "INVALID_CREDENTIALS"),
        "not a JWT": (register_secret("not-a-jwt-" + secrets.token_hex(16)), "INVALID_CREDENTIALS"),
    }


def test_bad_jwts_are_unauthenticated(jwt_surface: Surface, issuer: Issuer) -> None:
    for name, (token, desc) in _bad_tokens(issuer).items():
        outcome = jwt_surface.call("list", demo_scope(), token=token)
        assert outcome.code == "UNAUTHENTICATED", name
        assert outcome.desc == desc, name
        assert token not in json.dumps(outcome.envelope), name
        if outcome.http_status is not None:
            assert outcome.http_status == 401, name
