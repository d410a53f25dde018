"""Path parameters shared by the task routes, validated before any database work."""

from typing import Annotated

from fastapi import Path

from todo_api.tasks.models import TASK_ID_MAX, USER_ID_MAX_LENGTH

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
