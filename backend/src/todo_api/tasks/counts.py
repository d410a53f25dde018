"""Keep `task_counts` in step with every write, and read totals from it where it can answer."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Insert, ScalarSelect, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from todo_api.db.executor import Database
from todo_api.sync.channel import notify
from todo_api.tasks.models import TASK_COUNTS, TaskCount

ALL_TASKS = ""  # the tag of the row that counts all of a user's tasks


@dataclass(frozen=True)
class Counted:
    """What the counters know of one task."""

    tags: Sequence[str]
    completed: bool


@dataclass(frozen=True)
class Recounted:
    total: int  # the user's number of tasks after the write
    changes: int  # the user's change counter after the write: the write's change-feed place


async def recount(
    db: Database, owner: str, before: Counted | None, after: Counted | None
) -> Recounted:
    """Apply one task's change (None: it did not exist / no longer exists) in one upsert, and
    count the write in the user's `changes` (on PostgreSQL, notifying the user's streams)."""
    totals: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is not None:
            for tag in (ALL_TASKS, *state.tags):
                totals[tag] += sign
                completed[tag] += sign * state.completed
    # Sorted rows lock in the same order in every transaction: concurrent writes cannot
    # deadlock. The user's row ('') comes first, always: every write counts in `changes`.
    rows = [
        {
            "user_id": owner,
            "tag": tag,
            "total": totals[tag],
            "completed": completed[tag],
            "changes": int(tag == ALL_TASKS),
        }
        for tag in sorted(totals.keys() | completed.keys() | {ALL_TASKS})
        if totals[tag] or completed[tag] or tag == ALL_TASKS
    ]
    statement = _upsert(db.dialect_name, len(rows))
    params = {f"{key}_{i}": value for i, row in enumerate(rows) for key, value in row.items()}
    rows_after = await db.all(statement, params)
    user_row = next(row for row in rows_after if row["tag"] == ALL_TASKS)
    return Recounted(total=int(user_row["total"]), changes=int(user_row["changes"]))


@cache
def _upsert(dialect_name: str, rows: int) -> Insert:
    """Add to `rows` counters (created as needed); built once per dialect and row count."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    insert = dialect.insert(TASK_COUNTS).values(
        [{key: bindparam(f"{key}_{i}") for key in COUNTER_KEYS} for i in range(rows)]
    )
    returned: list[ColumnElement[Any]] = [
        TASK_COUNTS.c.tag,
        TASK_COUNTS.c.total,
        TASK_COUNTS.c.changes,
    ]
    if dialect_name == "postgresql":
        returned.append(notify(TASK_COUNTS.c.user_id))
    upsert: Insert = adding_to_counters(insert).returning(*returned)
    return upsert


def adding_to_counters(insert: Any) -> Any:
    """A PostgreSQL or SQLite INSERT of counter rows that adds to the rows already there."""
    return insert.on_conflict_do_update(
        index_elements=["user_id", "tag"],
        set_={
            "total": TASK_COUNTS.c.total + insert.excluded.total,
            "completed": TASK_COUNTS.c.completed + insert.excluded.completed,
            "changes": TASK_COUNTS.c.changes + insert.excluded.changes,
        },
    )


COUNTER_KEYS = ("user_id", "tag", "total", "completed", "changes")


def counted_total(owner: Any, tag: Any, status: str) -> ScalarSelect[int]:
    """Tasks of `owner` (with `tag`, or all for ALL_TASKS) in `status`, from the counters:
    a scalar subquery, so that a page of tasks can carry its total (NULL: none counted)."""
    total, completed = TASK_COUNTS.c.total, TASK_COUNTS.c.completed
    counted = {"all": total, "completed": completed, "pending": total - completed}[status]
    return (
        select(counted)
        .where(TASK_COUNTS.c.user_id == owner, TASK_COUNTS.c.tag == tag)
        .scalar_subquery()
    )


_CHANGES = select(TASK_COUNTS.c.changes).where(
    TASK_COUNTS.c.user_id == bindparam("owner"), TASK_COUNTS.c.tag == ALL_TASKS
)


async def changes(db: Database, owner: str) -> int:
    """How many writes the user's tasks have had (0 before the first)."""
    row = await db.first(_CHANGES, {"owner": owner})
    return int(row["changes"]) if row else 0


def changes_of(owner: Any) -> ScalarSelect[int]:
    """The user's `changes`, as a scalar subquery a list statement can carry."""
    # The '' by a named parameter: an anonymous one would be called tag_1, as a list
    # statement's own tag parameters are.
    user_row = TASK_COUNTS.c.tag == bindparam("user_row_tag", ALL_TASKS)
    return (
        select(TASK_COUNTS.c.changes)
        .where(TASK_COUNTS.c.user_id == owner, user_row)
        .scalar_subquery()
    )


async def tag_counts(db: Database, owner: str) -> list[tuple[str, int]]:
    statement = (
        select(col(TaskCount.tag), col(TaskCount.total))
        .where(col(TaskCount.user_id) == owner, col(TaskCount.tag) != ALL_TASKS)
        .where(col(TaskCount.total) > 0)
        .order_by(col(TaskCount.total).desc(), col(TaskCount.tag))
    )
    return [(row["tag"], row["total"]) for row in await db.all(statement)]
