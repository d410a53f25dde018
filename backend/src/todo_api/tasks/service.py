"""Task queries. Every statement is scoped by the owner's user_id; nothing here commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, delete, func, insert, not_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from todo_api.errors import Conflict, NotFound
from todo_api.sql_types import UTCDateTime, utc_now
from todo_api.tasks.counts import Counted, counted_total, recount, tag_counts
from todo_api.tasks.listing import TaskListQuery
from todo_api.tasks.models import Task, TaskTag
from todo_api.tasks.recurrence import next_due
from todo_api.tasks.schemas import TagCount, TaskCreate, TaskUpdate
from todo_api.tasks.text import fold


class TaskLimitReached(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The limit of {limit} stored tasks is reached; delete some first.")


class TaskNotFound(NotFound):
    """No task with this id belongs to this user (whether or not another user has one)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} was not found.")


@dataclass(frozen=True)
class TaskPage:
    tasks: Sequence[Task]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class CompletionChange:
    task: Task
    next_occurrence: Task | None


def _owned(owner: str, task_id: int) -> ColumnElement[bool]:
    return (col(Task.id) == task_id) & (col(Task.user_id) == owner)


async def list_tasks(session: AsyncSession, *, owner: str, query: TaskListQuery) -> TaskPage:
    matching = query.filters(owner, utc_now())
    page = (
        select(Task)
        .where(*matching, *query.page_start())
        .order_by(*query.ordering())
        .limit(query.limit + 1)  # one more than asked tells whether a next page exists
    )
    tasks = (await session.exec(page)).all()
    counter = query.counter()
    if counter is not None:
        total = await counted_total(session, owner, *counter)
    else:
        total = (await session.exec(select(func.count()).select_from(Task).where(*matching))).one()
    has_more = len(tasks) > query.limit
    tasks = tasks[: query.limit]
    return TaskPage(
        tasks=tasks, total=total, next_cursor=query.next_cursor(tasks[-1]) if has_more else None
    )


async def list_tags(session: AsyncSession, *, owner: str) -> list[TagCount]:
    return [TagCount(tag=tag, count=n) for tag, n in await tag_counts(session, owner)]


async def get_task(session: AsyncSession, *, owner: str, task_id: int) -> Task:
    task = (await session.exec(select(Task).where(_owned(owner, task_id)))).one_or_none()
    if task is None:
        raise TaskNotFound(task_id)
    return task


async def create_task(
    session: AsyncSession, *, owner: str, data: TaskCreate, max_tasks: int
) -> Task:
    now = utc_now()
    fields = data.model_dump(exclude={"recurrence"})
    task = Task(**fields, user_id=owner, created_at=now, updated_at=now)
    task.completed_at = now if data.completed else None
    _set_recurrence(task, data.model_dump()["recurrence"])
    # Counted after the insert: the counter row's lock makes concurrent creates take turns,
    # so the limit holds exactly; going over rolls the whole request back.
    if await _insert(session, task) > max_tasks:
        raise TaskLimitReached(max_tasks)
    return task


async def update_task(session: AsyncSession, *, owner: str, task_id: int, data: TaskUpdate) -> Task:
    changes = data.model_dump(exclude_unset=True)
    statement = select(Task).where(_owned(owner, task_id)).with_for_update()
    task = (await session.exec(statement)).one_or_none()
    if task is None:
        raise TaskNotFound(task_id)
    if not changes:
        return task
    before = Counted(tags=list(task.tags), completed=task.completed)
    now = utc_now()
    if "recurrence" in changes:
        _set_recurrence(task, changes.pop("recurrence"))
    if "completed" in changes and changes["completed"] != task.completed:
        task.completed_at = now if changes["completed"] else None
    for name, value in changes.items():
        setattr(task, name, value)
    task.updated_at = now
    _derive(task)
    if "tags" in changes:
        await session.exec(delete(TaskTag).where(col(TaskTag.task_id) == task_id))
        await _tag(session, task)
    await session.flush()
    await recount(session, owner, before, Counted(tags=task.tags, completed=task.completed))
    return task


async def set_completion(
    session: AsyncSession, *, owner: str, task_id: int, completed: bool | None
) -> CompletionChange:
    """Set `completed`, or flip it when None; completing a recurring task schedules the next."""
    now = utc_now()
    if completed is None:
        values: dict[str, Any] = {
            "completed": not_(col(Task.completed)),
            "completed_at": case(
                (col(Task.completed), None), else_=bindparam(None, now, type_=UTCDateTime())
            ),
        }
        where = _owned(owner, task_id)
    else:
        values = {"completed": completed, "completed_at": now if completed else None}
        # Only a real change is written: setting the same state again changes nothing.
        where = _owned(owner, task_id) & (col(Task.completed) != completed)
    statement = (
        update(Task)
        .where(where)
        .values(**values, updated_at=now)
        .returning(Task)
        .execution_options(synchronize_session=False)
    )
    task: Task | None = (await session.exec(statement)).scalar_one_or_none()
    if task is None:
        return CompletionChange(await get_task(session, owner=owner, task_id=task_id), None)
    await recount(
        session,
        owner,
        Counted(tags=task.tags, completed=not task.completed),
        Counted(tags=task.tags, completed=task.completed),
    )
    following = None
    if task.completed and task.recurrence_frequency is not None:
        following = await _schedule_next(session, task, now)
    return CompletionChange(task, following)


async def delete_task(session: AsyncSession, *, owner: str, task_id: int) -> None:
    statement = (
        delete(Task).where(_owned(owner, task_id)).returning(col(Task.tags), col(Task.completed))
    )
    deleted = (await session.exec(statement)).one_or_none()
    if deleted is None:
        raise TaskNotFound(task_id)
    await recount(session, owner, Counted(tags=deleted.tags, completed=deleted.completed), None)


async def _schedule_next(session: AsyncSession, done: Task, now: datetime) -> Task:
    assert done.recurrence_frequency is not None
    assert done.recurrence_interval is not None
    following = Task(
        user_id=done.user_id,
        title=done.title,
        description=done.description,
        priority=done.priority,
        tags=list(done.tags),
        due_at=next_due(done.due_at, done.recurrence_frequency, done.recurrence_interval, now=now),
        recurrence_frequency=done.recurrence_frequency,
        recurrence_interval=done.recurrence_interval,
        created_at=now,
        updated_at=now,
    )
    await _insert(session, following)  # a completion is never refused for the task limit
    return following


async def _insert(session: AsyncSession, task: Task) -> int:
    """Insert `task` with its tags; returns the owner's new number of tasks."""
    _derive(task)
    session.add(task)
    await session.flush()
    await _tag(session, task)
    total = await recount(session, task.user_id, None, Counted(task.tags, task.completed))
    assert total is not None
    return total


async def _tag(session: AsyncSession, task: Task) -> None:
    if task.tags:
        rows = [{"task_id": task.id, "tag": tag, "user_id": task.user_id} for tag in task.tags]
        await session.exec(insert(TaskTag).values(rows))


def _set_recurrence(task: Task, recurrence: dict[str, Any] | None) -> None:
    task.recurrence_frequency = recurrence["frequency"] if recurrence else None
    task.recurrence_interval = recurrence["interval"] if recurrence else None


def _derive(task: Task) -> None:
    # Folded in Python, so sorting and searching agree on PostgreSQL and SQLite.
    task.title_sort = fold(task.title)
    task.search_text = fold(f"{task.title}\n{task.description or ''}")
