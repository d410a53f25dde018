"""What the task routes take from a request: path parameters (validated before any database
work) and the repository."""

from typing import Annotated

from fastapi import Path, Request

from todo_api.tasks.models import TASK_ID_MAX, USER_ID_MAX_LENGTH
from todo_api.tasks.repository import TaskRepository

OwnerPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=USER_ID_MAX_LENGTH,
        # No control characters: user ids are opaque printable strings.
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The signed-in user's id; only their tasks are visible.",
    ),
]
TaskIdPath = Annotated[
    int, Path(gt=0, le=TASK_ID_MAX, description="The task's id (a positive 32-bit integer).")
]


def repository_of(request: Request) -> TaskRepository:
    """The task repository the lifespan built (read from state rather than declared as a
    dependency: FastAPI's dependency solving cost more per request than the query)."""
    repository: TaskRepository = request.state.tasks
    return repository
