"""Build the token verifier from settings, and the development-mode signing secret."""

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx

from todo_api.auth.jwks import JwksCache
from todo_api.auth.verifier import ClaimRules, KeySet, SharedSecret, TokenVerifier
from todo_api.config import Settings

logger = logging.getLogger(__name__)

JWKS_PATH = "/api/auth/jwks"
MIN_SECRET_LENGTH = 32


class AuthConfigurationError(Exception):
    """The settings cannot give a safe way to verify tokens; the service must not start."""


@dataclass(frozen=True)
class AuthPlan:
    """How tokens will be verified, decided once at start-up."""

    secret: bytes | None
    jwks_url: str | None
    development: bool


def plan_auth(settings: Settings) -> AuthPlan:
    """Decide how tokens are trusted; raises AuthConfigurationError when that is unsafe."""
    jwks_url = settings.jwt_jwks_url or (
        f"{_base_url(settings.better_auth_url)}{JWKS_PATH}" if settings.better_auth_url else None
    )
    secret = settings.better_auth_secret.get_secret_value() if settings.better_auth_secret else None
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise AuthConfigurationError(
            f"BETTER_AUTH_SECRET must be at least {MIN_SECRET_LENGTH} characters"
        )
    if jwks_url or secret:
        return AuthPlan(
            secret=secret.encode() if secret else None, jwks_url=jwks_url, development=False
        )
    if settings.environment == "production":
        raise AuthConfigurationError(
            "ENVIRONMENT=production needs BETTER_AUTH_URL, JWT_JWKS_URL or BETTER_AUTH_SECRET"
        )
    return AuthPlan(secret=development_secret(settings), jwks_url=None, development=True)


def build_verifier(settings: Settings, plan: AuthPlan, http: httpx.AsyncClient) -> TokenVerifier:
    leeway = settings.jwt_leeway_seconds
    shared_secret = None
    if plan.secret is not None:
        # Better Auth's own HS256 tokens carry no iss/aud: check them only when configured.
        rules = ClaimRules(
            issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway=leeway
        )
        shared_secret = SharedSecret(secret=plan.secret, rules=rules)
    key_set = None
    if plan.jwks_url is not None:
        default = _base_url(settings.better_auth_url) if settings.better_auth_url else None
        rules = ClaimRules(
            issuer=settings.jwt_issuer or default,
            audience=settings.jwt_audience or default,
            leeway=leeway,
        )
        jwks = JwksCache(
            plan.jwks_url,
            http,
            max_age=settings.jwks_cache_seconds,
            min_refresh_interval=settings.jwks_refresh_interval_seconds,
            timeout=settings.jwks_timeout_seconds,
        )
        key_set = KeySet(jwks=jwks, rules=rules)
    return TokenVerifier(shared_secret=shared_secret, key_set=key_set)


def development_secret(settings: Settings) -> bytes:
    """The local secret shared by `todo-api serve` and `todo-api token`, made on first use."""
    path = Path(settings.dev_secret_file)
    if not path.exists():
        # Written whole under a private name, then linked into place: of several workers
        # starting together one wins, and nobody ever reads a half-written file.
        candidate = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip().encode()


def _base_url(url: str | None) -> str:
    # Better Auth drops a trailing slash from its baseURL before using it as iss/aud.
    return (url or "").rstrip("/")
