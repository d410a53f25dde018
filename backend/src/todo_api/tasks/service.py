"""The rules of a user's tasks: limits, completion and recurrence, derived fields.

Routes call these; these call the repository (`repository.py`), which holds every
statement. Tasks travel as rows (mappings of the `tasks` columns), never as ORM objects.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from todo_api.db.executor import Row
from todo_api.db.types import utc_now
from todo_api.errors import Conflict, NotFound, PreconditionFailed
from todo_api.tasks.conditional import Versions, task_etag
from todo_api.tasks.list_query import TaskListQuery
from todo_api.tasks.recurrence import next_due
from todo_api.tasks.repository import TaskRepository
from todo_api.tasks.schemas import TagCount, TaskCreate, TaskUpdate
from todo_api.tasks.text import fold


class TaskLimitReached(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The limit of {limit} stored tasks is reached; delete some first.")


class TaskNotFound(NotFound):
    """No task with this id belongs to this user (whether or not another user has one)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} was not found.")


class TaskChanged(PreconditionFailed):
    """If-Match named another version than the task's: nothing was changed."""

    def __init__(self, version: int) -> None:
        etag = task_etag(version)
        super().__init__(
            f"The task has changed since that version; its current ETag is {etag}.",
            headers={"ETag": etag},
        )


class ConcurrentEdit(Conflict):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} is being changed by other requests; try again.")


# An update retried when the task changed between its read and its write (SQLite only:
# PostgreSQL locks the row it read).
_UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class TaskPage:
    tasks: Sequence[Row]
    total: int
    next_cursor: str | None
    changes: int  # the user's change counter when the page was read (the list's ETag)


@dataclass(frozen=True)
class CompletionChange:
    task: Row
    next_occurrence: Row | None


async def list_tasks(repo: TaskRepository, *, owner: str, query: TaskListQuery) -> TaskPage:
    statements = query.statements()
    params = query.parameters(owner, utc_now())
    tasks, total, changes = await repo.page(statements, params, past_first=query.cursor is not None)
    has_more = len(tasks) > query.limit
    tasks = tasks[: query.limit]
    next_cursor = query.next_cursor(tasks[-1]) if has_more else None
    return TaskPage(tasks=tasks, total=total, next_cursor=next_cursor, changes=changes)


async def list_changes(repo: TaskRepository, *, owner: str) -> int:
    """The user's change counter: it moves with every write of the user's tasks."""
    return await repo.changes(owner)


async def list_tags(repo: TaskRepository, *, owner: str) -> list[TagCount]:
    return [TagCount(tag=tag, count=n) for tag, n in await repo.tag_counts(owner)]


async def get_task(repo: TaskRepository, *, owner: str, task_id: int) -> Row:
    task = await repo.get(owner, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


async def create_task(repo: TaskRepository, *, owner: str, data: TaskCreate, max_tasks: int) -> Row:
    now = utc_now()
    values = data.model_dump(exclude={"recurrence"})
    values.update(
        user_id=owner,
        created_at=now,
        updated_at=now,
        completed_at=now if data.completed else None,
        reminded_at=None,
        version=1,
        **_recurrence(data.model_dump()["recurrence"]),
    )
    values.update(_derived(values))
    created = await repo.create(values, max_tasks=max_tasks)
    if created is None:
        raise TaskLimitReached(max_tasks)
    return created


async def update_task(
    repo: TaskRepository,
    *,
    owner: str,
    task_id: int,
    data: TaskUpdate,
    if_match: Versions | None = None,
) -> Row:
    """Apply the fields sent; `if_match`: only if the task is one of these versions."""
    # The fields sent; a nested object (recurrence) whole, with its own defaults.
    sent = data.model_dump(include=data.model_fields_set)
    for _attempt in range(_UPDATE_ATTEMPTS):
        async with repo.transaction() as tx:
            task = await _owned_task(tx, owner, task_id, if_match)
            if not sent:
                return task
            now = utc_now()
            changes = dict(sent)
            if "recurrence" in changes:
                changes.update(_recurrence(changes.pop("recurrence")))
            if "completed" in changes and changes["completed"] != task["completed"]:
                changes["completed_at"] = now if changes["completed"] else None
            if "remind_at" in changes and changes["remind_at"] != task["remind_at"]:
                changes["reminded_at"] = None  # another time: the reminder is armed again
            changes.update(updated_at=now, **_derived({**task, **changes}))
            updated = await tx.update(task, changes)
            if updated is not None:
                return updated
            if if_match is not None:  # changed since it was read: no longer the version named
                raise await _changed(tx, owner, task_id)
    raise ConcurrentEdit(task_id)


async def set_completion(
    repo: TaskRepository,
    *,
    owner: str,
    task_id: int,
    completed: bool | None,
    if_match: Versions | None = None,
) -> CompletionChange:
    """Set `completed`, or flip it when None; completing a recurring task schedules the next.
    `if_match`: only if the task is one of these versions."""
    now = utc_now()
    if completed is None and if_match is None:
        task = await repo.toggle_unless_recurring(owner, task_id, now)
        if task is not None:
            return CompletionChange(task, None)
        # Not found, or recurring: the transaction below tells which, or schedules the next.
    async with repo.transaction() as tx:
        version = None
        if if_match is not None:
            current = await _owned_task(tx, owner, task_id, if_match)
            version = current["version"]
        task = await tx.set_completed(owner, task_id, completed, now, version=version)
        if task is None:
            current = await get_task(tx, owner=owner, task_id=task_id)
            if version is not None and current["version"] != version:
                raise TaskChanged(current["version"])
            return CompletionChange(current, None)  # already in that state
        following = None
        if task["completed"] and task["recurrence_frequency"] is not None:
            following = await _schedule_next(tx, task, now)
    return CompletionChange(task, following)


async def delete_task(
    repo: TaskRepository, *, owner: str, task_id: int, if_match: Versions | None = None
) -> None:
    """Delete the task; `if_match`: only if it is one of these versions."""
    if if_match is None:
        if not await repo.delete(owner, task_id):
            raise TaskNotFound(task_id)
        return
    async with repo.transaction() as tx:
        task = await _owned_task(tx, owner, task_id, if_match)
        if not await tx.delete(owner, task_id, version=task["version"]):
            raise await _changed(tx, owner, task_id)


async def _owned_task(
    tx: TaskRepository, owner: str, task_id: int, if_match: Versions | None
) -> Row:
    """The task, locked for this transaction where the database can; 404 if the user has no
    such task, 412 if `if_match` does not name its version."""
    task = await tx.get_for_update(owner, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if if_match is not None and task["version"] not in if_match:
        raise TaskChanged(task["version"])
    return task


async def _changed(tx: TaskRepository, owner: str, task_id: int) -> NotFound | TaskChanged:
    """Why a write of a version just read found none: the task changed, or is gone."""
    current = await tx.get(owner, task_id)
    return TaskNotFound(task_id) if current is None else TaskChanged(current["version"])


async def _schedule_next(tx: TaskRepository, done: Row, now: datetime) -> Row | None:
    frequency, interval = done["recurrence_frequency"], done["recurrence_interval"]
    due_at = next_due(done["due_at"], frequency, interval, now=now)
    if due_at is None:  # the series has reached the end of the calendar
        return None
    remind_at = None
    if done["remind_at"] is not None and done["due_at"] is not None:
        remind_at = due_at - (done["due_at"] - done["remind_at"])  # the same offset
    values = {
        "user_id": done["user_id"],
        "title": done["title"],
        "description": done["description"],
        "completed": False,
        "priority": done["priority"],
        "tags": list(done["tags"]),
        "due_at": due_at,
        "remind_at": remind_at,
        "reminded_at": None,
        "recurrence_frequency": frequency,
        "recurrence_interval": interval,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    values.update(_derived(values))
    following, _total = await tx.insert(values)  # a completion is never refused for the limit
    return following


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
