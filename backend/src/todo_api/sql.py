"""Run SQLAlchemy Core statements and get plain dict rows, on PostgreSQL or SQLite.

Statements are written once with SQLAlchemy against the SQLModel tables. On PostgreSQL
they run straight on an asyncpg pool: each statement shape is compiled once (keyed by
SQLAlchemy's own cache key) and executed as an asyncpg prepared statement, with
SQLAlchemy's type processors applied to arguments and results. That skips the async
engine's pool, greenlet bridge and result machinery, which cost more per request than
the query itself. On SQLite (the embedded default) the async engine runs them.

Outside `transaction()` every statement commits on its own (PostgreSQL autocommit);
anything that must be atomic across statements runs inside one.
"""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.cache_key import CacheKey
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import _anonymous_label

Row = Mapping[str, Any]  # read-only: asyncpg Records on PostgreSQL, dicts on SQLite
Params = Mapping[str, Any]
# What a statement on a pooled connection raises when the server has closed that connection.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
)


@dataclass(frozen=True)
class PoolState:
    in_use: int
    idle: int
    size: int  # the most connections the pool will open


_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
_MAX_COMPILED = 1000  # statement shapes kept compiled before the cache starts over


class Database(ABC):
    """Where the service runs its statements."""

    dialect_name: str

    @abstractmethod
    async def all(
        self, statement: Executable, params: Params | None = None, *, writes: bool = False
    ) -> list[Row]:
        """The rows `statement` returns; `params` give values to its named bindparams.

        `writes`: the statement changes data, so it is never run twice (a statement on a
        connection lost mid-way may have committed); reads are retried once on a new one.
        """

    async def first(
        self, statement: Executable, params: Params | None = None, *, writes: bool = False
    ) -> Row | None:
        rows = await self.all(statement, params, writes=writes)
        return rows[0] if rows else None

    def pool_state(self) -> PoolState | None:
        return None

    @abstractmethod
    def transaction(self, *, custom_plans: bool = False) -> AbstractAsyncContextManager[Database]:
        """One transaction: committed when the block ends, rolled back if it raises.

        `custom_plans`: PostgreSQL plans each statement for its parameter values. A prepared
        statement is otherwise planned once for any values after a few runs, which suits
        lookups by id or owner, but not a word search or a tag whose best plan depends on
        the user (a light user's search went from 0.05 ms to 15 ms on a generic plan).
        """


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiled: SQLCompiler
    names: Sequence[str]  # the bind parameters, in the order of the statement's $n
    bind_processors: Sequence[tuple[int, Callable[[Any], Any]]]  # (position, processor)
    required: frozenset[str]  # bind parameters the caller must give
    # The caller's parameter names are the bind names: values are taken by name, without
    # SQLAlchemy's per-parameter lookup (not so for computed values).
    by_name: bool
    result_processors: Sequence[tuple[str, Callable[[Any], Any]]]

    def bind(self, extracted: Sequence[Any] | None) -> _Bound:
        """This shape with a statement's own values (literals, defaults) for its parameters."""
        values = self.compiled.construct_params(
            extracted_parameters=extracted, escape_names=False, _check=False
        )
        return _Bound(self, extracted, values)

    def rows(self, records: list[asyncpg.Record]) -> list[Row]:
        if not self.result_processors:
            return records  # type: ignore[return-value]  # a Record is a read-only mapping
        processors = dict(self.result_processors)
        return [
            {key: processors[key](value) if key in processors else value for key, value in row}
            for row in (record.items() for record in records)
        ]


@dataclass(frozen=True)
class _Bound:
    compiled: _Compiled
    extracted: Sequence[Any] | None
    own_values: Mapping[str, Any]

    def arguments(self, given: Params | None) -> list[Any]:
        """The positional arguments: `given` values by name, the statement's own otherwise."""
        shape = self.compiled
        given = given or {}
        values: Mapping[str, Any]
        if shape.by_name and shape.required <= given.keys():
            values = {**self.own_values, **given}
        else:  # SQLAlchemy's way, which also names a missing parameter
            values = shape.compiled.construct_params(
                given, extracted_parameters=self.extracted, escape_names=False
            )
        arguments = [values[name] for name in shape.names]
        for position, process in shape.bind_processors:
            arguments[position] = process(arguments[position])
        return arguments


class _Compiler:
    """Compiles each statement shape once for asyncpg."""

    def __init__(self) -> None:
        # JSON parameters serialised as the API serialises responses.
        self.dialect = PGDialect_asyncpg(json_serializer=_json_text)  # type: ignore[no-untyped-call]
        self._cache: dict[Any, _Compiled] = {}
        # Statements built once (module constants, one per list shape) are found by identity:
        # hashing a cache key and collecting its values each time cost as much as the rest
        # of running a lookup.
        self._by_identity: dict[int, tuple[weakref.ref[ClauseElement], _Bound]] = {}

    def compile(self, statement: Executable) -> _Bound:
        assert isinstance(statement, ClauseElement)
        held = self._by_identity.get(id(statement))
        if held is not None and held[0]() is statement:
            return held[1]
        key = statement._generate_cache_key()
        if key is None:
            # SQLAlchemy cannot key this shape (ON CONFLICT ... SET, for one): it is compiled
            # once per statement object, so such statements are built once and reused.
            bound = self._compile(statement, None).bind(None)
        else:
            compiled = self._cache.get(key.key)
            if compiled is None:
                if len(self._cache) >= _MAX_COMPILED:
                    self._cache.clear()
                compiled = self._cache[key.key] = self._compile(statement, key)
            bound = compiled.bind(key.bindparams)
        if len(self._by_identity) >= _MAX_COMPILED:
            self._by_identity.clear()
        self._by_identity[id(statement)] = (weakref.ref(statement), bound)
        return bound

    def _compile(self, statement: ClauseElement, key: CacheKey | None) -> _Compiled:
        # With its cache key, the compiled form takes the values of any statement of its shape.
        compiled = statement.compile(dialect=self.dialect, cache_key=key)
        assert isinstance(compiled, SQLCompiler)
        names = list(compiled.positiontup or ())
        processors = {
            name: process
            for name, process in compiled._bind_processors.items()
            if callable(process)
        }
        columns = [
            (entry.keyname, entry.type._cached_result_processor(self.dialect, None))
            for entry in compiled._result_columns
        ]
        return _Compiled(
            sql=compiled.string,
            compiled=compiled,
            names=names,
            bind_processors=[
                (position, processors[name])
                for position, name in enumerate(names)
                if name in processors
            ],
            required=frozenset(name for bind, name in compiled.bind_names.items() if bind.required),
            by_name=not _values_computed(compiled),
            result_processors=[(key, process) for key, process in columns if process is not None],
        )


def _values_computed(compiled: SQLCompiler) -> bool:
    """Whether some parameter is not simply "the caller's value by its name, or its own"."""
    return bool(
        compiled.literal_execute_params
        or compiled.post_compile_params
        or any(
            bind.callable is not None
            or (name != bind.key and not isinstance(bind.key, _anonymous_label))
            for bind, name in compiled.bind_names.items()
        )
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


class PostgresDatabase(Database):
    dialect_name = "postgresql"

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        acquire_timeout: float,
        pgbouncer: bool,
        compiler: _Compiler | None = None,
        connection: PoolConnectionProxy[asyncpg.Record] | None = None,
    ) -> None:
        self.pool = pool
        self._acquire_timeout = acquire_timeout
        self._pgbouncer = pgbouncer
        self._compiler = compiler or _Compiler()
        self._connection = connection

    async def all(
        self, statement: Executable, params: Params | None = None, *, writes: bool = False
    ) -> list[Row]:
        bound = self._compiler.compile(statement)
        arguments = bound.arguments(params)
        compiled = bound.compiled
        if self._connection is not None:
            return compiled.rows(await self._connection.fetch(compiled.sql, *arguments))
        for retry in (False,) if writes else (True, False):
            async with self._acquire() as connection:
                try:
                    if self._pgbouncer:
                        # Behind PgBouncer (transaction mode) a statement's prepare and
                        # execute must reach the same server connection: a transaction does.
                        async with connection.transaction():
                            records = await connection.fetch(compiled.sql, *arguments)
                    else:
                        records = await connection.fetch(compiled.sql, *arguments)
                except CONNECTION_LOST:
                    # A pooled connection the server closed (restart, idle timeout, killed
                    # backend). A read gets one more try on a new connection; a second loss,
                    # or any loss during a write, is an outage (503).
                    connection.terminate()
                    if retry:
                        continue
                    raise
            return compiled.rows(records)
        raise AssertionError("unreachable")

    def _acquire(self) -> Any:
        # The timeout bounds waiting for a busy pool. With a connection idle there is no wait
        # (at most a spare one connects, under its connect timeout), and the timer would
        # cost about a tenth of a task lookup's CPU.
        timeout = None if self.pool.get_idle_size() else self._acquire_timeout
        return self.pool.acquire(timeout=timeout)

    def pool_state(self) -> PoolState:
        idle = self.pool.get_idle_size()
        return PoolState(self.pool.get_size() - idle, idle, self.pool.get_max_size())

    @asynccontextmanager
    async def transaction(self, *, custom_plans: bool = False) -> AsyncIterator[PostgresDatabase]:
        for retry in (True, False):
            async with self._acquire() as connection:
                transaction = connection.transaction()
                try:
                    await transaction.start()
                    if custom_plans:
                        await connection.execute(_CUSTOM_PLANS)
                except CONNECTION_LOST:
                    # Nothing ran yet: begin again on a new connection (once, as in `all`).
                    connection.terminate()
                    if retry:
                        continue
                    raise
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


class EngineDatabase(Database):
    """Statements through SQLAlchemy's async engine (SQLite)."""

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection | None = None) -> None:
        self.engine = engine
        self.dialect_name = engine.dialect.name
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
        return PoolState(pool.checkedout(), pool.checkedin(), pool.size() + pool._max_overflow)

    @asynccontextmanager
    async def transaction(self, *, custom_plans: bool = False) -> AsyncIterator[EngineDatabase]:
        async with self.engine.begin() as connection:
            yield EngineDatabase(self.engine, connection)


async def _all(
    connection: AsyncConnection, statement: Executable, params: Params | None
) -> list[Row]:
    result = await connection.execute(statement, params)
    return [dict(row) for row in result.mappings()] if result.returns_rows else []


async def init_connection(connection: asyncpg.Connection) -> None:
    """Decode json as SQLAlchemy's asyncpg dialect does, so its type processors fit."""
    await connection.set_type_codec(
        "json",
        encoder=str.encode,
        decoder=orjson.loads,
        schema="pg_catalog",
        format="binary",
    )
