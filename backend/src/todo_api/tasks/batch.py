"""Atomic batches: up to 100 creates, updates, completions and deletes in one transaction.

All or nothing: any failing operation rolls every one back, and the answer is the status
that operation alone would get, with `errors` naming it by index. A create may carry a
`ref`; a later operation names that task as `"$ref"`.
"""

from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict, Field, StrictBool, StrictInt

from todo_api.errors import AppError, FieldError, PreconditionRequired
from todo_api.tasks import service
from todo_api.tasks.conditional import if_match_versions
from todo_api.tasks.models import TASK_ID_MAX
from todo_api.tasks.repository import TaskRepository
from todo_api.tasks.schemas import TaskCreate, TaskUpdate, _RequestBody, task_json

MAX_OPERATIONS = 100

Ref = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", examples=["groceries"])]
Target = (
    Annotated[StrictInt, Field(gt=0, le=TASK_ID_MAX)]
    | Annotated[str, Field(pattern=r"^\$[A-Za-z0-9_.:-]{1,64}$", examples=["$groceries"])]
)
ETag = Annotated[str, Field(max_length=100, examples=['"v3"'])]


class CreateOperation(_RequestBody):
    op: Literal["create"]
    ref: Ref | None = Field(default=None, description='Names the new task as "$ref" later on.')
    task: TaskCreate


class UpdateOperation(_RequestBody):
    op: Literal["update"]
    id: Target
    changes: TaskUpdate
    if_match: ETag | None = Field(default=None, description="Only if the task has this ETag.")


class CompleteOperation(_RequestBody):
    op: Literal["complete"]
    id: Target
    completed: StrictBool | None = Field(default=None, description="Left out: toggle.")
    if_match: ETag | None = None


class DeleteOperation(_RequestBody):
    op: Literal["delete"]
    id: Target
    if_match: ETag | None = None


Operation = Annotated[
    CreateOperation | UpdateOperation | CompleteOperation | DeleteOperation,
    Field(discriminator="op"),
]


class TaskBatch(_RequestBody):
    """Operations applied in order, in one transaction."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "operations": [
                        {"op": "create", "ref": "plumber", "task": {"title": "Call the plumber"}},
                        {"op": "update", "id": "$plumber", "changes": {"priority": "high"}},
                        {"op": "complete", "id": 7, "completed": True},
                        {"op": "delete", "id": 8, "if_match": '"v2"'},
                    ]
                }
            ]
        },
    )

    operations: list[Operation] = Field(min_length=1, max_length=MAX_OPERATIONS)


class BatchFailed(AppError):
    """One operation failed: its status, and its index in `errors`."""

    def __init__(self, index: int, error: AppError) -> None:
        super().__init__(
            f"Operation {index} failed, so none was applied: {error.detail}",
            headers=error.headers,
        )
        self.status_code = error.status_code
        kind = type(error).__name__
        self.errors = [FieldError(loc=["body", "operations", index], msg=error.detail, type=kind)]


def check_references(batch: TaskBatch) -> None:
    """Refuse (422) an unknown or repeated `$ref`, and a task named by two operations."""
    defined: set[str] = set()
    targeted: set[int | str] = set()
    errors = []
    for index, operation in enumerate(batch.operations):
        if isinstance(operation, CreateOperation):
            if operation.ref is not None and operation.ref in defined:
                errors.append(_error(index, "ref", "this ref is already used in the batch"))
            if operation.ref is not None:
                defined.add(operation.ref)
            continue
        target = operation.id
        if isinstance(target, str) and target[1:] not in defined:
            errors.append(_error(index, "id", "no earlier create in the batch has this ref"))
        elif target in targeted:
            errors.append(_error(index, "id", "another operation of the batch names this task"))
        targeted.add(target)
    if errors:
        raise RequestValidationError(errors)


async def run_batch(
    repo: TaskRepository,
    *,
    owner: str,
    batch: TaskBatch,
    max_tasks: int,
    require_if_match: bool = False,
) -> list[dict[str, Any]]:
    """Apply every operation in one transaction; BatchFailed (all rolled back) on the first
    that fails."""
    results: list[dict[str, Any]] = []
    refs: dict[str, int] = {}
    async with repo.transaction() as tx:
        # Every row the batch will write, locked first and in the order a single write locks
        # them (its task, then the user's counter row): a concurrent write of the same tasks
        # waits, where locking them one operation at a time could deadlock.
        targets = (getattr(operation, "id", None) for operation in batch.operations)
        for task_id in sorted({target for target in targets if isinstance(target, int)}):
            await tx.get_for_update(owner, task_id)
        await tx.lock_counters(owner)
        for index, operation in enumerate(batch.operations):
            try:
                _check_precondition(operation, require_if_match)
                results.append(await _apply(tx, owner, operation, refs, max_tasks))
            except AppError as error:
                raise BatchFailed(index, error) from error
    return results


def _check_precondition(operation: Any, required: bool) -> None:
    """REQUIRE_IF_MATCH: an existing task's change names its version (a task the batch made
    itself needs none)."""
    if required and isinstance(getattr(operation, "id", None), int) and not operation.if_match:
        raise PreconditionRequired("This server requires if_match on changes: the task's ETag.")


async def _apply(
    tx: TaskRepository, owner: str, operation: Any, refs: dict[str, int], max_tasks: int
) -> dict[str, Any]:
    if isinstance(operation, CreateOperation):
        task = await service.create_task(tx, owner=owner, data=operation.task, max_tasks=max_tasks)
        if operation.ref is not None:
            refs[operation.ref] = task["id"]
        return task_json(task)
    task_id = refs[operation.id[1:]] if isinstance(operation.id, str) else operation.id
    if_match = if_match_versions(operation.if_match)
    if isinstance(operation, UpdateOperation):
        task = await service.update_task(
            tx, owner=owner, task_id=task_id, data=operation.changes, if_match=if_match
        )
        return task_json(task)
    if isinstance(operation, CompleteOperation):
        change = await service.set_completion(
            tx, owner=owner, task_id=task_id, completed=operation.completed, if_match=if_match
        )
        following = change.next_occurrence
        return task_json(change.task) | {"next_occurrence": following and task_json(following)}
    await service.delete_task(tx, owner=owner, task_id=task_id, if_match=if_match)
    return {"id": task_id, "deleted": True}


def _error(index: int, field: str, message: str) -> dict[str, Any]:
    return {
        "type": "value_error",
        "loc": ("body", "operations", index, field),
        "msg": message,
        "input": None,
    }
