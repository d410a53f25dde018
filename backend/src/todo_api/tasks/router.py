"""HTTP routes for a user's tasks: each declares its contract and calls one service function."""

from typing import Any

from fastapi import APIRouter, Request, Response, status

from todo_api.auth.dependencies import AuthorizedUser
from todo_api.database import SessionDep
from todo_api.errors import Problem
from todo_api.tasks import service
from todo_api.tasks.dependencies import TaskIdPath
from todo_api.tasks.models import Task
from todo_api.tasks.schemas import TaskCompletion, TaskCreate, TaskPublic, TaskUpdate

_PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {**_PROBLEM, "description": "Missing, invalid or expired token"},
    status.HTTP_403_FORBIDDEN: {**_PROBLEM, "description": "The token is for another user"},
    status.HTTP_422_UNPROCESSABLE_CONTENT: {**_PROBLEM, "description": "Invalid input"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {**_PROBLEM, "description": "Database unavailable"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {**_PROBLEM, "description": "No such task for this user"},
}

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=_ERRORS)


@router.get("", response_model=list[TaskPublic])
async def list_tasks(user_id: AuthorizedUser, session: SessionDep) -> Any:
    """List the user's tasks, newest first."""
    return await service.list_tasks(session, owner=user_id)


@router.post(
    "",
    response_model=TaskPublic,
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_413_CONTENT_TOO_LARGE: {**_PROBLEM, "description": "Body too large"}},
)
async def create_task(
    user_id: AuthorizedUser,
    body: TaskCreate,
    session: SessionDep,
    request: Request,
    response: Response,
) -> Task:
    """Create a task; its URL is in the `Location` header."""
    task = await service.create_task(session, owner=user_id, data=body)
    response.headers["Location"] = str(
        request.url_for("get_task", user_id=user_id, task_id=task.id)
    )
    return task


@router.get("/{task_id}", response_model=TaskPublic, responses=_NOT_FOUND)
async def get_task(user_id: AuthorizedUser, task_id: TaskIdPath, session: SessionDep) -> Task:
    """Fetch one task."""
    return await service.get_task(session, owner=user_id, task_id=task_id)


@router.put("/{task_id}", response_model=TaskPublic, responses=_NOT_FOUND)
async def update_task(
    user_id: AuthorizedUser, task_id: TaskIdPath, body: TaskUpdate, session: SessionDep
) -> Task:
    """Update a task; fields left out keep their values."""
    return await service.update_task(session, owner=user_id, task_id=task_id, data=body)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_task(user_id: AuthorizedUser, task_id: TaskIdPath, session: SessionDep) -> None:
    """Delete a task."""
    await service.delete_task(session, owner=user_id, task_id=task_id)


@router.patch("/{task_id}/complete", response_model=TaskPublic, responses=_NOT_FOUND)
async def complete_task(
    user_id: AuthorizedUser,
    task_id: TaskIdPath,
    session: SessionDep,
    body: TaskCompletion | None = None,
) -> Task:
    """Toggle completion with no body, or set it with `{"completed": true|false}`."""
    completed = body.completed if body is not None else None
    return await service.set_completion(
        session, owner=user_id, task_id=task_id, completed=completed
    )
