"""Statements through SQLAlchemy's async engine: the SQLite default (and migrations' engine)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import Executable

from todo_api.db.executor import Database, Params, PoolState, Row


class EngineDatabase(Database):
    def __init__(
        self, engine: AsyncEngine, *, max_size: int, connection: AsyncConnection | None = None
    ) -> None:
        self.engine = engine
        self.dialect_name = engine.dialect.name
        self._max_size = max_size
        self._connection = connection

    async def all(
        self, statement: Executable, params: Params | None = None, *, writes: bool = False
    ) -> list[Row]:
        if self._connection is not None:
            return await _all(self._connection, statement, params)
        async with self.engine.begin() as connection:
            return await _all(connection, statement, params)

    def pool_state(self) -> PoolState | None:
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return None
        return PoolState(pool.checkedout(), pool.checkedin(), self._max_size)

    @asynccontextmanager
    async def transaction(self, *, custom_plans: bool = False) -> AsyncIterator[EngineDatabase]:
        if self._connection is not None:  # inside the caller's transaction: join it
            yield self
            return
        async with self.engine.begin() as connection:
            yield EngineDatabase(self.engine, max_size=self._max_size, connection=connection)

    async def close(self) -> None:
        await self.engine.dispose()


async def _all(
    connection: AsyncConnection, statement: Executable, params: Params | None
) -> list[Row]:
    result = await connection.execute(statement, params)
    return [dict(row) for row in result.mappings()] if result.returns_rows else []
