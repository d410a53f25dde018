"""Settings, read from the environment and an optional `.env` file."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
