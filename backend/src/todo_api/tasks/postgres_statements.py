"""Creating and toggling a task as one PostgreSQL statement each, counters and tags included.

A write that spans tables otherwise costs four round trips (BEGIN, the write, the counter
upsert, COMMIT), which made writes the slowest requests. Here data-modifying CTEs do it
all in one statement, atomic as any single statement is. `PostgresTaskRepository` runs
them; other databases do the same steps in a transaction (`TaskRepository`).

Counter rows are locked in tag order ('' first), as `counts.recount` does, so concurrent
writes cannot deadlock.
"""

from typing import Any

from sqlalchemy import Select, bindparam, case, func, literal, not_, select, true, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.sql.expression import ColumnElement, cast

from todo_api.db.types import UTCDateTime
from todo_api.sync.channel import notify
from todo_api.tasks.counts import ALL_TASKS, COUNTER_KEYS, adding_to_counters
from todo_api.tasks.models import TASK_COUNTS, TASK_FIELDS, TASK_TAGS, TASKS


def _add_to_counters(rows: Select[Any] | Any) -> Any:
    """INSERT the (user_id, tag, total, completed) `rows` into the counters, adding to any."""
    return adding_to_counters(insert(TASK_COUNTS).from_select(list(COUNTER_KEYS), rows))


def _as_int(flag: ColumnElement[bool]) -> ColumnElement[int]:
    return case((flag, 1), else_=0)


def _create() -> Select[Any]:
    # The owner's total goes up by one unless it has reached :max_tasks; then no row comes
    # back, nothing is inserted, and the statement returns no task.
    counted = insert(TASK_COUNTS).values(
        user_id=bindparam("new_user_id"),
        tag=ALL_TASKS,
        total=1,
        completed=_as_int(bindparam("new_completed")),
        changes=1,
    )
    counted = counted.on_conflict_do_update(
        index_elements=["user_id", "tag"],
        set_={
            "total": TASK_COUNTS.c.total + 1,
            "completed": TASK_COUNTS.c.completed + counted.excluded.completed,
            "changes": TASK_COUNTS.c.changes + 1,
        },
        where=TASK_COUNTS.c.total < bindparam("max_tasks"),
    )
    room = counted.returning(TASK_COUNTS.c.total, TASK_COUNTS.c.changes).cte("room")
    columns = [column for column in TASKS.c if column.key != "id"]
    # The task's place in the change feed is the write's count, taken under the row's lock.
    values = select(
        *(
            room.c.changes if c.key == "change_seq" else bindparam(f"new_{c.key}", type_=c.type)
            for c in columns
        )
    ).select_from(room)
    task = (
        insert(TASKS)
        .from_select([c.key for c in columns], values)
        .returning(*TASK_FIELDS)
        .cte("task")
    )
    tag = func.json_array_elements_text(task.c.tags).table_valued("value").alias("tag")
    tagged = (
        select(task.c.id, tag.c.value, task.c.user_id, task.c.completed)
        .select_from(task.join(tag, true()))
        .order_by(tag.c.value)
        .cte("tagged")
    )
    rows = select(tagged.c.id, tagged.c.value, tagged.c.user_id)
    tag_rows = TASK_TAGS.insert().from_select(["task_id", "tag", "user_id"], rows).cte("tag_rows")
    counts = select(
        tagged.c.user_id, tagged.c.value, literal(1), _as_int(tagged.c.completed), literal(0)
    ).order_by(tagged.c.value)
    tag_counts = _add_to_counters(counts).cte("tag_counts")
    return select(*task.c, notify(task.c.user_id)).add_cte(tag_rows, tag_counts)


def _toggle() -> Select[Any]:
    # Recurring tasks are left out (no row comes back): completing one schedules the next
    # occurrence, which the service does in a transaction.
    now = bindparam("now", type_=UTCDateTime())
    owned = (
        (TASKS.c.id == bindparam("task_id"))
        & (TASKS.c.user_id == bindparam("owner"))
        & TASKS.c.recurrence_frequency.is_(None)
    )
    # The task is locked first (as every write does), then its counters: every counter of
    # the task (all tasks, and one per tag) gains or loses one completed, and the user's
    # row ('') counts the write in `changes`, whose new value is the task's place in the
    # change feed. FOR UPDATE reads the newest committed state, so two toggles of one task
    # take turns and count what they flip.
    target = (
        select(TASKS.c.user_id, TASKS.c.completed, TASKS.c.tags)
        .where(owned)
        .with_for_update()
        .cte("target")
    )
    every = cast(target.c.tags, JSONB).op("||")(cast(literal('[""]'), JSONB))
    tag = func.jsonb_array_elements_text(every).table_valued("value").alias("tag")
    counts = (
        select(
            target.c.user_id,
            tag.c.value,
            literal(0),
            case((target.c.completed, -1), else_=1),
            _as_int(tag.c.value == ALL_TASKS),
        )
        .select_from(target.join(tag, true()))
        .order_by(tag.c.value)
    )
    counted = _add_to_counters(counts).returning(
        TASK_COUNTS.c.user_id, TASK_COUNTS.c.tag, TASK_COUNTS.c.changes
    )
    counted = counted.cte("counted")
    # The place joins in as a row (UPDATE ... FROM), not as a subquery: when a concurrent
    # write changed the task after this statement's snapshot, PostgreSQL re-checks the newest
    # version (EvalPlanQual), which keeps a joined row but evaluates a CTE subquery to NULL.
    task = (
        update(TASKS)
        .where(owned, counted.c.user_id == TASKS.c.user_id, counted.c.tag == ALL_TASKS)
        .values(
            completed=not_(TASKS.c.completed),
            completed_at=case((TASKS.c.completed, None), else_=now),
            updated_at=now,
            version=TASKS.c.version + 1,
            change_seq=counted.c.changes,
        )
        .returning(*TASK_FIELDS)
        .cte("task")
    )
    return select(*task.c, notify(task.c.user_id))


CREATE = _create()
TOGGLE = _toggle()
