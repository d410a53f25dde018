"""PostgreSQL: a create and a toggle in one statement each (`postgres_statements.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from todo_api.db.executor import Database, Row
from todo_api.tasks import postgres_statements
from todo_api.tasks.repository import TaskRepository, Wake

# Held until the transaction ends (commit, rollback or a lost connection): never stuck, and
# behind PgBouncer in transaction mode still on the one server connection.
_TRY_CLAIM = select(
    func.pg_try_advisory_xact_lock(func.hashtextextended(bindparam("claim"), 0)).label("claimed")
)


class PostgresTaskRepository(TaskRepository):
    @asynccontextmanager
    async def claimed(self, owner: str, key: str) -> AsyncIterator[TaskRepository | None]:
        """A transaction holding the user's idempotency `key` across every instance."""
        async with self.transaction() as tx:
            row = await tx.db.first(_TRY_CLAIM, {"claim": f"idempotency\n{owner}\n{key}"})
            yield tx if row and row["claimed"] else None

    async def create(self, values: dict[str, Any], *, max_tasks: int) -> Row | None:
        params = {f"new_{key}": value for key, value in values.items()}
        params["max_tasks"] = max_tasks
        return await self.db.first(postgres_statements.CREATE, params, writes=True)

    async def toggle_unless_recurring(self, owner: str, task_id: int, now: datetime) -> Row | None:
        params = {"owner": owner, "task_id": task_id, "now": now}
        return await self.db.first(postgres_statements.TOGGLE, params, writes=True)


def repository_for(db: Database, wake: Wake) -> TaskRepository:
    """The repository for `db`'s database: the one place the dialect chooses the SQL.

    `wake` wakes a user's live streams in this process; on PostgreSQL every write sends
    NOTIFY instead, which reaches every instance (this one too).
    """
    if db.dialect_name == "postgresql":
        return PostgresTaskRepository(db)
    return TaskRepository(db, wake=wake)
