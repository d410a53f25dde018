"""The database the app runs on (opened and closed by the lifespan), and engines for SQLite
and migrations."""

from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from todo_api.config import Settings
from todo_api.db.asyncpg_database import PostgresDatabase, init_connection
from todo_api.db.engine_database import EngineDatabase
from todo_api.db.executor import Database
from todo_api.db.url import parse_database_url

# Options of SQLAlchemy's asyncpg dialect that asyncpg itself does not take.
_DIALECT_ONLY_OPTIONS = {"prepared_statement_cache_size", "prepared_statement_name_func"}


async def open_database(settings: Settings) -> Database:
    """PostgreSQL: a fixed asyncpg pool, connected on first use; SQLite: the async engine."""
    target = parse_database_url(settings.database_url, pgbouncer=settings.database_pgbouncer)
    if target.is_sqlite:
        max_size = settings.db_pool_size + settings.db_max_overflow
        return EngineDatabase(build_engine(settings), max_size=max_size)
    options = {k: v for k, v in target.connect_args.items() if k not in _DIALECT_ONLY_OPTIONS}
    pool = await asyncpg.create_pool(
        target.url.set(drivername="postgresql").render_as_string(hide_password=False),
        min_size=0,  # connect lazily: the API starts (and answers 503) while the database is down
        max_size=settings.db_pool_size + settings.db_max_overflow,
        init=init_connection,
        # asyncpg's default reset costs a round trip per request; nothing here changes
        # session state (an unfinished transaction is still rolled back on release).
        reset=_keep_session,
        # connect_timeout in the URL, as libpq reads it, or DB_CONNECT_TIMEOUT.
        timeout=options.pop("timeout", settings.db_connect_timeout),
        command_timeout=settings.db_command_timeout,
        **options,
    )
    return PostgresDatabase(
        pool,
        acquire_timeout=settings.db_pool_timeout,
        pgbouncer="statement_cache_size" in options,
    )


async def _keep_session(_connection: asyncpg.Connection) -> None:
    return None


def build_engine(settings: Settings, *, pooled: bool = True) -> AsyncEngine:
    """An engine for `settings.database_url`; unpooled ones suit one-off work like migrations."""
    target = parse_database_url(settings.database_url, pgbouncer=settings.database_pgbouncer)
    if target.is_sqlite:
        engine = create_async_engine(
            target.url,
            connect_args={"timeout": settings.db_command_timeout},
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    connect_args = {
        "timeout": settings.db_connect_timeout,
        "command_timeout": settings.db_command_timeout,
        **target.connect_args,
    }
    if not pooled:
        return create_async_engine(
            target.url, poolclass=NullPool, hide_parameters=True, connect_args=connect_args
        )
    return create_async_engine(
        target.url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # A pooled connection may have been closed by the server (restart, Neon
        # suspending an idle compute): test it before use and reconnect if needed.
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,
        connect_args=connect_args,
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; the busy timeout queues writers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
