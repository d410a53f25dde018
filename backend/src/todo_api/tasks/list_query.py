"""The list endpoint's query string: parsed, validated and documented; its shape and values."""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from todo_api.tasks.counts import ALL_TASKS
from todo_api.tasks.cursor import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    typed_position,
)
from todo_api.tasks.list_statements import (
    SORT_COLUMNS,
    ListStatements,
    Order,
    Shape,
    statements_for,
)
from todo_api.tasks.models import Priority
from todo_api.tasks.schemas import MAX_TAGS_PER_TASK, NO_NUL, Instant, Tag, _reject_nul
from todo_api.tasks.text import fold
from todo_api.web.query_model import QueryModel

SortName = Literal["created", "updated", "title", "due_date", "priority"]
MAX_PAGE_SIZE = 500
MAX_SEARCH_WORDS = 10
SearchText = Annotated[str, Field(min_length=1, max_length=200), NO_NUL]


def _once(values: list[Any]) -> list[Any]:
    """Each filter value once (the order kept): a repeated value adds nothing to match."""
    return list(dict.fromkeys(values))


class TaskListQuery(QueryModel):
    """Query parameters of `GET /api/{user_id}/tasks` (a cursor must have been made for the
    owner given as `from_query(..., owner=)` and this query)."""

    repeatable = frozenset({"priority", "tag"})

    status: Literal["all", "pending", "completed"] = "all"
    priority: Annotated[list[Priority], Field(max_length=len(Priority)), AfterValidator(_once)] = (
        Field(default_factory=list, description="Any of these (repeatable, up to 3).")
    )
    tag: Annotated[list[Tag], Field(max_length=MAX_TAGS_PER_TASK), AfterValidator(_once)] = Field(
        default_factory=list,
        description=f"All of these tags (repeatable, up to {MAX_TAGS_PER_TASK}: no task has more).",
    )
    q: SearchText | None = Field(
        default=None,
        description=f"Words in the title or description (up to {MAX_SEARCH_WORDS} words).",
    )
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
        default=None, max_length=MAX_CURSOR_LENGTH, description="From a `Link: rel=next`."
    )

    _owner: str = PrivateAttr(default="")
    _position: list[Any] | None = PrivateAttr(default=None)

    @field_validator("q")
    @classmethod
    def _few_words(cls, q: str | None) -> str | None:
        if q is not None and len(fold(q).split()) > MAX_SEARCH_WORDS:
            raise ValueError(f"must have at most {MAX_SEARCH_WORDS} words")
        return q

    @model_validator(mode="after")
    def _decode_cursor(self, info: ValidationInfo) -> "TaskListQuery":
        if self.q is not None:
            _reject_nul(self.q)
        self._owner = (info.context or {}).get("owner", "")
        if self.cursor is not None:
            position = decode_cursor(self.cursor, self.fingerprint())
            column, _default = SORT_COLUMNS[self.sort]
            if len(position) != (1 if column is None else 2):
                raise InvalidCursor("cursor is not valid")
            if column is not None:
                position[0] = typed_position(column, position[0])
            self._position = position
        return self

    @property
    def direction(self) -> Order:
        return self.order or SORT_COLUMNS[self.sort][1]

    def fingerprint(self) -> str:
        """Binds a cursor to the query that made it: the same owner, filters, sort and order."""
        fields = self.model_dump(mode="json", exclude={"limit", "cursor", "order"})
        fields["order"] = self.direction
        fields["owner"] = self._owner
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        return digest[:16]

    def statements(self) -> ListStatements:
        """This query's statements, built once per shape (which filters, sort, page start)."""
        position = self._position
        start: Literal["id", "value", "undated"] | None = None
        if position is not None:
            start = "id" if len(position) == 1 else "undated" if position[0] is None else "value"
        shape = Shape(
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
        return statements_for(shape)

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
        column, _default = SORT_COLUMNS[self.sort]
        position: list[Any] = [last["id"]]
        if column is not None:
            value = last[column.key]
            position.insert(0, value.isoformat() if isinstance(value, datetime) else value)
        return encode_cursor(self.fingerprint(), position)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
