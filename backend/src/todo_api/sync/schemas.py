"""What the change feed and the live stream take and return."""

from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import QueryParams

from todo_api.sync.feed import MAX_TOKEN_LENGTH, Change
from todo_api.tasks.schemas import TaskPublic, task_json

MAX_CHANGES_PAGE = 500

SINCE = (
    "A token from an earlier response's `next` (or an event's `id`): the changes after it. "
    "Left out: a snapshot of the current tasks."
)


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def from_query(cls, params: QueryParams) -> Any:
        try:
            return cls.model_validate(dict(params))
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**error, "loc": ("query", *error["loc"])} for error in errors]
            ) from None

    @classmethod
    def openapi_parameters(cls) -> list[dict[str, Any]]:
        schema = cls.model_json_schema()
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {k: v for k, v in field.items() if k != "description"},
                "description": field.get("description", ""),
            }
            for name, field in schema["properties"].items()
        ]


Token = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]


class ChangesQuery(_Query):
    since: Token | None = Field(default=None, description=SINCE)
    limit: int = Field(default=100, ge=1, le=MAX_CHANGES_PAGE, description="Changes per page.")


class EventsQuery(_Query):
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
