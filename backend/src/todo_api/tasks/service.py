"""Task queries. Every statement is scoped by the owner's user_id.

Tasks travel as rows (dicts of the `tasks` columns), never as ORM objects: reads are one
statement, and writes that touch several tables run in one transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, delete, insert, not_, select, update
from sqlmodel import col

from todo_api.errors import Conflict, NotFound
from todo_api.sql import Database, Row
from todo_api.sql_types import UTCDateTime, utc_now
from todo_api.tasks import single_statement
from todo_api.tasks.counts import Counted, recount, tag_counts
from todo_api.tasks.listing import TOTAL, ListStatements, TaskListQuery
from todo_api.tasks.models import TASK_FIELDS, TASKS, Task, TaskTag
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
    tasks: Sequence[Row]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class CompletionChange:
    task: Row
    next_occurrence: Row | None


def _owned(owner: str, task_id: int) -> ColumnElement[bool]:
    return (col(Task.id) == task_id) & (col(Task.user_id) == owner)


# The hottest statements are built once, with named parameters: building a statement
# costs more than running it. Each still names its owner.
_OWNED = (TASKS.c.id == bindparam("task_id")) & (TASKS.c.user_id == bindparam("owner"))
_GET = select(*TASK_FIELDS).where(_OWNED)
_NOW = bindparam("now", type_=UTCDateTime())
_TOGGLE = (
    update(TASKS)
    .where(_OWNED)
    .values(
        completed=not_(TASKS.c.completed),
        completed_at=case((TASKS.c.completed, None), else_=_NOW),
        updated_at=_NOW,
    )
    .returning(*TASK_FIELDS)
)


async def list_tasks(db: Database, *, owner: str, query: TaskListQuery) -> TaskPage:
    statements = query.statements()
    params = query.parameters(owner, utc_now())
    if statements.custom_plans:
        async with db.transaction(custom_plans=True) as tx:
            return await _page(tx, statements, params, query)
    return await _page(db, statements, params, query)


async def _page(
    db: Database, statements: ListStatements, params: dict[str, Any], query: TaskListQuery
) -> TaskPage:
    tasks = await db.all(statements.page, params)
    if not statements.counted:
        counted = await db.first(statements.total, params)
    elif tasks or query.cursor is None:
        counted = tasks[0] if tasks else None  # no tasks and no cursor: none match
    else:  # a page past the last task: the total still counts them
        counted = await db.first(statements.total, params)
    total = (counted and counted[TOTAL]) or 0
    has_more = len(tasks) > query.limit
    tasks = tasks[: query.limit]
    return TaskPage(
        tasks=tasks, total=total, next_cursor=query.next_cursor(tasks[-1]) if has_more else None
    )


async def list_tags(db: Database, *, owner: str) -> list[TagCount]:
    return [TagCount(tag=tag, count=n) for tag, n in await tag_counts(db, owner)]


async def get_task(db: Database, *, owner: str, task_id: int) -> Row:
    task = await db.first(_GET, {"owner": owner, "task_id": task_id})
    if task is None:
        raise TaskNotFound(task_id)
    return task


async def create_task(db: Database, *, owner: str, data: TaskCreate, max_tasks: int) -> Row:
    now = utc_now()
    values = data.model_dump(exclude={"recurrence"})
    values.update(
        user_id=owner,
        created_at=now,
        updated_at=now,
        completed_at=now if data.completed else None,
        **_recurrence(data.model_dump()["recurrence"]),
    )
    if db.dialect_name == "postgresql":
        values.update(_derived(values))
        params = {f"new_{key}": value for key, value in values.items()}
        params["max_tasks"] = max_tasks
        created = await db.first(single_statement.CREATE, params, writes=True)
        if created is None:
            raise TaskLimitReached(max_tasks)
        return created
    async with db.transaction() as tx:
        task, total = await _insert(tx, values)
        # Counted after the insert: the counter row's lock makes concurrent creates take
        # turns, so the limit holds exactly; going over rolls the whole request back.
        if total > max_tasks:
            raise TaskLimitReached(max_tasks)
    return task


async def update_task(db: Database, *, owner: str, task_id: int, data: TaskUpdate) -> Row:
    changes = data.model_dump(exclude_unset=True)
    async with db.transaction() as tx:
        task = await tx.first(select(*TASK_FIELDS).where(_owned(owner, task_id)).with_for_update())
        if task is None:
            raise TaskNotFound(task_id)
        if not changes:
            return task
        now = utc_now()
        if "recurrence" in changes:
            changes.update(_recurrence(changes.pop("recurrence")))
        if "completed" in changes and changes["completed"] != task["completed"]:
            changes["completed_at"] = now if changes["completed"] else None
        changes.update(updated_at=now, **_derived({**task, **changes}))
        statement = update(TASKS).where(_owned(owner, task_id)).values(**changes)
        updated = await tx.first(statement.returning(*TASK_FIELDS))
        assert updated is not None  # the row is locked by the SELECT ... FOR UPDATE above
        if "tags" in changes:
            await tx.all(delete(TaskTag).where(col(TaskTag.task_id) == task_id))
            await _tag(tx, updated)
        await recount(tx, owner, _counted(task), _counted(updated))
    return updated


async def set_completion(
    db: Database, *, owner: str, task_id: int, completed: bool | None
) -> CompletionChange:
    """Set `completed`, or flip it when None; completing a recurring task schedules the next."""
    now = utc_now()
    params = {"owner": owner, "task_id": task_id, "now": now}
    if completed is None and db.dialect_name == "postgresql":
        task = await db.first(single_statement.TOGGLE, params, writes=True)
        if task is not None:
            return CompletionChange(task, None)
        # Not found, or recurring: the transaction below tells which, or schedules the next.
    if completed is None:
        statement = _TOGGLE
    else:
        values = {"completed": completed, "completed_at": now if completed else None}
        # Only a real change is written: setting the same state again changes nothing.
        where = _owned(owner, task_id) & (col(Task.completed) != completed)
        statement = (
            update(TASKS).where(where).values(**values, updated_at=now).returning(*TASK_FIELDS)
        )
    async with db.transaction() as tx:
        task = await tx.first(statement, params)
        if task is None:
            return CompletionChange(await get_task(tx, owner=owner, task_id=task_id), None)
        before = Counted(tags=task["tags"], completed=not task["completed"])
        await recount(tx, owner, before, _counted(task))
        following = None
        if task["completed"] and task["recurrence_frequency"] is not None:
            following = await _schedule_next(tx, task, now)
    return CompletionChange(task, following)


async def delete_task(db: Database, *, owner: str, task_id: int) -> None:
    statement = (
        delete(TASKS).where(_owned(owner, task_id)).returning(TASKS.c.tags, TASKS.c.completed)
    )
    async with db.transaction() as tx:
        deleted = await tx.first(statement)
        if deleted is None:
            raise TaskNotFound(task_id)
        await recount(tx, owner, _counted(deleted), None)


async def _schedule_next(tx: Database, done: Row, now: datetime) -> Row:
    frequency, interval = done["recurrence_frequency"], done["recurrence_interval"]
    values = {
        "user_id": done["user_id"],
        "title": done["title"],
        "description": done["description"],
        "completed": False,
        "priority": done["priority"],
        "tags": list(done["tags"]),
        "due_at": next_due(done["due_at"], frequency, interval, now=now),
        "recurrence_frequency": frequency,
        "recurrence_interval": interval,
        "created_at": now,
        "updated_at": now,
    }
    following, _total = await _insert(tx, values)  # a completion is never refused for the limit
    return following


_INSERTED = [column for column in TASKS.c if column.key != "id"]
_INSERT = (
    insert(TASKS)
    .values({c: bindparam(f"new_{c.key}", type_=c.type) for c in _INSERTED})
    .returning(*TASK_FIELDS)
)


async def _insert(tx: Database, values: dict[str, Any]) -> tuple[Row, int]:
    """Insert a task with its tags; returns it and the owner's new number of tasks."""
    values = {**values, **_derived(values)}
    task = await tx.first(_INSERT, {f"new_{c.key}": values.get(c.key) for c in _INSERTED})
    assert task is not None
    await _tag(tx, task)
    total = await recount(tx, task["user_id"], None, _counted(task))
    assert total is not None
    return task, total


async def _tag(tx: Database, task: Row) -> None:
    if task["tags"]:
        rows = [
            {"task_id": task["id"], "tag": tag, "user_id": task["user_id"]} for tag in task["tags"]
        ]
        await tx.all(insert(TaskTag).values(rows))


def _counted(task: Row) -> Counted:
    return Counted(tags=task["tags"], completed=task["completed"])


def _recurrence(recurrence: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "recurrence_frequency": recurrence["frequency"] if recurrence else None,
        "recurrence_interval": recurrence["interval"] if recurrence else None,
    }


def _derived(task: dict[str, Any]) -> dict[str, str]:
    # Folded in Python, so sorting and searching agree on PostgreSQL and SQLite.
    return {
        "title_sort": fold(task["title"]),
        "search_text": fold(f"{task['title']}\n{task['description'] or ''}"),
    }
