"""Statements on an asyncpg pool: the PostgreSQL executor.

Each statement shape is compiled once (`compiler.py`) and run as an asyncpg prepared
statement, with SQLAlchemy's type processors applied to arguments and results.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy.sql import Executable

from todo_api.db.compiler import StatementCompiler
from todo_api.db.executor import CONNECTION_LOST, Database, Params, PoolState, Row
from todo_api.errors import StatementTimeout

_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


class PostgresDatabase(Database):
    dialect_name = "postgresql"

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        acquire_timeout: float,
        pgbouncer: bool,
        compiler: StatementCompiler | None = None,
        connection: PoolConnectionProxy[asyncpg.Record] | None = None,
    ) -> None:
        self.pool = pool
        self._acquire_timeout = acquire_timeout
        self._pgbouncer = pgbouncer
        self._compiler = compiler or StatementCompiler()
        self._connection = connection

    async def all(
        self, statement: Executable, params: Params | None = None, *, writes: bool = False
    ) -> list[Row]:
        bound = self._compiler.compile(statement)
        arguments = bound.arguments(params)
        compiled = bound.compiled
        if self._connection is not None:
            return compiled.rows(await _fetch(self._connection, compiled.sql, arguments))
        # A read may meet several connections the server closed at once (a restart closes
        # them all, and they are found dead one by one): it gets two more tries.
        for retry in (False,) if writes else (True, True, False):
            records: list[asyncpg.Record] | None = None
            async with self._acquire() as connection:
                try:
                    if self._pgbouncer:
                        # Behind PgBouncer (transaction mode) a statement's prepare and
                        # execute must reach the same server connection: a transaction does.
                        async with connection.transaction():
                            records = await _fetch(connection, compiled.sql, arguments)
                    else:
                        records = await _fetch(connection, compiled.sql, arguments)
                except CONNECTION_LOST:
                    # A pooled connection the server closed (restart, idle timeout, killed
                    # backend). A read tries again on a new connection; a third loss, or any
                    # loss during a write, is an outage (503).
                    connection.terminate()
                    if not retry:
                        raise
            if records is None:
                await self._expire()  # once the dead connection is back in the pool
                continue
            return compiled.rows(records)
        raise AssertionError("unreachable")

    def _acquire(self) -> Any:
        # The timeout bounds waiting for a busy pool. With a connection idle there is no wait
        # (at most a spare one connects, under its connect timeout), and the timer would
        # cost about a tenth of a task lookup's CPU.
        timeout = None if self.pool.get_idle_size() else self._acquire_timeout
        return self.pool.acquire(timeout=timeout)

    async def _expire(self) -> None:
        """After a connection the server closed: replace every other one opened before it (a
        restart or a suspended compute closes them all), so the retry gets a new one. Called
        once the dead connection is back in the pool, not while it is held."""
        await self.pool.expire_connections()

    def pool_state(self) -> PoolState:
        idle = self.pool.get_idle_size()
        return PoolState(self.pool.get_size() - idle, idle, self.pool.get_max_size())

    @asynccontextmanager
    async def transaction(self, *, custom_plans: bool = False) -> AsyncIterator[PostgresDatabase]:
        if self._connection is not None:  # inside the caller's transaction: join it
            if custom_plans:
                await self._connection.execute(_CUSTOM_PLANS)
            yield self
            return
        for retry in (True, True, False):
            async with self._acquire() as connection:
                transaction = connection.transaction()
                try:
                    await transaction.start()
                    if custom_plans:
                        await connection.execute(_CUSTOM_PLANS)
                except CONNECTION_LOST:
                    # Nothing ran yet: begin again on a new connection (as in `all`).
                    connection.terminate()
                    if not retry:
                        raise
                    started = False
                else:
                    started = True
                if started:
                    try:
                        yield PostgresDatabase(
                            self.pool,
                            acquire_timeout=self._acquire_timeout,
                            pgbouncer=self._pgbouncer,
                            compiler=self._compiler,
                            connection=connection,
                        )
                    except BaseException:
                        try:
                            await transaction.rollback()
                        except Exception:  # the connection is unusable; the first error counts
                            connection.terminate()
                        raise
                    await transaction.commit()
                    return
            await self._expire()  # once the dead connection is back in the pool

    async def close(self) -> None:
        await self.pool.close()


async def _fetch(connection: Any, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
    try:
        return await connection.fetch(sql, *arguments)  # type: ignore[no-any-return]
    except (TimeoutError, asyncpg.QueryCanceledError) as exc:
        # DB_COMMAND_TIMEOUT (asyncpg cancels the statement) or the server's
        # statement_timeout: this statement's cost, not an outage.
        raise StatementTimeout from exc


async def init_connection(connection: asyncpg.Connection) -> None:
    """Decode json as SQLAlchemy's asyncpg dialect does, so its type processors fit."""
    await connection.set_type_codec(
        "json",
        encoder=str.encode,
        decoder=orjson.loads,
        schema="pg_catalog",
        format="binary",
    )
