"""Task queries. Every statement is scoped by the owner's user_id; nothing here commits."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, not_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from todo_api.errors import NotFound
from todo_api.sql_types import utc_now
from todo_api.tasks.models import Task
from todo_api.tasks.schemas import TaskCreate, TaskUpdate


class TaskNotFound(NotFound):
    """No task with this id belongs to this user (whether or not another user has one)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} was not found.")


def _owned(owner: str, task_id: int) -> ColumnElement[bool]:
    return (col(Task.id) == task_id) & (col(Task.user_id) == owner)


async def list_tasks(session: AsyncSession, *, owner: str) -> Sequence[Task]:
    statement = select(Task).where(col(Task.user_id) == owner).order_by(col(Task.id).desc())
    return (await session.exec(statement)).all()


async def get_task(session: AsyncSession, *, owner: str, task_id: int) -> Task:
    task = (await session.exec(select(Task).where(_owned(owner, task_id)))).one_or_none()
    if task is None:
        raise TaskNotFound(task_id)
    return task


async def create_task(session: AsyncSession, *, owner: str, data: TaskCreate) -> Task:
    now = utc_now()
    task = Task(**data.model_dump(), user_id=owner, created_at=now, updated_at=now)
    session.add(task)
    await session.flush()
    return task


async def update_task(session: AsyncSession, *, owner: str, task_id: int, data: TaskUpdate) -> Task:
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return await get_task(session, owner=owner, task_id=task_id)
    return await _update_returning(session, owner, task_id, changes)


async def set_completion(
    session: AsyncSession, *, owner: str, task_id: int, completed: bool | None
) -> Task:
    """Set `completed`, or flip it when `completed` is None; one atomic statement either way."""
    value = not_(col(Task.completed)) if completed is None else completed
    return await _update_returning(session, owner, task_id, {"completed": value})


async def delete_task(session: AsyncSession, *, owner: str, task_id: int) -> None:
    statement = delete(Task).where(_owned(owner, task_id)).returning(col(Task.id))
    if (await session.exec(statement)).scalar_one_or_none() is None:
        raise TaskNotFound(task_id)


async def _update_returning(
    session: AsyncSession, owner: str, task_id: int, changes: dict[str, Any]
) -> Task:
    statement = (
        update(Task)
        .where(_owned(owner, task_id))
        .values(**changes, updated_at=utc_now())
        .returning(Task)
        .execution_options(synchronize_session=False)
    )
    task: Task | None = (await session.exec(statement)).scalar_one_or_none()
    if task is None:
        raise TaskNotFound(task_id)
    return task
