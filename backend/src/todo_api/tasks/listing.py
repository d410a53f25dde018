"""The list endpoint's query: filters, sorting and keyset pagination with an opaque cursor."""

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator
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
from starlette.datastructures import QueryParams

from todo_api.tasks.counts import ALL_TASKS, counted_total
from todo_api.tasks.models import TASK_FIELDS, Priority, Task, TaskTag
from todo_api.tasks.schemas import NO_NUL, Instant, Tag, _reject_nul
from todo_api.tasks.text import fold

SortName = Literal["created", "updated", "title", "due_date", "priority"]
Order = Literal["asc", "desc"]
MAX_PAGE_SIZE = 500

# The column each sort orders by before the id tie-break (None: the id alone), and its default.
_SORT_COLUMNS: dict[str, tuple[Any, Order]] = {
    "created": (None, "desc"),
    "updated": (col(Task.updated_at), "desc"),
    "title": (col(Task.title_sort), "asc"),
    "due_date": (col(Task.due_at), "asc"),
    "priority": (col(Task.priority), "desc"),
}
SearchText = Annotated[str, Field(min_length=1, max_length=200), NO_NUL]


_REPEATABLE = {"priority", "tag"}


class InvalidCursor(ValueError):
    pass


class TaskListQuery(BaseModel):
    """Query parameters of `GET /api/{user_id}/tasks`."""

    status: Literal["all", "pending", "completed"] = "all"
    priority: list[Priority] = Field(default_factory=list, description="Any of these (repeatable).")
    tag: list[Tag] = Field(default_factory=list, description="All of these tags (repeatable).")
    q: SearchText | None = Field(default=None, description="Words in the title or description.")
    due_before: Instant | None = Field(
        default=None, description="Due strictly before this instant."
    )
    due_after: Instant | None = Field(default=None, description="Due at or after this instant.")
    overdue: bool | None = Field(default=None, description="Pending and past its due date.")
    sort: SortName = "created"
    order: Order | None = Field(
        default=None, description="Default: desc, but asc for title and due_date."
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(
        default=None, max_length=1024, description="From a `Link: rel=next`."
    )

    _position: list[Any] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _decode_cursor(self) -> "TaskListQuery":
        if self.q is not None:
            _reject_nul(self.q)
        if self.cursor is not None:
            position = decode_cursor(self.cursor, self.fingerprint())
            column, _default = _SORT_COLUMNS[self.sort]
            if len(position) != (1 if column is None else 2):
                raise InvalidCursor("cursor is not valid")
            if column is not None:
                position[0] = _typed(column, position[0])
            self._position = position
        return self

    @classmethod
    def from_query(cls, params: QueryParams) -> "TaskListQuery":
        """Validate a request's query string (repeatable fields keep every value).

        Done here rather than by FastAPI's query-model support, which costs more than the
        whole database round trip of a page; `openapi_parameters` documents the same fields.
        """
        data = {key: params.getlist(key) if key in _REPEATABLE else params[key] for key in params}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**error, "loc": ("query", *error["loc"])} for error in errors]
            ) from None

    @classmethod
    def openapi_parameters(cls) -> list[dict[str, Any]]:
        """The query parameters, as OpenAPI documents them (for the route's openapi_extra)."""
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": field,
                **({"description": field["description"]} if "description" in field else {}),
            }
            for name, field in schema["properties"].items()
        ]

    @property
    def direction(self) -> Order:
        return self.order or _SORT_COLUMNS[self.sort][1]

    def fingerprint(self) -> str:
        """Binds a cursor to the query that made it: the same filters, sort and order."""
        fields = self.model_dump(mode="json", exclude={"limit", "cursor", "order"})
        fields["order"] = self.direction
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        return digest[:16]

    def statements(self) -> "ListStatements":
        """This query's statements, built once per shape (which filters, sort, page start)."""
        position = self._position
        start: Literal["id", "value", "undated"] | None = None
        if position is not None:
            start = "id" if len(position) == 1 else "undated" if position[0] is None else "value"
        shape = _Shape(
            status=self.status,
            priorities=len(self.priority),
            tags=len(self.tag),
            words=len(self._words()),
            due_before=self.due_before is not None,
            due_after=self.due_after is not None,
            overdue=self.overdue,
            sort=self.sort,
            direction=self.direction,
            start=start,
            counted=self.counter_tag() is not None,
        )
        return _statements(shape)

    def parameters(self, owner: str, now: datetime) -> dict[str, Any]:
        """The values of the named parameters of `statements()`."""
        params: dict[str, Any] = {
            "owner": owner,
            "now": now,
            "due_before": self.due_before,
            "due_after": self.due_after,
            "page_size": self.limit + 1,  # one more than asked tells whether a next page exists
            "counter_tag": self.counter_tag(),
        }
        params.update((f"priority_{i}", priority) for i, priority in enumerate(self.priority))
        params.update((f"tag_{i}", tag) for i, tag in enumerate(self.tag))
        params.update((f"word_{i}", f"%{_escape_like(w)}%") for i, w in enumerate(self._words()))
        if self._position is not None:
            params["after_id"] = self._position[-1]
            if len(self._position) == 2:
                params["after_value"] = self._position[0]
        return params

    def counter_tag(self) -> str | None:
        """The tag whose counters give the total (ALL_TASKS for none) when no filter but
        status and at most one tag is set; otherwise None, and the total is a count(*)."""
        others = (self.priority, self.q, self.due_before, self.due_after, self.overdue)
        if any(value not in (None, []) for value in others) or len(self.tag) > 1:
            return None
        return self.tag[0] if self.tag else ALL_TASKS

    def _words(self) -> list[str]:
        return fold(self.q or "").split()

    def next_cursor(self, last: Mapping[str, Any]) -> str:
        column, _default = _SORT_COLUMNS[self.sort]
        position: list[Any] = [last["id"]]
        if column is not None:
            value = last[column.key]
            position.insert(0, value.isoformat() if isinstance(value, datetime) else value)
        return encode_cursor(self.fingerprint(), position)


@dataclass(frozen=True)
class _Shape:
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


@lru_cache(maxsize=512)
def _statements(shape: _Shape) -> ListStatements:
    # Built once per shape with named parameters: building a statement and its cache key
    # cost more than running it.
    owner: BindParameter[str] = bindparam("owner")
    matching = _filters(shape, owner)
    if shape.counted:
        total = counted_total(owner, bindparam("counter_tag"), shape.status).label(TOTAL)
        carried = [total]
    else:
        total = func.count().label(TOTAL)
        carried = []
    column, _default = _SORT_COLUMNS[shape.sort]
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


def _filters(shape: _Shape, owner: BindParameter[Any]) -> list[ColumnElement[bool]]:
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
    for i in range(shape.tags):
        tagged = select(col(TaskTag.task_id)).where(
            col(TaskTag.user_id) == owner, col(TaskTag.tag) == bindparam(f"tag_{i}")
        )
        where.append(col(Task.id).in_(tagged))
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


def _ordering(shape: _Shape, column: Any) -> list[UnaryExpression[Any]]:
    descending = shape.direction == "desc"
    keys = [] if column is None else [column.desc() if descending else column.asc()]
    if shape.sort == "due_date":
        keys = [keys[0].nulls_last()]  # undated tasks last, whichever the order
    return [*keys, col(Task.id).desc() if descending else col(Task.id).asc()]


def _page_start(shape: _Shape, column: Any) -> list[ColumnElement[bool]]:
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


def encode_cursor(fingerprint: str, position: list[Any]) -> str:
    raw = json.dumps([fingerprint, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if not isinstance(decoded, list) or len(decoded) not in (2, 3) or decoded[0] != fingerprint:
        raise InvalidCursor("cursor does not belong to this query (filters, sort and order)")
    position = decoded[1:]
    if not isinstance(position[-1], int) or isinstance(position[-1], bool):
        raise InvalidCursor("cursor is not valid")
    return position


def _typed(column: Any, value: Any) -> Any:
    """The cursor's sort value, checked against the column it came from."""
    try:
        if value is None:
            if column.key != "due_at":
                raise InvalidCursor("cursor is not valid")
            return None
        if column.key in ("due_at", "updated_at"):
            return datetime.fromisoformat(value)
        if column.key == "priority":
            return Priority(value)
        if not isinstance(value, str):
            raise InvalidCursor("cursor is not valid")
        return value
    except (TypeError, ValueError) as exc:
        raise InvalidCursor("cursor is not valid") from exc


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
