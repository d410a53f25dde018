"""Engine and session factories, and the request's session dependency."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from todo_api.config import Settings
from todo_api.database_url import parse_database_url

SessionMaker = async_sessionmaker[AsyncSession]


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


def build_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed after the route returns, rolled back on error."""
    sessionmaker: SessionMaker = request.state.sessionmaker
    async with sessionmaker.begin() as session:
        yield session


# scope="function" commits before the response is sent, so a failed commit is an error response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
