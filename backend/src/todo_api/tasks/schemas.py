"""What clients send and receive.

Request bodies forbid unknown fields and never bind to the table model.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StringConstraints,
    field_validator,
)

from todo_api.tasks.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH


def _reject_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; refusing it here keeps both databases alike.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH),
    AfterValidator(_reject_nul),
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH), AfterValidator(_reject_nul)
]


class _RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskCreate(_RequestBody):
    """A new task: a title, and optionally a description and a completion state."""

    title: Title
    description: Description | None = None
    completed: StrictBool = False


class TaskUpdate(_RequestBody):
    """A partial update: fields left out keep their stored value."""

    title: Title | None = None
    description: Description | None = None
    completed: StrictBool | None = None

    @field_validator("title", "completed", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Leaving a field out keeps it; an explicit null for these would erase a required value.
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class TaskCompletion(_RequestBody):
    """Set completion explicitly (idempotent); send no body to toggle instead."""

    completed: StrictBool


class TaskPublic(BaseModel):
    """A task as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime
