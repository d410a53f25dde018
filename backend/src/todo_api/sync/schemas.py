"""What the change feed and the live stream take and return."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from todo_api.sync.feed import MAX_TOKEN_LENGTH, Change
from todo_api.tasks.schemas import TaskPublic, task_json
from todo_api.web.query_model import QueryModel

MAX_CHANGES_PAGE = 500

SINCE = (
    "A token from an earlier response's `next` (or an event's `id`): the changes after it. "
    "Left out: a snapshot of the current tasks."
)


Token = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]


class ChangesQuery(QueryModel):
    model_config = ConfigDict(extra="forbid")

    since: Token | None = Field(default=None, description=SINCE)
    limit: int = Field(default=100, ge=1, le=MAX_CHANGES_PAGE, description="Changes per page.")


class EventsQuery(QueryModel):
    model_config = ConfigDict(extra="forbid")

    since: Token | None = Field(
        default=None,
        description="Replay the changes after this token first (as `Last-Event-ID` does, "
        "which wins when both are sent). Left out: only changes from now on.",
    )


class TaskUpserted(BaseModel):
    type: Literal["upsert"]
    task: TaskPublic


class TaskDeleted(BaseModel):
    type: Literal["delete"]
    id: int


class ChangePage(BaseModel):
    """Changes in the order they committed; a task changed several times appears once, at
    its newest change, with its current content."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "changes": [{"type": "delete", "id": 41}],
                    "next": "WyJjMSIsIjVkNDE0MDJhYmM0YjJhNzYiLDEyLDQxLDEyXQ",
                    "has_more": False,
                }
            ]
        }
    )

    changes: list[Annotated[TaskUpserted | TaskDeleted, Field(discriminator="type")]]
    next: str = Field(description="Pass as `since` for the changes after these.")
    has_more: bool = Field(description="More changes are waiting: call again with `next` now.")


def change_json(change: Change) -> dict[str, Any]:
    if change.task is None:
        return {"type": "delete", "id": change.task_id}
    return {"type": "upsert", "task": task_json(change.task)}
