"""What clients send and receive.

Request bodies forbid unknown fields and never bind to the table model.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)

from todo_api.tasks.models import (
    DESCRIPTION_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Frequency,
    Priority,
)

MAX_TAGS_PER_TASK = 20
MAX_RECURRENCE_INTERVAL = 365


def _reject_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; refusing it here keeps both databases alike.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


# asyncpg writes the first and last representable instants as PostgreSQL's -infinity and
# infinity, and reads those back without an offset: they would not come back as sent.
_UNSTORABLE = {datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)}


def as_utc(value: datetime) -> datetime:
    """An instant without an offset is taken as UTC."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc


def _storable(instant: datetime) -> datetime:
    if instant in _UNSTORABLE:
        raise ValueError("is out of range")
    return instant


def _unique_tags(tags: list[str]) -> list[str]:
    # Tags are case-insensitive: stored lower-cased, first occurrence kept in order.
    return list(dict.fromkeys(tags))


def _trimmed(max_length: int, *, lower: bool = False) -> AfterValidator:
    """Python's own strip() and lower(), so the rules match what sorting and search fold."""

    def clean(value: str) -> str:
        # Measured as stored: lower-casing can lengthen text ("İ" becomes two characters).
        value = value.strip().lower() if lower else value.strip()
        if not value:
            raise ValueError("must not be blank")
        if len(value) > max_length:
            trimmed = "after trimming and lower-casing" if lower else "after trimming"
            raise ValueError(f"must be at most {max_length} characters {trimmed}")
        return _reject_nul(value)

    return AfterValidator(clean)


def _documented(max_length: int, pattern: str) -> Any:
    # The rules as OpenAPI shows them; the validators above enforce them with clearer messages.
    return Field(json_schema_extra={"minLength": 1, "maxLength": max_length, "pattern": pattern})


NO_NUL = Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})
# A character that is not blank as Python's strip() sees it: JSON Schema's \s leaves out
# U+001C..U+001F and U+0085, which Python strips.
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"

Title = Annotated[str, _trimmed(TITLE_MAX_LENGTH), _documented(TITLE_MAX_LENGTH, NOT_BLANK)]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH), AfterValidator(_reject_nul), NO_NUL
]
Tag = Annotated[str, _trimmed(TAG_MAX_LENGTH, lower=True), _documented(TAG_MAX_LENGTH, NOT_BLANK)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS_PER_TASK), AfterValidator(_unique_tags)]


def _iso_8601(value: Any) -> Any:
    # pydantic would also take numbers, and numeric strings, as Unix times: a client that
    # sends 0 means something, but not 1970.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMERIC.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 date-time string, such as 2026-12-01T09:00:00Z")
    return value


_NUMERIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# A bound to compare with (a list filter): any instant.
Instant = Annotated[
    datetime,
    BeforeValidator(_iso_8601),
    AfterValidator(as_utc),
    Field(json_schema_extra={"type": "string", "format": "date-time"}),
]
# A value to store: one that comes back as sent.
StoredInstant = Annotated[Instant, AfterValidator(_storable)]


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A JSON integer: 3 or 3.0 (JSON Schema counts both), never "3" or true.
JSONInt = Annotated[StrictInt, BeforeValidator(_integral)]


class _RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recurrence(_RequestBody):
    """Repeat every `interval` days, weeks or months, counted from the due date."""

    frequency: Frequency
    interval: JSONInt = Field(default=1, ge=1, le=MAX_RECURRENCE_INTERVAL)


REMIND_AT = (
    "When to send a `reminder.due` event (on `/api/{user_id}/events`); null for none. "
    "Setting another time re-arms it; completing or deleting the task cancels it. A recurring "
    "task's next occurrence keeps the same offset from its due date."
)


class TaskCreate(_RequestBody):
    """A new task: a title, and optionally everything else."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Buy milk", "description": "2 litres, oat"},
                {
                    "title": "Pay rent",
                    "priority": "high",
                    "tags": ["home"],
                    "due_at": "2026-12-01T09:00:00Z",
                    "remind_at": "2026-12-01T08:30:00Z",
                    "recurrence": {"frequency": "monthly", "interval": 1},
                },
            ]
        },
    )

    title: Title
    description: Description | None = None
    completed: StrictBool = False
    priority: Priority = Priority.MEDIUM
    tags: Tags = Field(default_factory=list)
    due_at: StoredInstant | None = None
    remind_at: StoredInstant | None = Field(default=None, description=REMIND_AT)
    recurrence: Recurrence | None = None


_NOT_NULL = ("title", "completed", "priority", "tags")


def _not_nullable(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    """Document `names` as they validate: may be left out, never null."""
    for name in names:
        field = schema["properties"][name]
        kinds = [kind for kind in field.pop("anyOf") if kind != {"type": "null"}]
        field.update(kinds[0])
        field.pop("default", None)


def _documented_update(schema: dict[str, Any]) -> None:
    _not_nullable(schema, _NOT_NULL)
    schema["examples"] = [{"title": "Buy oat milk"}, {"priority": "low", "due_at": None}]


class TaskUpdate(_RequestBody):
    """A partial update: fields left out keep their stored value."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _documented_update(schema))

    title: Title | None = None
    description: Description | None = None
    completed: StrictBool | None = None
    priority: Priority | None = None
    tags: Tags | None = None
    due_at: StoredInstant | None = None
    remind_at: StoredInstant | None = Field(default=None, description=REMIND_AT)
    recurrence: Recurrence | None = None

    @field_validator(*_NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Leaving a field out keeps it; an explicit null for these would erase a required value.
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class TaskCompletion(_RequestBody):
    """Set completion explicitly (idempotent); send no body to toggle instead."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"completed": True}]})

    completed: StrictBool


class RecurrencePublic(BaseModel):
    frequency: Frequency
    interval: int


class TaskPublic(BaseModel):
    """A task as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    priority: Priority
    tags: list[str]
    due_at: datetime | None
    remind_at: datetime | None
    reminded_at: datetime | None = Field(
        description="When its reminder was sent (null: not yet, or none set)."
    )
    completed_at: datetime | None
    recurrence: RecurrencePublic | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(
        description='1 at creation, one more on every change; the ETag is "v<version>".'
    )


class TaskCompletionResult(TaskPublic):
    """The task after a completion change, and the next occurrence if one was created."""

    # Always sent (null when none was created): required in the response's schema.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    next_occurrence: TaskPublic | None = None


class DeletedTask(BaseModel):
    id: int
    deleted: bool


class BatchResults(BaseModel):
    """One result per operation, in order: the task after it, or `{"id", "deleted": true}`."""

    results: list[TaskCompletionResult | TaskPublic | DeletedTask]


class TagCount(BaseModel):
    tag: str
    count: int


def task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored task (a `tasks` row) in the shape of TaskPublic, ready to serialise."""
    frequency = row["recurrence_frequency"]
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "title": row["title"],
        "description": row["description"],
        "completed": row["completed"],
        "priority": row["priority"],
        "tags": row["tags"],
        "due_at": row["due_at"],
        "remind_at": row["remind_at"],
        "reminded_at": row["reminded_at"],
        "completed_at": row["completed_at"],
        "recurrence": (
            None
            if frequency is None
            else {"frequency": frequency, "interval": row["recurrence_interval"]}
        ),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }
