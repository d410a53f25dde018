"""Keep `task_counts` in step with every write, and read totals from it where it can answer."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from todo_api.tasks.models import TaskCount

ALL_TASKS = ""  # the tag of the row that counts all of a user's tasks


@dataclass(frozen=True)
class Counted:
    """What the counters know of one task."""

    tags: Sequence[str]
    completed: bool


async def recount(
    session: AsyncSession, owner: str, before: Counted | None, after: Counted | None
) -> int | None:
    """Apply one task's change (None: it did not exist / no longer exists) in one upsert.

    Returns the user's new number of tasks (None when nothing changed).
    """
    totals: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is not None:
            for tag in (ALL_TASKS, *state.tags):
                totals[tag] += sign
                completed[tag] += sign * state.completed
    # Sorted rows lock in the same order in every transaction: concurrent writes cannot deadlock.
    rows = [
        {"user_id": owner, "tag": tag, "total": totals[tag], "completed": completed[tag]}
        for tag in sorted(totals.keys() | completed.keys())
        if totals[tag] or completed[tag]
    ]
    if not rows:
        return None
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(TaskCount).values(rows)
    statement = insert.on_conflict_do_update(
        index_elements=["user_id", "tag"],
        set_={
            "total": col(TaskCount.total) + insert.excluded.total,
            "completed": col(TaskCount.completed) + insert.excluded.completed,
        },
    ).returning(col(TaskCount.tag), col(TaskCount.total))
    totals_after = dict((await session.exec(statement)).all())
    return totals_after.get(ALL_TASKS)


async def counted_total(session: AsyncSession, owner: str, tag: str, status: str) -> int:
    """Tasks of `owner` (with `tag`, or all for ALL_TASKS) in `status`, from the counters."""
    statement = select(TaskCount).where(col(TaskCount.user_id) == owner, col(TaskCount.tag) == tag)
    row = (await session.exec(statement)).one_or_none()
    if row is None:
        return 0
    return {"all": row.total, "completed": row.completed, "pending": row.total - row.completed}[
        status
    ]


async def tag_counts(session: AsyncSession, owner: str) -> list[tuple[str, int]]:
    statement = (
        select(col(TaskCount.tag), col(TaskCount.total))
        .where(col(TaskCount.user_id) == owner, col(TaskCount.tag) != ALL_TASKS)
        .where(col(TaskCount.total) > 0)
        .order_by(col(TaskCount.total).desc(), col(TaskCount.tag))
    )
    return [(tag, total) for tag, total in (await session.exec(statement)).all()]
