"""Every statement on a user's tasks: the storage side of the service, one class per database.

`TaskRepository` runs each operation as portable SQL, in a transaction where it spans
tables; `PostgresTaskRepository` does the hottest ones in one statement each. Both give
the same results (the test suite runs on both); the service never asks which it has.
Every statement names its owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, delete, insert, not_, select, update

from todo_api.db.executor import Database, Row
from todo_api.db.types import UTCDateTime, utc_now
from todo_api.tasks.counts import ALL_TASKS, Counted, Recounted, changes, recount, tag_counts
from todo_api.tasks.list_statements import CHANGES, TOTAL, ListStatements
from todo_api.tasks.models import TASK_COUNTS, TASK_FIELDS, TASK_TAGS, TASK_TOMBSTONES, TASKS

Wake = Callable[[str], None]  # wakes a user's live streams (in this process)


class _OverLimit(Exception):
    """Rolls back a create that took the owner past the task limit."""


def _owned(owner: str, task_id: int) -> ColumnElement[bool]:
    return (TASKS.c.id == task_id) & (TASKS.c.user_id == owner)


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
        version=TASKS.c.version + 1,
    )
    .returning(*TASK_FIELDS)
)
_TOGGLE_UNLESS_RECURRING = _TOGGLE.where(TASKS.c.recurrence_frequency.is_(None))
_INSERTED = [column for column in TASKS.c if column.key != "id"]
_INSERT = (
    insert(TASKS)
    .values({c: bindparam(f"new_{c.key}", type_=c.type) for c in _INSERTED})
    .returning(*TASK_FIELDS)
)


# A write's place in the change feed, known once the counters counted it.
_STAMP = update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(change_seq=bindparam("seq"))
_TOMBSTONE = insert(TASK_TOMBSTONES).values(
    task_id=bindparam("task_id"), user_id=bindparam("owner"), seq=bindparam("seq"), deleted_at=_NOW
)
_REMINDED = (
    update(TASKS)
    .where(
        _OWNED,
        TASKS.c.remind_at == bindparam("was_remind_at", type_=UTCDateTime()),
        TASKS.c.reminded_at.is_(None),
        not_(TASKS.c.completed),
    )
    .values(reminded_at=_NOW, version=TASKS.c.version + 1)
    .returning(*TASK_FIELDS)
)

_DUE_REMINDERS = (
    select(*TASK_FIELDS)
    .where(
        TASKS.c.remind_at.is_not(None),
        TASKS.c.reminded_at.is_(None),
        not_(TASKS.c.completed),
        TASKS.c.remind_at <= _NOW,
    )
    .order_by(TASKS.c.remind_at)
    .limit(bindparam("limit"))
    # Another instance's claim is skipped, not waited for (PostgreSQL; SQLite has one writer).
    .with_for_update(skip_locked=True)
)

_LOCK_COUNTERS = (
    select(TASK_COUNTS.c.user_id)
    .where(TASK_COUNTS.c.user_id == bindparam("owner"), TASK_COUNTS.c.tag == ALL_TASKS)
    .with_for_update()
)


class TaskRepository:
    """The user's tasks in `db`; `transaction()` gives one bound to a transaction."""

    def __init__(
        self,
        db: Database,
        claims: set[tuple[str, str]] | None = None,
        *,
        wake: Wake | None = None,
        changed: set[str] | None = None,
    ) -> None:
        self.db = db
        # Idempotency keys held by requests running in this process (see `claimed`).
        self._claims = claims if claims is not None else set()
        # Where the database sends no notifications (SQLite: one process), streams are woken
        # here, once the write committed; `changed` collects the users a transaction wrote.
        self._wake = wake
        self._changed_users = changed

    @asynccontextmanager
    async def transaction(self, *, custom_plans: bool = False) -> AsyncIterator[TaskRepository]:
        outermost = self._changed_users is None
        changed = set() if outermost else self._changed_users
        async with self.db.transaction(custom_plans=custom_plans) as tx:
            yield type(self)(tx, self._claims, wake=self._wake, changed=changed)
        if outermost and self._wake is not None:  # committed
            for owner in changed or ():
                self._wake(owner)

    def _changed(self, owner: str) -> None:
        if self._wake is None:
            return  # PostgreSQL: the counters' upsert sent NOTIFY with the write
        if self._changed_users is None:
            self._wake(owner)
        else:
            self._changed_users.add(owner)

    @asynccontextmanager
    async def claimed(self, owner: str, key: str) -> AsyncIterator[TaskRepository | None]:
        """A transaction holding the user's idempotency `key` until it ends; None if another
        request holds it. Held in this process: SQLite, the embedded default, has one."""
        claim = (owner, key)
        if claim in self._claims:
            yield None
            return
        self._claims.add(claim)
        try:
            async with self.transaction() as tx:
                yield tx
        finally:
            self._claims.discard(claim)

    async def get(self, owner: str, task_id: int) -> Row | None:
        return await self.db.first(_GET, {"owner": owner, "task_id": task_id})

    async def get_for_update(self, owner: str, task_id: int) -> Row | None:
        """The task, locked until the transaction ends (call inside `transaction()`)."""
        return await self.db.first(
            select(*TASK_FIELDS).where(_owned(owner, task_id)).with_for_update()
        )

    async def page(
        self, statements: ListStatements, params: dict[str, Any], *, past_first: bool
    ) -> tuple[list[Row], int, int]:
        """A page of tasks (one more than the page size, when there is more), the total, and
        the user's change counter as of that page.

        `past_first`: the page starts after a cursor, so an empty page may still have a total.
        """
        if statements.custom_plans:
            async with self.transaction(custom_plans=True) as tx:
                return await tx._page(statements, params, past_first=past_first)
        return await self._page(statements, params, past_first=past_first)

    async def _page(
        self, statements: ListStatements, params: dict[str, Any], *, past_first: bool
    ) -> tuple[list[Row], int, int]:
        tasks = await self.db.all(statements.page, params)
        # Read with the rows, in the same snapshot: an ETag never names newer data than sent.
        changes = tasks[0][CHANGES] if tasks else await self.changes(params["owner"])
        changes = changes or 0
        if not statements.counted and not past_first and len(tasks) < params["page_size"]:
            return tasks, len(tasks), changes  # the first page holds every match: no count
        if not statements.counted:
            counted = await self.db.first(statements.total, params)
        elif tasks or not past_first:
            counted = tasks[0] if tasks else None  # no tasks on the first page: none match
        else:  # a page past the last task: the total still counts them
            counted = await self.db.first(statements.total, params)
        return tasks, (counted and counted[TOTAL]) or 0, changes

    async def tag_counts(self, owner: str) -> list[tuple[str, int]]:
        return await tag_counts(self.db, owner)

    async def create(self, values: dict[str, Any], *, max_tasks: int) -> Row | None:
        """Insert a task with its tags and counters; None (nothing stored) past `max_tasks`."""
        try:
            async with self.transaction() as tx:
                task, total = await tx.insert(values)
                # Counted after the insert: the counter row's lock makes concurrent creates
                # take turns, so the limit holds exactly; going over rolls it all back.
                if total > max_tasks:
                    raise _OverLimit
        except _OverLimit:
            return None
        return task

    async def insert(self, values: dict[str, Any]) -> tuple[Row, int]:
        """Insert a task with its tags (call inside `transaction()`), whatever the limit;
        returns it and the owner's new number of tasks."""
        owner = values["user_id"]
        # Counted first: the write's place in the change feed is stored with the task.
        counted = await recount(self.db, owner, None, _counted(values))
        params = {f"new_{c.key}": values.get(c.key) for c in _INSERTED}
        params["new_change_seq"] = counted.changes
        task = await self.db.first(_INSERT, params)
        assert task is not None
        await self._tag(task)
        self._changed(owner)
        return task, counted.total

    async def toggle_unless_recurring(self, owner: str, task_id: int, now: datetime) -> Row | None:
        """Flip `completed` of a task that does not recur; None if none such was found."""
        params = {"owner": owner, "task_id": task_id, "now": now}
        async with self.transaction() as tx:
            task = await tx.db.first(_TOGGLE_UNLESS_RECURRING, params)
            if task is not None:
                await tx._written(task, await tx._recount_completion(task))
        return task

    async def set_completed(
        self,
        owner: str,
        task_id: int,
        completed: bool | None,
        now: datetime,
        *,
        version: int | None = None,
    ) -> Row | None:
        """Flip (None) or set `completed` (call inside `transaction()`); None if nothing was
        written: no such task, already in that state, or (given `version`) not that version."""
        if completed is None:
            statement = _TOGGLE
        else:
            values = {"completed": completed, "completed_at": now if completed else None}
            # Only a real change is written: setting the same state again changes nothing.
            statement = (
                update(TASKS)
                .where(_OWNED & (TASKS.c.completed != completed))
                .values(**values, updated_at=_NOW, version=TASKS.c.version + 1)
                .returning(*TASK_FIELDS)
            )
        if version is not None:
            statement = statement.where(TASKS.c.version == version)
        task = await self.db.first(statement, {"owner": owner, "task_id": task_id, "now": now})
        if task is not None:
            await self._written(task, await self._recount_completion(task))
        return task

    async def update(self, before: Row, changes: dict[str, Any]) -> Row | None:
        """Write `changes` to the task `before` (read in this transaction); None if it is no
        longer that version (SQLite takes no row lock when it is read)."""
        owner, task_id = before["user_id"], before["id"]
        statement = (
            update(TASKS)
            .where(_owned(owner, task_id), TASKS.c.version == before["version"])
            .values(**changes, version=TASKS.c.version + 1)
        )
        updated = await self.db.first(statement.returning(*TASK_FIELDS))
        if updated is None:
            return None
        if "tags" in changes:
            await self.db.all(delete(TASK_TAGS).where(TASK_TAGS.c.task_id == task_id))
            await self._tag(updated)
        await self._written(
            updated, await recount(self.db, owner, _counted(before), _counted(updated))
        )
        return updated

    async def due_reminders(self, now: datetime, *, limit: int) -> list[Row]:
        """Tasks (of any user) whose reminder is due and unsent, locked for this transaction
        where the database can; each is then marked by `mark_reminded`."""
        return await self.db.all(_DUE_REMINDERS, {"now": now, "limit": limit})

    async def mark_reminded(self, task: Row, now: datetime) -> Row | None:
        """Record that the reminder of `task` (as read) was sent; None if it has changed since
        (another instance sent it, or remind_at or completion changed)."""
        params = {
            "owner": task["user_id"],
            "task_id": task["id"],
            "was_remind_at": task["remind_at"],
            "now": now,
        }
        async with self.transaction() as tx:
            reminded = await tx.db.first(_REMINDED, params)
            if reminded is not None:
                counted = _counted(reminded)
                await tx._written(reminded, await recount(tx.db, task["user_id"], counted, counted))
        return reminded

    async def delete(self, owner: str, task_id: int, *, version: int | None = None) -> bool:
        """Delete the task (only that version, if given); False if none was deleted."""
        where = _owned(owner, task_id)
        if version is not None:
            where &= TASKS.c.version == version
        statement = delete(TASKS).where(where).returning(TASKS.c.tags, TASKS.c.completed)
        async with self.transaction() as tx:
            deleted = await tx.db.first(statement)
            if deleted is None:
                return False
            counted = await recount(tx.db, owner, _counted(deleted), None)
            # The tombstone tells the change feed's readers that the task is gone.
            params = {"task_id": task_id, "owner": owner, "seq": counted.changes, "now": utc_now()}
            await tx.db.all(_TOMBSTONE, params)
            tx._changed(owner)
        return True

    async def changes(self, owner: str) -> int:
        return await changes(self.db, owner)

    async def lock_counters(self, owner: str) -> None:
        """Lock the user's counter row until the transaction ends (where the database can)."""
        await self.db.all(_LOCK_COUNTERS, {"owner": owner})

    async def _recount_completion(self, task: Row) -> Recounted:
        before = Counted(tags=task["tags"], completed=not task["completed"])
        return await recount(self.db, task["user_id"], before, _counted(task))

    async def _written(self, task: Row, counted: Recounted) -> None:
        """Give the task written in this transaction its place in the change feed."""
        await self.db.all(_STAMP, {"task_id": task["id"], "seq": counted.changes})
        self._changed(task["user_id"])

    async def _tag(self, task: Row) -> None:
        if task["tags"]:
            rows = [
                {"task_id": task["id"], "tag": tag, "user_id": task["user_id"]}
                for tag in task["tags"]
            ]
            await self.db.all(insert(TASK_TAGS).values(rows))


def _counted(task: Row | dict[str, Any]) -> Counted:
    return Counted(tags=task["tags"], completed=task["completed"])
