"""Where the service's statements run: one interface, an implementation per database.

Statements are SQLAlchemy Core, written once against the SQLModel tables. On PostgreSQL
they run straight on an asyncpg pool (`asyncpg_database.py`), compiled once per shape;
that skips the async engine's pool, greenlet bridge and result machinery, which cost more
per request than the query itself. On SQLite (the embedded default) SQLAlchemy's async
engine runs them (`engine_database.py`). `tests/db/test_executor_contract.py` checks that
both give the same rows for every statement the service runs.

Outside `transaction()` every statement commits on its own; anything that must be atomic
across statements runs inside one. A `transaction()` opened inside another joins it: its
work commits with the outer transaction, and a rollback of the outer one undoes it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.sql import Executable

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

        Inside another transaction it joins that one (no commit of its own), the same on
        every database (SQLite's driver cannot nest savepoints in an implicit transaction).

        `custom_plans`: PostgreSQL plans each statement for its parameter values. A prepared
        statement is otherwise planned once for any values after a few runs, which suits
        lookups by id or owner, but not a word search or a tag whose best plan depends on
        the user (a light user's search went from 0.05 ms to 15 ms on a generic plan).
        """

    @abstractmethod
    async def close(self) -> None:
        """Close the pool or engine (the lifespan's end)."""
