"""The task tools: `add_task`, `list_tasks`, `complete_task`, `update_task`, `delete_task`.

One implementation serves MCP over HTTP and stdio and the chat endpoint's model. `TaskTools`
is bound to one user (the verified token's) and calls the task service, as the REST routes
do: the same validation, limits, not-found for other users' tasks, versions and change
counting hold. A call never raises: it gives a result, or an error the model can read (the
invalid fields and their messages, "Task 7 was not found.", ...).
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from todo_api.assistant.arguments import (
    AddTaskArguments,
    CompleteTaskArguments,
    CompletionResult,
    DeletedResult,
    DeleteTaskArguments,
    ListTasksArguments,
    TaskListResult,
    TaskResult,
    UpdateTaskArguments,
)
from todo_api.db.executor import Row
from todo_api.errors import AppError, is_outage
from todo_api.tasks import service
from todo_api.tasks.repository import TaskRepository
from todo_api.tasks.schemas import task_json

logger = logging.getLogger(__name__)

# Run before each call (may raise AppError): count it against the user's rate limit, check
# that the token is still valid. None where the transport did so (one HTTP request, one call).
BeforeCall = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ToolOutcome:
    """A tool's structured result, or the error to show the model (never both)."""

    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class TaskTools:
    """The tools, acting for `owner` only."""

    repo: TaskRepository
    owner: str
    max_tasks: int
    before_call: BeforeCall | None = None

    async def call(self, name: str, arguments: Mapping[str, Any] | None) -> ToolOutcome:
        spec = TOOLS.get(name)
        if spec is None:
            return ToolOutcome(error=f"There is no tool named {name!r}.")
        try:
            if self.before_call is not None:
                await self.before_call()
            parsed = spec.arguments.model_validate(dict(arguments or {}), context=self._context)
            return ToolOutcome(result=await spec.run(self, parsed))
        except ValidationError as exc:
            return ToolOutcome(error=f"Invalid arguments: {_field_messages(exc)}")
        except AppError as exc:  # not found, limit reached, too many requests, ...
            return ToolOutcome(error=exc.detail)
        except Exception as exc:
            if is_outage(exc):
                logger.warning("database unavailable in tool %s: %s", name, type(exc).__name__)
                return ToolOutcome(error="The database is unavailable; try again shortly.")
            logger.exception("unexpected error in tool %s", name)
            return ToolOutcome(error="An unexpected error occurred; nothing more is known.")

    @property
    def _context(self) -> dict[str, Any]:
        return {"owner": self.owner}  # binds list cursors to this user, as the REST list does

    async def add_task(self, arguments: AddTaskArguments) -> dict[str, Any]:
        task = await service.create_task(
            self.repo, owner=self.owner, data=arguments, max_tasks=self.max_tasks
        )
        return _task_result(task, "created")

    async def list_tasks(self, arguments: ListTasksArguments) -> dict[str, Any]:
        page = await service.list_tasks(self.repo, owner=self.owner, query=arguments)
        return {
            "tasks": [_json(task_json(task)) for task in page.tasks],
            "total": page.total,
            "next_cursor": page.next_cursor,
        }

    async def complete_task(self, arguments: CompleteTaskArguments) -> dict[str, Any]:
        change = await service.set_completion(
            self.repo, owner=self.owner, task_id=arguments.task_id, completed=arguments.completed
        )
        status = "completed" if change.task["completed"] else "pending"
        following = change.next_occurrence
        return _task_result(change.task, status) | {
            "next_occurrence": following and _json(task_json(following))
        }

    async def update_task(self, arguments: UpdateTaskArguments) -> dict[str, Any]:
        task = await service.update_task(
            self.repo, owner=self.owner, task_id=arguments.task_id, data=arguments.changes()
        )
        return _task_result(task, "updated")

    async def delete_task(self, arguments: DeleteTaskArguments) -> dict[str, Any]:
        task = await service.get_task(self.repo, owner=self.owner, task_id=arguments.task_id)
        await service.delete_task(self.repo, owner=self.owner, task_id=arguments.task_id)
        return {"task_id": task["id"], "status": "deleted", "title": task["title"]}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    arguments: type[BaseModel]
    result: type[BaseModel]
    run: Callable[[TaskTools, Any], Awaitable[dict[str, Any]]]
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "add_task",
            "Create a task for the user: a title, and optionally a description, priority "
            "(low, medium, high), tags, a due date (ISO 8601) and a recurrence.",
            AddTaskArguments,
            TaskResult,
            TaskTools.add_task,
        ),
        ToolSpec(
            "list_tasks",
            "List the user's tasks: filter by status (all, pending, completed), priority, tags "
            "and due dates, search words with q, sort, and page with cursor.",
            ListTasksArguments,
            TaskListResult,
            TaskTools.list_tasks,
            read_only=True,
            idempotent=True,
        ),
        ToolSpec(
            "complete_task",
            "Mark a task done (completed: true) or not done (false); without `completed` it "
            "toggles. Completing a recurring task creates its next occurrence.",
            CompleteTaskArguments,
            CompletionResult,
            TaskTools.complete_task,
        ),
        ToolSpec(
            "update_task",
            "Change a task's title, description, priority, tags, due date, recurrence or "
            "completion; fields left out keep their values.",
            UpdateTaskArguments,
            TaskResult,
            TaskTools.update_task,
            idempotent=True,
        ),
        ToolSpec(
            "delete_task",
            "Delete a task for good.",
            DeleteTaskArguments,
            DeletedResult,
            TaskTools.delete_task,
            destructive=True,
            idempotent=True,
        ),
    )
}


def _task_result(task: Row, status: str) -> dict[str, Any]:
    return {
        "task_id": task["id"],
        "status": status,
        "title": task["title"],
        "task": _json(task_json(task)),
    }


def _json(value: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values (instants as ISO 8601 UTC strings, as the REST API writes them)."""
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(value, option=orjson.OPT_UTC_Z))
    return decoded


def _field_messages(exc: ValidationError) -> str:
    """Each invalid field and its message, as a REST 422 lists them (never the values)."""
    messages = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        messages.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(messages)
