"""What the task tools take and give back, derived from the REST API's own models.

A tool's input is the REST request body it stands for (`TaskCreate`, `TaskUpdate`, the list's
query), so a field added there appears in the tools too, with the same validation and the same
messages. Every input model forbids unknown fields: a `user_id` argument is refused, never
read. The user is the verified token's, bound when the tools are made (`tools.TaskTools`).
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from todo_api.tasks.list_query import TaskListQuery
from todo_api.tasks.models import TASK_ID_MAX
from todo_api.tasks.schemas import JSONInt, TaskCreate, TaskPublic, TaskUpdate

MAX_LISTED_TASKS = 100  # a model reads every task it lists: pages stay small


def _task_id() -> Any:
    # As a field default: pydantic leaves constraints inside an Annotated with a
    # BeforeValidator (JSONInt) out of the JSON Schema.
    return Field(ge=1, le=TASK_ID_MAX, description="The task's id.")


class AddTaskArguments(TaskCreate):
    """A new task: a title, and optionally everything else."""


class UpdateTaskArguments(TaskUpdate):
    """The task's id and the fields to change; fields left out keep their values."""

    task_id: JSONInt = _task_id()

    def changes(self) -> TaskUpdate:
        """The fields sent, as the REST update body (which knows nothing of `task_id`)."""
        sent = self.model_dump(exclude={"task_id"}, exclude_unset=True)
        return TaskUpdate.model_validate(sent)


class CompleteTaskArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: JSONInt = _task_id()
    completed: StrictBool | None = Field(
        default=None, description="true: done, false: not done; left out: toggle."
    )


class DeleteTaskArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: JSONInt = _task_id()


class ListTasksArguments(TaskListQuery):
    """The list's filters, search, sort and pages, as the REST list of tasks takes them."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=MAX_LISTED_TASKS)
    cursor: str | None = Field(
        default=None, max_length=4096, description="`next_cursor` of the previous page."
    )


class TaskResult(BaseModel):
    """The task a tool changed, with its id, what happened, and its title."""

    task_id: int
    status: Literal["created", "updated", "completed", "pending"]
    title: str
    task: TaskPublic


class CompletionResult(TaskResult):
    next_occurrence: TaskPublic | None = Field(
        default=None, description="Completing a recurring task creates its next occurrence."
    )


class DeletedResult(BaseModel):
    task_id: int
    status: Literal["deleted"]
    title: str


class TaskListResult(BaseModel):
    tasks: list[TaskPublic]
    total: int = Field(description="Tasks matching the filters, on all pages.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments (the REST body's examples left out: they lack
    the tool's own fields)."""
    schema = model.model_json_schema()
    schema.pop("examples", None)
    schema["additionalProperties"] = False
    return schema


def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")
