"""The list's SQL: one statement pair per query shape (filters, sort, where the page starts),
built once with named parameters; `list_query.py` supplies the shape and the values."""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.sql.elements import BindParameter, UnaryExpression
from sqlmodel import col

from todo_api.tasks.counts import changes_of, counted_total
from todo_api.tasks.models import TASK_FIELDS, Task, TaskTag

Order = Literal["asc", "desc"]

# The column each sort orders by before the id tie-break (None: the id alone), and its default.
SORT_COLUMNS: dict[str, tuple[Any, Order]] = {
    "created": (None, "desc"),
    "updated": (col(Task.updated_at), "desc"),
    "title": (col(Task.title_sort), "asc"),
    "due_date": (col(Task.due_at), "asc"),
    "priority": (col(Task.priority), "desc"),
}


@dataclass(frozen=True)
class Shape:
    """What a list statement depends on besides its parameter values."""

    status: str
    priorities: int
    tags: int
    words: int
    due_before: bool
    due_after: bool
    overdue: bool | None
    sort: str
    direction: Order
    start: Literal["id", "value", "undated"] | None  # where the page starts (None: first page)
    counted: bool  # the counters give the total


@dataclass(frozen=True)
class ListStatements:
    page: Select[Any]  # the page, one task more than asked; when counted, rows carry the total
    total: Select[Any]  # the total alone: when not counted, or for a page past the last task
    counted: bool  # the counters give the total, so each row of the page carries it
    # Planned for each user's values: how many tasks have a word or a tag varies by user.
    custom_plans: bool


TOTAL = "matching_total"
CHANGES = "user_changes"


@lru_cache(maxsize=512)
def statements_for(shape: Shape) -> ListStatements:
    # Built once per shape with named parameters: building a statement and its cache key
    # cost more than running it.
    owner: BindParameter[str] = bindparam("owner")
    matching = _filters(shape, owner)
    # Every row carries the user's change counter (the list's ETag), read once.
    carried: list[Any] = [changes_of(owner).label(CHANGES)]
    if shape.counted:
        total = counted_total(owner, bindparam("counter_tag"), shape.status).label(TOTAL)
        carried.append(total)
    else:
        total = func.count().label(TOTAL)
    column, _default = SORT_COLUMNS[shape.sort]
    keys = {field.key for field in TASK_FIELDS}
    cursor_key = [] if column is None or column.key in keys else [column]
    page = (
        select(*TASK_FIELDS, *cursor_key, *carried)
        .where(*matching, *_page_start(shape, column))
        .order_by(*_ordering(shape, column))
        .limit(bindparam("page_size", type_=Integer))
    )
    return ListStatements(
        page=page,
        total=select(total) if shape.counted else select(total).where(*matching),
        counted=shape.counted,
        custom_plans=bool(shape.words or shape.tags),
    )


def _filters(shape: Shape, owner: BindParameter[Any]) -> list[ColumnElement[bool]]:
    """The WHERE clause of the matching tasks, owner first (the total counts these)."""
    where: list[ColumnElement[bool]] = [col(Task.user_id) == owner]
    if shape.status != "all":
        where.append(col(Task.completed) == (shape.status == "completed"))
    if shape.priorities:
        # One parameter each, not an expanding IN: the statement shape stays cacheable.
        priority = col(Task.priority)
        where.append(
            or_(*(priority == bindparam(f"priority_{i}") for i in range(shape.priorities)))
        )
    where += _tagged(shape.tags, owner)
    for i in range(shape.words):
        where.append(col(Task.search_text).like(bindparam(f"word_{i}"), escape="\\"))
    due_at = col(Task.due_at)
    if shape.due_before:
        where.append(due_at < bindparam("due_before"))
    if shape.due_after:
        where.append(due_at >= bindparam("due_after"))
    now: BindParameter[datetime] = bindparam("now")
    if shape.overdue is True:
        where.append(and_(col(Task.completed).is_(false()), due_at < now))
    elif shape.overdue is False:
        where.append(or_(col(Task.completed).is_(true()), due_at.is_(None), due_at >= now))
    return where


# Up to this many tags, one semi-join each: the planner starts from the rarest. Beyond, the
# join search itself cost more than the query (8 tags: 27 ms to plan, 2 to run; 20: 70 ms),
# so one grouped lookup counts the tags each task has (linear to plan, bounded to run).
_JOINED_TAGS = 4


def _tagged(tags: int, owner: BindParameter[Any]) -> list[ColumnElement[bool]]:
    """Tasks that carry all `tags` tag parameters."""
    task_id, tag = col(TaskTag.task_id), col(TaskTag.tag)
    if tags <= _JOINED_TAGS:
        return [
            col(Task.id).in_(
                select(task_id).where(col(TaskTag.user_id) == owner, tag == bindparam(f"tag_{i}"))
            )
            for i in range(tags)
        ]
    every = (
        select(task_id)
        .where(col(TaskTag.user_id) == owner, tag.in_([bindparam(f"tag_{i}") for i in range(tags)]))
        .group_by(task_id)
        .having(func.count() == tags)
    )
    return [col(Task.id).in_(every)]


def _ordering(shape: Shape, column: Any) -> list[UnaryExpression[Any]]:
    descending = shape.direction == "desc"
    keys = [] if column is None else [column.desc() if descending else column.asc()]
    if shape.sort == "due_date":
        keys = [keys[0].nulls_last()]  # undated tasks last, whichever the order
    return [*keys, col(Task.id).desc() if descending else col(Task.id).asc()]


def _page_start(shape: Shape, column: Any) -> list[ColumnElement[bool]]:
    """The keyset condition that starts the page after the cursor's task (none on page 1)."""
    if shape.start is None:
        return []
    beyond = "__gt__" if shape.direction == "asc" else "__lt__"
    after_id = getattr(col(Task.id), beyond)(bindparam("after_id", type_=Integer))
    if shape.start == "id":
        return [after_id]
    if shape.start == "undated":  # only undated tasks remain, ordered by id
        return [and_(column.is_(None), after_id)]
    later = getattr(tuple_(column, col(Task.id)), beyond)(
        tuple_(bindparam("after_value", type_=column.type), bindparam("after_id", type_=Integer))
    )
    return [or_(later, column.is_(None)) if shape.sort == "due_date" else later]
