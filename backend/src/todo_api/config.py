"""Settings, read from the environment and an optional `.env` file."""

import re
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


class Settings(BaseSettings):
    """Every configuration key of the service; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./todo.db",
        description="SQLite file (default) or a PostgreSQL URL in any common form.",
    )
    database_pgbouncer: bool | None = Field(
        default=None,
        description="Behind PgBouncer in transaction mode; unset means 'host contains -pooler'.",
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a pooled connection."
    )
    db_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to open a connection."
    )
    db_command_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a statement may run."
    )
    db_retry_after: int = Field(default=5, ge=1, description="Retry-After seconds sent with a 503.")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body accepted."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without auth configuration.",
    )

    # Authentication: a JWKS (Better Auth's jwt plugin), a shared secret (HS256), or both.
    better_auth_url: str | None = Field(
        default=None, description="Better Auth base URL: JWKS at /api/auth/jwks, iss and aud."
    )
    jwt_jwks_url: str | None = Field(default=None, description="JWKS URL, overriding the default.")
    jwt_issuer: str | None = Field(
        default=None, description="Expected `iss` (default BETTER_AUTH_URL)."
    )
    jwt_audience: str | None = Field(
        default=None, description="Expected `aud` (default BETTER_AUTH_URL)."
    )
    better_auth_secret: SecretStr | None = Field(
        default=None, description="Shared secret that signs HS256 tokens (32+ characters)."
    )
    jwt_leeway_seconds: float = Field(default=30, ge=0, le=60)
    jwks_cache_seconds: float = Field(
        default=600, gt=0, description="How long fetched keys are trusted."
    )
    jwks_refresh_interval_seconds: float = Field(
        default=30, ge=0, description="Least time between JWKS fetches caused by unknown `kid`s."
    )
    jwks_timeout_seconds: float = Field(
        default=3, gt=0, description="Seconds a JWKS fetch may take."
    )
    dev_secret_file: str = Field(
        default=".todo-api-dev-secret",
        description="Development mode only: where the local signing secret is kept.",
    )

    # Operations.
    docs_enabled: bool = Field(default=True, description="Serve /docs, /redoc and /openapi.json.")
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: SecretStr | None = Field(
        default=None, description="If set, /metrics needs it as a bearer token."
    )
    access_log: bool = Field(
        default=False, description="Log each request (path without query); off: it costs ~10%."
    )
    max_tasks_per_user: int = Field(default=10_000, ge=1, description="Stored tasks per user.")
    redis_url: str | None = Field(
        default=None, description="Shares rate limits across instances; unset: per process."
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Per signed-in user.")
    rate_limit_anonymous_per_minute: int = Field(
        default=60, ge=1, description="Per client address, for requests without a valid token."
    )

    # Safe writes.
    require_if_match: bool = Field(
        default=False, description="PUT, DELETE and completion without If-Match get a 428."
    )
    idempotency_key_ttl_seconds: int = Field(
        default=24 * 3600, ge=60, description="How long an Idempotency-Key's response is kept."
    )

    housekeeping_interval_seconds: float = Field(
        default=3600, gt=0, description="How often expired idempotency keys and tombstones go."
    )

    # Sync and live events.
    tombstone_retention_days: float = Field(
        default=30, gt=0, description="How long deleted tasks stay in the change feed."
    )
    events_database_url: str | None = Field(
        default=None,
        description="A direct (not pooled) PostgreSQL URL for LISTEN; unset: DATABASE_URL.",
    )
    events_heartbeat_seconds: float = Field(
        default=15, gt=0, le=60, description="Most seconds between two writes to a live stream."
    )
    reminder_interval_seconds: float = Field(
        default=1, gt=0, le=3600, description="How often each instance looks for due reminders."
    )

    # The HTTP server (`todo-api serve`).
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxy addresses whose X-Forwarded-For/-Proto are believed (comma-separated, "
        "or *); empty: none, the client is the peer address.",
    )
    max_request_header_bytes: int = Field(
        default=32 * 1024, ge=1024, description="Request line and headers larger get a 431."
    )
    max_request_headers: int = Field(
        default=100, ge=10, description="Requests with more header fields get a 431."
    )
    header_read_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a client has to send a request's headers."
    )

    # AI assistants: MCP at /mcp, and the chat endpoint's model (any OpenAI-compatible API).
    public_url: str | None = Field(
        default=None,
        description="The API's public base URL, named in /mcp's protected-resource metadata; "
        "unset: taken from each request's scheme and host.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="Key of the chat model's API; unset: chat answers 503."
    )
    openai_base_url: str | None = Field(
        default=None, description="An OpenAI-compatible API's base URL; unset: OpenAI's."
    )
    chat_model: str = Field(default="gpt-4o-mini", min_length=1, description="The chat model.")
    chat_timeout_seconds: float = Field(
        default=60, gt=0, description="Seconds one chat message may take in all (then a 504)."
    )
    chat_max_message_chars: int = Field(
        default=4000, ge=1, le=100_000, description="Longest chat message accepted."
    )
    chat_max_tool_calls: int = Field(
        default=10, ge=0, le=100, description="Tool calls the model may make per chat message."
    )
    chat_history_messages: int = Field(
        default=40, ge=0, le=1000, description="Earlier messages sent to the model with each one."
    )

    # Browsers: the frontend origins allowed to call the API (exact match), comma-separated.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> "Settings":
        # Browsers reject it anyway, and echoing any origin with credentials would be worse.
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError("CORS_ORIGINS='*' cannot be combined with CORS_ALLOW_CREDENTIALS=true")
        return self

    @field_validator("public_url", "openai_base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or "?" in url or "#" in url:
            raise ValueError("must be an http:// or https:// URL without query or fragment")
        return url

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                raise ValueError(
                    "CORS_ORIGINS is a comma-separated list (https://a.example,https://b.example), "
                    "not JSON"
                )
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        # A browser sends its origin as scheme://host[:port], and the grant must equal it:
        # anything else would start fine and then refuse every request from the frontend.
        checked = []
        for origin in origins:
            fixed = origin.rstrip("/")  # "http://localhost:3000/" means the same origin
            if fixed != "*" and not _ORIGIN.fullmatch(fixed):
                raise ValueError(
                    f"CORS origin {origin!r} is not scheme://host[:port], as a browser sends "
                    "it (for example http://localhost:3000)"
                )
            checked.append(fixed)
        return checked


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
