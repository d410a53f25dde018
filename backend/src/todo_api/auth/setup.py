"""Build the token verifier from settings, and the development-mode signing secret."""

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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
    secret_file: Path | None = None  # development mode: where the secret is kept


def plan_auth(settings: Settings, *, create_dev_secret: bool = True) -> AuthPlan:
    """Decide how tokens are trusted; raises AuthConfigurationError when that is unsafe.

    `create_dev_secret=False` (the `token` command): in development mode the secret file must
    exist already, as the server made it; a new one would sign tokens the server refuses.
    """
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
    path = Path(settings.dev_secret_file).resolve()
    if not create_dev_secret and not path.exists():
        raise AuthConfigurationError(
            f"no development secret at {path}: run this where `todo-api serve` runs (it makes "
            "the secret), or point DEV_SECRET_FILE at the server's"
        )
    dev_secret = development_secret(settings)
    return AuthPlan(secret=dev_secret, jwks_url=None, development=True, secret_file=path)


def auth_warnings(settings: Settings, plan: AuthPlan) -> list[str]:
    """Configurations that start, but accept more than an operator probably means."""
    warnings = []
    if plan.jwks_url and not (settings.better_auth_url or settings.jwt_issuer):
        warnings.append(
            "JWT_JWKS_URL is set without JWT_ISSUER (or BETTER_AUTH_URL): tokens signed by "
            "those keys are accepted whatever their `iss`"
        )
    if plan.jwks_url and not (settings.better_auth_url or settings.jwt_audience):
        warnings.append(
            "JWT_JWKS_URL is set without JWT_AUDIENCE (or BETTER_AUTH_URL): tokens signed by "
            "those keys are accepted whatever their `aud`"
        )
    return warnings


def startup_summary(settings: Settings, plan: AuthPlan) -> str:
    """One line saying how this instance runs (no password, no secret)."""
    try:
        database = make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        database = "(not a valid URL)"
    if plan.development:
        auth = f"development secret in {plan.secret_file}"
    else:
        parts = []
        if plan.jwks_url:
            issuer = settings.jwt_issuer or _base_url(settings.better_auth_url) or "any"
            audience = settings.jwt_audience or _base_url(settings.better_auth_url) or "any"
            parts.append(f"JWKS {plan.jwks_url} (iss {issuer}, aud {audience})")
        if plan.secret:
            parts.append("shared secret (HS256)")
        auth = " + ".join(parts)
    origins = ", ".join(settings.cors_origins) or "none"
    limits = (
        f"{settings.rate_limit_per_minute}/min per user, "
        f"{settings.rate_limit_anonymous_per_minute}/min per anonymous address"
        f"{' (Redis)' if settings.redis_url else ''}"
    )
    return (
        f"todo-api: database {database}; auth {auth}; CORS origins {origins}; rate limits "
        f"{limits}; docs {'on' if settings.docs_enabled else 'off'}; metrics "
        f"{'on' if settings.metrics_enabled else 'off'}"
    )


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
