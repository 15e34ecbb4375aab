"""The `[auth]` table of the server config, parsed and checked once at startup.

A mistake here (a typo in a key, a malformed hash, a forbidden algorithm) fails the start with a message
naming the key: an authentication layer that silently ignores half its configuration is worse than none.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from server.config_errors import ConfigError, reject_unknown_keys

ANY_TENANT = "*"

# Only asymmetric algorithms: the service holds public keys only, so a leaked config cannot mint tokens, and
# `none` / HS* (the classic key-confusion attacks) can never be accepted.
ALLOWED_JWT_ALGORITHMS: frozenset[str] = frozenset({"RS256", "ES256"})

# Health checks and reflection stay reachable without credentials (load balancers, grpcurl discovery).
DEFAULT_EXEMPT_SERVICES: tuple[str, ...] = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class AuthConfigError(ConfigError):
    """The `[auth]` table is invalid; the message names the offending key."""


class AuthMode(enum.StrEnum):
    NONE = "none"
    TOKEN = "token"
    JWT = "jwt"


@dataclass(frozen=True)
class TokenEntry:
    """One static bearer token, known only by the SHA-256 of its text."""

    digest: bytes  # 32 bytes: sha256(token.encode("utf-8"))
    subject: str
    tenants: frozenset[str] | None  # None = may act for any tenant ("*")


@dataclass(frozen=True)
class JwtSettings:
    issuer: str
    audiences: tuple[str, ...]
    algorithms: frozenset[str]
    public_key_file: Path | None
    jwks_file: Path | None
    leeway_seconds: float
    tenant_claim: str
    subject_claim: str


@dataclass(frozen=True)
class AuthSettings:
    mode: AuthMode
    tokens: tuple[TokenEntry, ...] = ()
    jwt: JwtSettings | None = None
    exempt_services: tuple[str, ...] = field(default=DEFAULT_EXEMPT_SERVICES)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Parse the `[auth]` table. `mode` is required: an open service must be asked for explicitly."""
        reject_unknown_keys(data, {"mode", "tokens", "jwt", "exempt_services"}, "[auth]", AuthConfigError)
        raw_mode = data.get("mode")
        if raw_mode is None:
            raise AuthConfigError('auth.mode is required: one of "none", "token", "jwt"')
        try:
            mode = AuthMode(raw_mode)
        except ValueError:
            raise AuthConfigError(
                f'auth.mode must be one of "none", "token", "jwt", not {raw_mode!r}'
            ) from None

        exempt = data.get("exempt_services", DEFAULT_EXEMPT_SERVICES)
        exempt_services = tuple(_string_list(exempt, "auth.exempt_services", allow_empty=True))

        tokens: tuple[TokenEntry, ...] = ()
        jwt_settings: JwtSettings | None = None
        if mode is AuthMode.TOKEN:
            tokens = _parse_tokens(data.get("tokens"))
        elif "tokens" in data:
            raise AuthConfigError(f'auth.tokens is only used with mode = "token" (mode is "{mode}")')
        if mode is AuthMode.JWT:
            jwt_settings = _parse_jwt(data.get("jwt"))
        elif "jwt" in data:
            raise AuthConfigError(f'auth.jwt is only used with mode = "jwt" (mode is "{mode}")')
        return cls(mode=mode, tokens=tokens, jwt=jwt_settings, exempt_services=exempt_services)


def _parse_tokens(raw: object) -> tuple[TokenEntry, ...]:
    if not isinstance(raw, list) or not raw:
        raise AuthConfigError('mode = "token" needs at least one [[auth.tokens]] entry')
    entries: list[TokenEntry] = []
    seen: set[bytes] = set()
    for index, item in enumerate(raw):
        where = f"auth.tokens[{index}]"
        if not isinstance(item, Mapping):
            raise AuthConfigError(f"{where} must be a table with sha256, subject, tenants")
        reject_unknown_keys(item, {"sha256", "subject", "tenants"}, where, AuthConfigError)
        digest_hex = item.get("sha256")
        if not isinstance(digest_hex, str) or not _SHA256_HEX.fullmatch(digest_hex.lower()):
            raise AuthConfigError(
                f"{where}.sha256 must be 64 hex digits (print one with: python tools/hash_token.py)"
            )
        digest = bytes.fromhex(digest_hex)
        if digest in seen:
            raise AuthConfigError(f"{where}.sha256 repeats an earlier entry")
        seen.add(digest)
        subject = item.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            raise AuthConfigError(f"{where}.subject must be a non-empty string (who holds this token)")
        tenants = parse_tenant_list(item.get("tenants"), f"{where}.tenants")
        entries.append(TokenEntry(digest=digest, subject=subject, tenants=tenants))
    return tuple(entries)


def parse_tenant_list(raw: object, where: str) -> frozenset[str] | None:
    """A list of tenant ids, or ["*"] for any tenant (returned as None)."""
    tenants = _string_list(raw, where, allow_empty=False)
    if ANY_TENANT in tenants:
        if len(tenants) != 1:
            raise AuthConfigError(f'{where}: "*" means any tenant and cannot be mixed with named tenants')
        return None
    return frozenset(tenants)


def _parse_jwt(raw: object) -> JwtSettings:
    if not isinstance(raw, Mapping):
        raise AuthConfigError('mode = "jwt" needs an [auth.jwt] table')
    reject_unknown_keys(
        raw,
        {
            "issuer",
            "audience",
            "algorithms",
            "public_key_file",
            "jwks_file",
            "leeway_seconds",
            "tenant_claim",
            "subject_claim",
        },
        "[auth.jwt]",
        AuthConfigError,
    )
    issuer = raw.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise AuthConfigError("auth.jwt.issuer is required (the exact `iss` value tokens must carry)")
    audience = raw.get("audience")
    audiences = (audience,) if isinstance(audience, str) else audience
    if not audiences:
        raise AuthConfigError("auth.jwt.audience is required (a string or a list of accepted `aud` values)")
    audiences = tuple(_string_list(audiences, "auth.jwt.audience", allow_empty=False))

    algorithms = frozenset(
        _string_list(raw.get("algorithms", sorted(ALLOWED_JWT_ALGORITHMS)), "auth.jwt.algorithms", False)
    )
    forbidden = algorithms - ALLOWED_JWT_ALGORITHMS
    if forbidden:
        raise AuthConfigError(
            f"auth.jwt.algorithms may only contain RS256 and ES256; refusing {sorted(forbidden)}"
        )

    key_file = _optional_path(raw.get("public_key_file"), "auth.jwt.public_key_file")
    jwks_file = _optional_path(raw.get("jwks_file"), "auth.jwt.jwks_file")
    if (key_file is None) == (jwks_file is None):
        raise AuthConfigError("auth.jwt needs exactly one of public_key_file (PEM) or jwks_file (JWKS JSON)")

    leeway = raw.get("leeway_seconds", 30)
    if isinstance(leeway, bool) or not isinstance(leeway, int | float) or not 0 <= leeway <= 300:
        raise AuthConfigError("auth.jwt.leeway_seconds must be a number from 0 to 300")

    tenant_claim = raw.get("tenant_claim", "tenants")
    subject_claim = raw.get("subject_claim", "sub")
    for name, value in (("tenant_claim", tenant_claim), ("subject_claim", subject_claim)):
        if not isinstance(value, str) or not value:
            raise AuthConfigError(f"auth.jwt.{name} must be a non-empty claim name")
    return JwtSettings(
        issuer=issuer,
        audiences=audiences,
        algorithms=algorithms,
        public_key_file=key_file,
        jwks_file=jwks_file,
        leeway_seconds=float(leeway),
        tenant_claim=tenant_claim,
        subject_claim=subject_claim,
    )


def _optional_path(raw: object, where: str) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise AuthConfigError(f"{where} must be a file path (relative to the working directory)")
    return Path(raw)


def _string_list(raw: object, where: str, allow_empty: bool) -> list[str]:
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) and v for v in raw):
        raise AuthConfigError(f"{where} must be a list of non-empty strings")
    if not raw and not allow_empty:
        raise AuthConfigError(f"{where} must not be empty")
    return list(raw)
