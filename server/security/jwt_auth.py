"""JWT bearer tokens (auth mode "jwt"): RS256 / ES256 signatures checked against configured public keys.

PyJWT checks the signature, issuer, audience and the presence of the required claims; this module picks the
key (by `kid` from a JWKS file, or the single PEM key), refuses any algorithm but the configured asymmetric
ones (the header's `alg` must also match the key's type, so an RSA key can never verify an HS256 token made
with its public bytes), checks exp / nbf against one clock with a small leeway, and maps every failure to a
fixed message that never echoes the token.

Verified tokens are cached by SHA-256 (bounded LRU) until their `exp`, so a caller reusing a token pays for
the signature check once, not per call.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from server.security.caller import Caller
from server.security.errors import AuthenticationError, expired_credentials, invalid_credentials
from server.security.settings import AuthConfigError, JwtSettings, parse_tenant_list

MIN_RSA_BITS = 2048
CACHE_SIZE = 4096

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class VerificationKey:
    algorithm: str  # the only algorithm this key may verify: RS256 for RSA, ES256 for EC P-256
    key: PublicKey
    kid: str | None


@dataclass(frozen=True)
class _CachedCaller:
    caller: Caller
    expires_at: float


class JwtAuthenticator:
    def __init__(self, settings: JwtSettings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        if settings.public_key_file is not None:
            self._keys = [load_pem_key(settings.public_key_file)]
        else:
            assert settings.jwks_file is not None  # settings guarantee exactly one source
            self._keys = load_jwks(settings.jwks_file)
        self._keys = [k for k in self._keys if k.algorithm in settings.algorithms]
        if not self._keys:
            raise AuthConfigError(
                f"auth.jwt: no key usable with the allowed algorithms {sorted(settings.algorithms)}"
            )
        self._by_kid = {k.kid: k for k in self._keys if k.kid is not None}
        self._cache: OrderedDict[bytes, _CachedCaller] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> Caller:
        cache_key = hashlib.sha256(token.encode("utf-8")).digest()
        now = self._clock()
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                if now < hit.expires_at:
                    self._cache.move_to_end(cache_key)
                    return hit.caller
                del self._cache[cache_key]
        caller, expires_at = self._verify(token, now)
        with self._lock:
            self._cache[cache_key] = _CachedCaller(caller, expires_at)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return caller

    def _verify(self, token: str, now: float) -> tuple[Caller, float]:
        s = self._settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid_credentials("not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in s.algorithms:
            allowed = ", ".join(sorted(s.algorithms))
            raise invalid_credentials(f"token algorithm not accepted (allowed: {allowed})")
        key = self._select_key(header.get("kid"))
        if key.algorithm != algorithm:
            raise invalid_credentials("token algorithm does not match the signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm],
                audience=list(s.audiences),
                issuer=s.issuer,
                # exp / nbf are checked below against our clock (one clock also drives the cache).
                options={
                    "require": ["exp", "iss", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise _map_decode_error(exc) from None

        expires_at = _numeric_claim(claims, "exp")
        if expires_at is None:
            raise invalid_credentials("claim 'exp' must be a number")
        if now > expires_at + s.leeway_seconds:
            raise expired_credentials()
        if "nbf" in claims:
            not_before = _numeric_claim(claims, "nbf")
            if not_before is None:
                raise invalid_credentials("claim 'nbf' must be a number")
            if now < not_before - s.leeway_seconds:
                raise invalid_credentials("the token is not valid yet (nbf)")

        subject = claims.get(s.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise invalid_credentials(f"claim {s.subject_claim!r} (subject) is missing or not a string")
        raw_tenants = claims.get(s.tenant_claim)
        if isinstance(raw_tenants, str):
            raw_tenants = [raw_tenants]
        try:
            tenants = parse_tenant_list(raw_tenants, s.tenant_claim)
        except AuthConfigError:
            raise invalid_credentials(
                f"claim {s.tenant_claim!r} (tenants) must be a tenant id or a non-empty list of them"
            ) from None
        return Caller(subject=subject, tenants=tenants), expires_at

    def _select_key(self, kid: object) -> VerificationKey:
        if isinstance(kid, str) and kid in self._by_kid:
            return self._by_kid[kid]
        # A single key with no kid (a PEM file) verifies every token, whatever kid its issuer stamps on it.
        if len(self._keys) == 1 and (kid is None or not self._by_kid):
            return self._keys[0]
        if kid is not None:
            raise invalid_credentials("unknown signing key id (kid)")
        raise invalid_credentials("the token names no key id (kid) and several keys are configured")


def _numeric_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _map_decode_error(exc: jwt.PyJWTError) -> AuthenticationError:
    # Fixed texts per failure class: PyJWT's own messages can quote parts of the token.
    if isinstance(exc, jwt.InvalidSignatureError):
        return invalid_credentials("bad signature")
    if isinstance(exc, jwt.InvalidAudienceError):
        return invalid_credentials("the token is not meant for this service (aud)")
    if isinstance(exc, jwt.InvalidIssuerError):
        return invalid_credentials("the token comes from an untrusted issuer (iss)")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return invalid_credentials(f"the token lacks the required claim {exc.claim!r}")
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return invalid_credentials("token algorithm not accepted")
    return invalid_credentials("not a well-formed JWT")


def _key_algorithm(key: object, where: str) -> tuple[str, PublicKey]:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise AuthConfigError(f"{where}: {key.key_size}-bit RSA key, {MIN_RSA_BITS} bits at least")
        return "RS256", key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256", key
    raise AuthConfigError(f"{where}: only RSA (RS256) and EC P-256 (ES256) public keys are supported")


def load_pem_key(path: Path) -> VerificationKey:
    """A PEM public key or certificate (the certificate's key is used; its validity dates are not checked)."""
    where = f"auth.jwt.public_key_file {str(path)!r}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuthConfigError(f"{where}: cannot read ({exc.strerror})") from None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except ValueError:
        raise AuthConfigError(f"{where}: not a PEM public key or certificate") from None
    algorithm, public_key = _key_algorithm(key, where)
    return VerificationKey(algorithm=algorithm, key=public_key, kid=None)


def load_jwks(path: Path) -> list[VerificationKey]:
    """Signature keys of a JWKS file (`{"keys": [...]}`); keys marked `"use": "enc"` are skipped."""
    where = f"auth.jwt.jwks_file {str(path)!r}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuthConfigError(f"{where}: cannot read ({exc.strerror})") from None
    except ValueError:
        raise AuthConfigError(f"{where}: not valid JSON") from None
    raw_keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(raw_keys, list) or not raw_keys:
        raise AuthConfigError(f'{where}: expected {{"keys": [...]}} with at least one key')
    keys: list[VerificationKey] = []
    seen_kids: set[str] = set()
    for index, raw in enumerate(raw_keys):
        key_where = f"{where} key #{index}"
        if not isinstance(raw, dict) or raw.get("use") == "enc":
            continue
        if raw.get("alg") not in (None, "RS256", "ES256"):
            continue  # a key for another algorithm can never verify a token we accept
        try:
            jwk = jwt.PyJWK(raw)
        except jwt.PyJWTError:
            raise AuthConfigError(f"{key_where}: not a usable public JWK") from None
        algorithm, public_key = _key_algorithm(jwk.key, key_where)
        kid = raw.get("kid")
        if kid is not None:
            if not isinstance(kid, str) or kid in seen_kids:
                raise AuthConfigError(f"{key_where}: kid must be a unique string")
            seen_kids.add(kid)
        keys.append(VerificationKey(algorithm=algorithm, key=public_key, kid=kid))
    return keys
