"""Caller authentication: config parsing, static tokens, JWT verification, and the interceptor on a real grpc
server (a tiny probe service on a free port, plus the real health service to prove the exemption)."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from server.compute.errors import PermissionDenied
from server.security import (
    AuthConfigError,
    AuthInterceptor,
    AuthSettings,
    Caller,
    NoCallerError,
    caller_context,
    current_caller,
    warn_if_insecure,
)
from server.security.auth import bearer_token
from server.security.errors import AuthenticationError
from server.security.jwt_auth import JwtAuthenticator
from server.security.tokens import StaticTokenAuthenticator, generate_token, hash_token

ISSUER = "https://issuer.test"
AUDIENCE = "compute"
TOKEN_A = "token-a-" + "a" * 40
TOKEN_ANY = "token-any-" + "b" * 40


# --- keys and helpers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def jwt_table(**overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE}
    table.update(overrides)
    return table


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "svc-billing",
        "tenants": ["tenant-a", "tenant-b"],
        "iat": now,
        "exp": now + 600,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def authenticator_for(tmp_path: Path, key: Any, clock: Callable[[], float] = time.time, **table: Any) -> Any:
    pem = tmp_path / "jwt.pem"
    pem.write_bytes(public_pem(key))
    settings = AuthSettings.from_mapping({"mode": "jwt", "jwt": jwt_table(public_key_file=str(pem), **table)})
    assert settings.jwt is not None
    return JwtAuthenticator(settings.jwt, clock=clock)


def rejected(authenticate: Callable[[str], Caller], token: str) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as info:
        authenticate(token)
    assert token not in info.value.message and token not in info.value.message_cn
    return info.value


# --- settings ------------------------------------------------------------------------------------------


def test_mode_is_required_and_checked() -> None:
    with pytest.raises(AuthConfigError, match=r"auth\.mode is required"):
        AuthSettings.from_mapping({})
    with pytest.raises(AuthConfigError, match="must be one of"):
        AuthSettings.from_mapping({"mode": "basic"})
    assert AuthSettings.from_mapping({"mode": "none"}).mode == "none"


def test_unknown_keys_are_rejected_not_ignored() -> None:
    with pytest.raises(AuthConfigError, match="tokenz"):
        AuthSettings.from_mapping({"mode": "none", "tokenz": []})
    with pytest.raises(AuthConfigError, match="sha265"):
        AuthSettings.from_mapping(
            {"mode": "token", "tokens": [{"sha265": "0" * 64, "subject": "s", "tenants": ["t"]}]}
        )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"sha256": "abc", "subject": "s", "tenants": ["t"]}, "64 hex digits"),
        ({"sha256": "0" * 64, "subject": "", "tenants": ["t"]}, "subject"),
        ({"sha256": "0" * 64, "subject": "s", "tenants": []}, "must not be empty"),
        ({"sha256": "0" * 64, "subject": "s", "tenants": ["*", "t"]}, "cannot be mixed"),
        ({"sha256": "0" * 64, "subject": "s", "tenants": "t"}, "list of non-empty strings"),
    ],
)
def test_token_entries_are_validated(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthConfigError, match=message):
        AuthSettings.from_mapping({"mode": "token", "tokens": [entry]})


def test_token_mode_needs_tokens_and_rejects_duplicates() -> None:
    with pytest.raises(AuthConfigError, match="at least one"):
        AuthSettings.from_mapping({"mode": "token"})
    entry = {"sha256": hash_token(TOKEN_A), "subject": "s", "tenants": ["t"]}
    with pytest.raises(AuthConfigError, match="repeats"):
        AuthSettings.from_mapping({"mode": "token", "tokens": [entry, dict(entry)]})


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], ["RS256", "HS512"], ["RS384"]])
def test_jwt_only_allows_rs256_and_es256(algorithms: list[str]) -> None:
    with pytest.raises(AuthConfigError, match="RS256 and ES256"):
        AuthSettings.from_mapping(
            {"mode": "jwt", "jwt": jwt_table(public_key_file="k.pem", algorithms=algorithms)}
        )


def test_jwt_needs_issuer_audience_and_exactly_one_key_source() -> None:
    with pytest.raises(AuthConfigError, match="issuer"):
        AuthSettings.from_mapping({"mode": "jwt", "jwt": {"audience": "a", "public_key_file": "k"}})
    with pytest.raises(AuthConfigError, match="audience"):
        AuthSettings.from_mapping({"mode": "jwt", "jwt": {"issuer": "i", "public_key_file": "k"}})
    with pytest.raises(AuthConfigError, match="exactly one"):
        AuthSettings.from_mapping({"mode": "jwt", "jwt": jwt_table()})
    with pytest.raises(AuthConfigError, match="exactly one"):
        AuthSettings.from_mapping({"mode": "jwt", "jwt": jwt_table(public_key_file="k", jwks_file="j")})


def test_unreadable_or_weak_keys_fail_at_start(tmp_path: Path) -> None:
    settings = AuthSettings.from_mapping(
        {"mode": "jwt", "jwt": jwt_table(public_key_file=str(tmp_path / "missing.pem"))}
    )
    assert settings.jwt is not None
    with pytest.raises(AuthConfigError, match="cannot read"):
        JwtAuthenticator(settings.jwt)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(AuthConfigError, match="2048"):
        authenticator_for(tmp_path, weak)
    with pytest.raises(AuthConfigError, match="P-256"):
        authenticator_for(tmp_path, ec.generate_private_key(ec.SECP384R1()))


# --- static tokens -------------------------------------------------------------------------------------


def token_settings() -> AuthSettings:
    return AuthSettings.from_mapping(
        {
            "mode": "token",
            "tokens": [
                {"sha256": hash_token(TOKEN_A), "subject": "svc-a", "tenants": ["tenant-a"]},
                {"sha256": hash_token(TOKEN_ANY).upper(), "subject": "ops", "tenants": ["*"]},
            ],
        }
    )


def test_static_tokens_map_to_their_subject_and_tenants() -> None:
    auth = StaticTokenAuthenticator(token_settings().tokens)
    assert auth.authenticate(TOKEN_A) == Caller("svc-a", frozenset({"tenant-a"}))
    assert auth.authenticate(TOKEN_ANY) == Caller("ops", None)
    error = rejected(auth.authenticate, TOKEN_A + "x")
    assert error.reason == "INVALID_CREDENTIALS"
    assert len(generate_token()) >= 43


def test_require_tenant() -> None:
    caller = Caller("svc-a", frozenset({"tenant-a"}))
    caller.require_tenant("tenant-a")
    with pytest.raises(PermissionDenied) as info:
        caller.require_tenant("tenant-b")
    assert info.value.code == "PERMISSION_DENIED"
    assert info.value.reason == "TENANT_NOT_ALLOWED"
    assert "tenant-b" in info.value.message and info.value.message_cn
    Caller("ops", None).require_tenant("anything")


def test_current_caller_outside_a_call_fails_loudly() -> None:
    with pytest.raises(NoCallerError):
        current_caller()
    with caller_context(Caller("x", None)):
        assert current_caller().subject == "x"
    with pytest.raises(NoCallerError):
        current_caller()


# --- JWT -----------------------------------------------------------------------------------------------


def test_rs256_with_pem_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    auth = authenticator_for(tmp_path, rsa_key)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert auth.authenticate(token) == Caller("svc-billing", frozenset({"tenant-a", "tenant-b"}))
    with_kid = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "idp-key-7"})
    assert auth.authenticate(with_kid).subject == "svc-billing"  # one PEM key: the kid does not matter


def test_pem_certificate_is_accepted(tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(ec_key, hashes.SHA256())
    )
    pem = tmp_path / "cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    settings = AuthSettings.from_mapping({"mode": "jwt", "jwt": jwt_table(public_key_file=str(pem))})
    assert settings.jwt is not None
    token = jwt.encode(claims(), ec_key, algorithm="ES256")
    assert JwtAuthenticator(settings.jwt).authenticate(token).subject == "svc-billing"


def test_es256_with_jwks_selects_the_key_by_kid(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    other_ec = ec.generate_private_key(ec.SECP256R1())
    jwks = {
        "keys": [
            {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(other_ec.public_key())), "kid": "old"},
            {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key())), "kid": "new"},
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())), "kid": "rsa"},
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())), "use": "enc"},
        ]
    }
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    settings = AuthSettings.from_mapping({"mode": "jwt", "jwt": jwt_table(jwks_file=str(path))})
    assert settings.jwt is not None
    auth = JwtAuthenticator(settings.jwt)

    good = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "new"})
    assert auth.authenticate(good).subject == "svc-billing"
    rsa_token = jwt.encode(claims(sub="rsa-user"), rsa_key, algorithm="RS256", headers={"kid": "rsa"})
    assert auth.authenticate(rsa_token).subject == "rsa-user"

    wrong_kid = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "old"})
    assert "bad signature" in rejected(auth.authenticate, wrong_kid).message
    unknown_kid = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "nope"})
    assert "kid" in rejected(auth.authenticate, unknown_kid).message
    no_kid = jwt.encode(claims(), ec_key, algorithm="ES256")
    assert "several keys" in rejected(auth.authenticate, no_kid).message
    # An ES256 header naming the RSA key: the algorithm must match the key's type.
    mismatch = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "rsa"})
    assert "does not match" in rejected(auth.authenticate, mismatch).message


def test_alg_none_and_hmac_key_confusion_are_rejected(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    auth = authenticator_for(tmp_path, rsa_key)
    unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]  # an attacker's token
    assert "algorithm" in rejected(auth.authenticate, unsigned).message
    # The classic attack: HS256 "signed" with the RSA public key's PEM bytes as the HMAC secret.
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = jwt.utils.base64url_encode(json.dumps(claims()).encode())
    signature = hmac.new(public_pem(rsa_key), header + b"." + body, sha256).digest()
    forged = b".".join([header, body, jwt.utils.base64url_encode(signature)]).decode()
    assert "algorithm" in rejected(auth.authenticate, forged).message


def test_signature_issuer_audience_and_shape(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    auth = authenticator_for(tmp_path, rsa_key)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        jwt.encode(claims(), stranger, algorithm="RS256"): "bad signature",
        jwt.encode(claims(iss="https://evil.test"), rsa_key, algorithm="RS256"): "issuer",
        jwt.encode(claims(aud="other-service"), rsa_key, algorithm="RS256"): "aud",
        jwt.encode(claims(exp=None), rsa_key, algorithm="RS256"): "'exp'",
        jwt.encode(claims(sub=None), rsa_key, algorithm="RS256"): "subject",
        jwt.encode(claims(tenants=None), rsa_key, algorithm="RS256"): "tenants",
        jwt.encode(claims(tenants=[]), rsa_key, algorithm="RS256"): "tenants",
        jwt.encode(claims(tenants=[1, 2]), rsa_key, algorithm="RS256"): "tenants",
        "not.a.jwt": "well-formed",
        "garbage": "well-formed",
    }
    for token, fragment in cases.items():
        error = rejected(auth.authenticate, token)
        assert error.reason == "INVALID_CREDENTIALS"
        assert fragment in error.message, (fragment, error.message)


def test_expiry_and_not_before_with_leeway(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    now = 2_000_000_000.0
    clock = [now]
    auth = authenticator_for(tmp_path, rsa_key, clock=lambda: clock[0], leeway_seconds=30)
    within_leeway = jwt.encode(claims(exp=int(now) - 10), rsa_key, algorithm="RS256")
    assert auth.authenticate(within_leeway).subject == "svc-billing"
    expired = jwt.encode(claims(exp=int(now) - 31), rsa_key, algorithm="RS256")
    assert rejected(auth.authenticate, expired).reason == "EXPIRED_CREDENTIALS"
    early = jwt.encode(claims(nbf=int(now) + 60, exp=int(now) + 600), rsa_key, algorithm="RS256")
    assert "nbf" in rejected(auth.authenticate, early).message
    soon = jwt.encode(claims(nbf=int(now) + 20, exp=int(now) + 600), rsa_key, algorithm="RS256")
    assert auth.authenticate(soon).subject == "svc-billing"


def test_verified_tokens_are_cached_until_exp(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 2_000_000_000.0
    clock = [now]
    auth = authenticator_for(tmp_path, rsa_key, clock=lambda: clock[0], leeway_seconds=0)
    calls = []
    real_decode = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    token = jwt.encode(claims(exp=int(now) + 60), rsa_key, algorithm="RS256")
    for _ in range(5):
        auth.authenticate(token)
    assert len(calls) == 1
    clock[0] = now + 61
    assert rejected(auth.authenticate, token).reason == "EXPIRED_CREDENTIALS"


def test_custom_claim_names_and_single_string_tenant(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    auth = authenticator_for(
        tmp_path, rsa_key, tenant_claim="https://example.com/tenant", subject_claim="azp"
    )
    token = jwt.encode(
        claims(**{"azp": "client-42", "https://example.com/tenant": "tenant-z"}), rsa_key, algorithm="RS256"
    )
    assert auth.authenticate(token) == Caller("client-42", frozenset({"tenant-z"}))
    wildcard = jwt.encode(
        claims(**{"azp": "ops", "https://example.com/tenant": ["*"]}), rsa_key, algorithm="RS256"
    )
    assert auth.authenticate(wildcard) == Caller("ops", None)


# --- bearer header parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ((), "MISSING_CREDENTIALS"),
        ((("x-other", "1"),), "MISSING_CREDENTIALS"),
        ((("authorization", "Basic dXNlcjpwYXNz"),), "MALFORMED_CREDENTIALS"),
        ((("authorization", "Bearer"),), "MALFORMED_CREDENTIALS"),
        ((("authorization", "Bearer a b"),), "MALFORMED_CREDENTIALS"),
        ((("authorization", "Bearer a"), ("authorization", "Bearer b")), "MALFORMED_CREDENTIALS"),
        ((("authorization", "Bearer " + "x" * 9000),), "MALFORMED_CREDENTIALS"),
    ],
)
def test_bearer_header_problems(metadata: tuple[tuple[str, str], ...], reason: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        bearer_token(metadata)
    assert info.value.reason == reason


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token((("authorization", "  bearer   abc "),)) == "abc"


# --- the interceptor on a real grpc server -------------------------------------------------------------

PROBE = "/test.v1.Probe/"


def _probe_handlers() -> grpc.GenericRpcHandler:
    def whoami(request: dict[str, Any], context: grpc.ServicerContext) -> dict[str, Any]:
        caller = current_caller()
        tenants = None if caller.tenants is None else sorted(caller.tenants)
        return {"subject": caller.subject, "tenants": tenants}

    def act_for(request: dict[str, Any], context: grpc.ServicerContext) -> dict[str, Any]:
        try:
            current_caller().require_tenant(request["tenant"])
        except PermissionDenied as error:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, error.message)
        return {"ok": True}

    def whoami_stream(request: dict[str, Any], context: grpc.ServicerContext) -> Iterator[dict[str, Any]]:
        for _ in range(3):
            yield {"subject": current_caller().subject}

    def load(data: bytes) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(data)  # garbage bytes fail here, as a real deserializer would
        return value

    def dump(message: dict[str, Any]) -> bytes:
        return json.dumps(message).encode()

    return grpc.method_handlers_generic_handler(
        "test.v1.Probe",
        {
            "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami, load, dump),
            "ActFor": grpc.unary_unary_rpc_method_handler(act_for, load, dump),
            "WhoAmIStream": grpc.unary_stream_rpc_method_handler(whoami_stream, load, dump),
        },
    )


class Probe:
    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel

    def call(self, method: str, request: Any, token: str | None = None, raw: bytes | None = None) -> Any:
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        stub = self.channel.unary_unary(PROBE + method, request_serializer=None, response_deserializer=None)
        body = raw if raw is not None else json.dumps(request).encode()
        return json.loads(stub(body, metadata=metadata, timeout=10))

    def stream(self, request: Any, token: str) -> list[Any]:
        stub = self.channel.unary_stream(PROBE + "WhoAmIStream")
        replies = stub(
            json.dumps(request).encode(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
        )
        return [json.loads(r) for r in replies]


@pytest.fixture
def serve() -> Iterator[Callable[[AuthSettings], Probe]]:
    servers: list[grpc.Server] = []
    channels: list[grpc.Channel] = []

    def start(settings: AuthSettings) -> Probe:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4), interceptors=[AuthInterceptor(settings)]
        )
        server.add_generic_rpc_handlers((_probe_handlers(),))
        health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        channels.append(channel)
        return Probe(channel)

    yield start
    for channel in channels:
        channel.close()
    for server in servers:
        server.stop(None)


def assert_unauthenticated(error: grpc.RpcError, reason: str, secret: str | None = None) -> dict[str, Any]:
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    trailers = dict(error.trailing_metadata())
    envelope: dict[str, Any] = json.loads(trailers["x-legacy-envelope"])
    assert list(envelope) == ["scode", "desc", "message", "message_cn", "stack", "data"]
    assert envelope["scode"] == grpc.StatusCode.UNAUTHENTICATED.value[0] == 16
    assert envelope["desc"] == reason and envelope["stack"] is None and envelope["data"] == {}
    assert trailers["x-legacy-envelope"].isascii()
    rich = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert rich.details[0].Unpack(info)
    assert info.reason == reason and info.domain == "compute.tencent.v1"
    if secret is not None:
        everything = error.details() + json.dumps(envelope) + str(rich)
        assert secret not in everything
    return envelope


def test_interceptor_rejects_missing_and_bad_tokens(serve: Callable[[AuthSettings], Probe]) -> None:
    probe = serve(token_settings())
    with pytest.raises(grpc.RpcError) as missing:
        probe.call("WhoAmI", {})
    envelope = assert_unauthenticated(missing.value, "MISSING_CREDENTIALS")
    assert "Authorization" in envelope["message"] and envelope["message_cn"]

    wrong = "wrong-" + "z" * 40
    with pytest.raises(grpc.RpcError) as invalid:
        probe.call("WhoAmI", {}, token=wrong)
    assert_unauthenticated(invalid.value, "INVALID_CREDENTIALS", secret=wrong)


def test_interceptor_rejects_before_reading_the_body(serve: Callable[[AuthSettings], Probe]) -> None:
    probe = serve(token_settings())
    with pytest.raises(grpc.RpcError) as error:
        probe.call("WhoAmI", None, raw=b"\xff not json")
    assert_unauthenticated(error.value, "MISSING_CREDENTIALS")


def test_handler_sees_the_caller_in_its_own_thread(serve: Callable[[AuthSettings], Probe]) -> None:
    probe = serve(token_settings())
    assert probe.call("WhoAmI", {}, token=TOKEN_A) == {"subject": "svc-a", "tenants": ["tenant-a"]}
    assert probe.call("WhoAmI", {}, token=TOKEN_ANY) == {"subject": "ops", "tenants": None}
    assert probe.stream({}, token=TOKEN_A) == [{"subject": "svc-a"}] * 3
    # Calls on the same worker threads do not inherit each other's caller.
    for token, subject in [(TOKEN_A, "svc-a"), (TOKEN_ANY, "ops")] * 4:
        assert probe.call("WhoAmI", {}, token=token)["subject"] == subject


def test_tenant_check_gives_permission_denied(serve: Callable[[AuthSettings], Probe]) -> None:
    probe = serve(token_settings())
    assert probe.call("ActFor", {"tenant": "tenant-a"}, token=TOKEN_A) == {"ok": True}
    with pytest.raises(grpc.RpcError) as error:
        probe.call("ActFor", {"tenant": "tenant-b"}, token=TOKEN_A)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_health_is_exempt_and_unknown_methods_stay_unimplemented(
    serve: Callable[[AuthSettings], Probe],
) -> None:
    probe = serve(token_settings())
    reply = health_pb2_grpc.HealthStub(probe.channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as error:
        probe.call("NoSuchMethod", {})
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_jwt_mode_through_the_interceptor(
    serve: Callable[[AuthSettings], Probe], tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = tmp_path / "jwt.pem"
    pem.write_bytes(public_pem(rsa_key))
    probe = serve(AuthSettings.from_mapping({"mode": "jwt", "jwt": jwt_table(public_key_file=str(pem))}))
    token = jwt.encode(claims(tenants="tenant-a"), rsa_key, algorithm="RS256")
    assert probe.call("WhoAmI", {}, token=token) == {"subject": "svc-billing", "tenants": ["tenant-a"]}
    expired = jwt.encode(claims(exp=int(time.time()) - 3600), rsa_key, algorithm="RS256")
    with pytest.raises(grpc.RpcError) as error:
        probe.call("WhoAmI", {}, token=expired)
    assert_unauthenticated(error.value, "EXPIRED_CREDENTIALS", secret=expired)


def test_mode_none_lets_everyone_in_as_anonymous(
    serve: Callable[[AuthSettings], Probe], caplog: pytest.LogCaptureFixture
) -> None:
    settings = AuthSettings.from_mapping({"mode": "none"})
    probe = serve(settings)
    assert probe.call("WhoAmI", {}) == {"subject": "anonymous", "tenants": None}
    logger = logging.getLogger("test.startup")
    with caplog.at_level(logging.INFO, logger="test.startup"):
        assert warn_if_insecure(settings, logger) is True
        assert warn_if_insecure(token_settings(), logger) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "AUTHENTICATION IS OFF" in warnings[0].getMessage()
