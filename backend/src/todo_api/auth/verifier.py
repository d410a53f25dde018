"""Verify a bearer JWT and return its subject.

The key, and with it the algorithm, comes from configuration: an HS256 shared secret,
or the JWKS key named by the token's `kid` (bound to that key's own algorithm). The
token's header never chooses how it is checked, so `alg: none`, HS256 signed with a
public key, unknown `kid`s and embedded `jwk`/`jku`/`x5u` keys all fail.
"""

import math
import time
from dataclasses import dataclass
from typing import Any

import jwt

from todo_api.auth.jwks import JwksCache, UnknownKeyId

# Far above any real token (Better Auth's carry the user object: about 600 bytes).
MAX_TOKEN_LENGTH = 8192
_FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit"})
_REQUIRED_CLAIMS = ["exp", "sub"]
# Verified tokens remembered (until they expire) before the memory is cleared.
MAX_REMEMBERED_TOKENS = 10_000


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by a trusted key."""


@dataclass(frozen=True)
class ClaimRules:
    """What `iss` and `aud` must be (None: not checked), and the clock leeway in seconds."""

    issuer: str | None
    audience: str | None
    leeway: float


@dataclass(frozen=True)
class SharedSecret:
    secret: bytes
    rules: ClaimRules


@dataclass(frozen=True)
class KeySet:
    jwks: JwksCache
    rules: ClaimRules


class TokenVerifier:
    """Checks tokens against a shared secret, a JWKS, or both."""

    def __init__(self, *, shared_secret: SharedSecret | None, key_set: KeySet | None) -> None:
        if shared_secret is None and key_set is None:
            raise ValueError("a verifier needs a shared secret or a key set")
        self.shared_secret = shared_secret
        self.key_set = key_set
        # token -> (sub, the instant it stops being valid). A browser sends the same token
        # for many requests; checking its signature once saves most of the cost of auth.
        # Keyed by the whole token, signature included: any change is verified afresh.
        self._verified: dict[str, tuple[str, float]] = {}

    def remembered(self, token: str) -> str | None:
        """The `sub` of a token verified before and still valid; None if it must be verified."""
        remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered[1]:
            return remembered[0]
        return None

    def valid_until(self, token: str) -> float | None:
        """When a token verified before stops being accepted (Unix time); None if unknown."""
        remembered = self._verified.get(token)
        return remembered[1] if remembered is not None else None

    async def subject(self, token: str) -> str:
        """The verified token's `sub`; raises InvalidToken (or JwksUnavailable)."""
        remembered = self.remembered(token)
        if remembered is not None:
            return remembered
        subject, valid_until = await self._verify(token)
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            self._verified.clear()
        self._verified[token] = (subject, valid_until)
        return subject

    async def _verify(self, token: str) -> tuple[str, float]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if _FORBIDDEN_HEADERS & header.keys():
            raise InvalidToken("token header names its own key")
        key, algorithms, rules = await self._key_for(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=rules.issuer,
                audience=rules.audience,
                leeway=rules.leeway,
                options={"require": _REQUIRED_CLAIMS, "verify_aud": rules.audience is not None},
            )
        except (jwt.InvalidIssuerError, jwt.InvalidAudienceError) as exc:
            raise InvalidToken(_mismatch(exc, token, rules, header)) from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        _check_claim_types(claims)
        subject = claims["sub"]
        if not subject:
            raise InvalidToken("sub is not a non-empty string")
        # PyJWT accepts the token until exp + leeway (exp is required, so always present).
        return subject, float(claims["exp"]) + rules.leeway

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, list[str], ClaimRules]:
        if header.get("alg") == "HS256" and self.shared_secret is not None:
            return self.shared_secret.secret, ["HS256"], self.shared_secret.rules
        kid = header.get("kid")
        if self.key_set is None or not isinstance(kid, str):
            raise InvalidToken("no trusted key for this token")
        try:
            key = await self.key_set.jwks.get_key(kid)
        except UnknownKeyId as exc:
            raise InvalidToken("unknown kid") from exc
        if key.algorithm_name is None:
            raise InvalidToken("the key has no algorithm")
        return key, [key.algorithm_name], self.key_set.rules


_NUMERIC_DATES = ("exp", "nbf", "iat")
_STRINGS = ("sub", "iss", "jti")


def _check_claim_types(claims: dict[str, Any]) -> None:
    """The registered claims have the types RFC 7519 gives them (PyJWT takes "exp": "123"
    as a date, and a NaN date never expires)."""
    for name in _NUMERIC_DATES:
        value = claims.get(name)
        if name in claims and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidToken(f"{name} is not a NumericDate")
    for name in _STRINGS:
        if name in claims and not isinstance(claims[name], str):
            raise InvalidToken(f"{name} is not a string")
    audience = claims.get("aud")
    if "aud" in claims and not (
        isinstance(audience, str)
        or (isinstance(audience, list) and all(isinstance(item, str) for item in audience))
    ):
        raise InvalidToken("aud is not a string or a list of strings")


def _mismatch(exc: Exception, token: str, rules: ClaimRules, header: dict[str, Any]) -> str:
    """What a correctly signed token carried against what this server expects: the values
    an operator needs to fix a configuration (never the token itself)."""
    carried = jwt.decode(token, options={"verify_signature": False})
    return (
        f"{type(exc).__name__}: iss {_shown(carried.get('iss'))} (expected "
        f"{_shown(rules.issuer)}), aud {_shown(carried.get('aud'))} (expected "
        f"{_shown(rules.audience)}), kid {_shown(header.get('kid'))}"
    )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else f"{text[:117]}..."
