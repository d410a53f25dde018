"""PostgreSQL: a create and a toggle in one statement each (`postgres_statements.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from todo_api.db.executor import Database, Row
from todo_api.tasks import postgres_statements
from todo_api.tasks.repository import TaskRepository


class PostgresTaskRepository(TaskRepository):
    async def create(self, values: dict[str, Any], *, max_tasks: int) -> Row | None:
        params = {f"new_{key}": value for key, value in values.items()}
        params["max_tasks"] = max_tasks
        return await self.db.first(postgres_statements.CREATE, params, writes=True)

    async def toggle_unless_recurring(self, owner: str, task_id: int, now: datetime) -> Row | None:
        params = {"owner": owner, "task_id": task_id, "now": now}
        return await self.db.first(postgres_statements.TOGGLE, params, writes=True)


def repository_for(db: Database) -> TaskRepository:
    """The repository for `db`'s database: the one place the dialect chooses the SQL."""
    if db.dialect_name == "postgresql":
        return PostgresTaskRepository(db)
    return TaskRepository(db)
