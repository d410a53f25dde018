"""HTTP routes for a user's tasks: each declares its contract and calls one service function.

Task responses are serialised straight from the stored rows, once (the schemas in
`response_model` document them; the test suite checks every response against them).
"""

from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Request, Response, status

from todo_api.errors import Problem
from todo_api.tasks import service
from todo_api.tasks.dependencies import OwnerPath, TaskIdPath, repository_of
from todo_api.tasks.list_query import TaskListQuery
from todo_api.tasks.schemas import (
    TagCount,
    TaskCompletion,
    TaskCompletionResult,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
    task_json,
)
from todo_api.web.app_state import settings_of
from todo_api.web.direct_route import DirectRoute

_PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {**_PROBLEM, "description": "Missing, invalid or expired token"},
    status.HTTP_403_FORBIDDEN: {**_PROBLEM, "description": "The token is for another user"},
    status.HTTP_429_TOO_MANY_REQUESTS: {**_PROBLEM, "description": "Rate limit exceeded"},
    status.HTTP_422_UNPROCESSABLE_CONTENT: {**_PROBLEM, "description": "Invalid input"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {**_PROBLEM, "description": "Database unavailable"},
}
# Every route here is behind the auth gate (todo_api.auth.gate): by the time a route runs,
# a valid bearer token for `user_id` was presented.
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {**_PROBLEM, "description": "No such task for this user"},
}
# Routes that read a JSON body.
_BODY: dict[int | str, dict[str, Any]] = {
    status.HTTP_400_BAD_REQUEST: {
        **_PROBLEM,
        "description": "The body is not UTF-8 text, or is nested too deep to parse",
    },
    status.HTTP_413_CONTENT_TOO_LARGE: {**_PROBLEM, "description": "Body too large"},
}

router = APIRouter(
    prefix="/api/{user_id}/tasks", tags=["tasks"], responses=_ERRORS, route_class=DirectRoute
)
tags_router = APIRouter(prefix="/api/{user_id}/tags", tags=["tasks"], responses=_ERRORS)


@router.get(
    "",
    response_model=list[TaskPublic],
    responses={
        status.HTTP_200_OK: {
            "headers": {
                "X-Total-Count": {"description": "Tasks matching the filters, on all pages."},
                "Link": {"description": 'The next page: `<url>; rel="next"` (absent on the last).'},
            }
        }
    },
    openapi_extra={"parameters": TaskListQuery.openapi_parameters()},
)
async def list_tasks(user_id: OwnerPath, request: Request) -> Response:
    """List the user's tasks: filter, search, sort, and page with `Link: rel="next"`."""
    query = TaskListQuery.from_query(request.query_params, owner=user_id)
    page = await service.list_tasks(repository_of(request), owner=user_id, query=query)
    headers = {"X-Total-Count": str(page.total)}
    if page.next_cursor is not None:
        headers["Link"] = f'<{_with_cursor(request, page.next_cursor)}>; rel="next"'
    return _json([task_json(task) for task in page.tasks], headers=headers)


@tags_router.get("", response_model=list[TagCount])
async def list_tags(user_id: OwnerPath, request: Request) -> Any:
    """The user's tags with how many tasks carry each, most used first."""
    return await service.list_tags(repository_of(request), owner=user_id)


@router.post(
    "",
    response_model=TaskPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_409_CONFLICT: {**_PROBLEM, "description": "The user's task limit is reached"},
        **_BODY,
    },
)
async def create_task(user_id: OwnerPath, body: TaskCreate, request: Request) -> Response:
    """Create a task; its URL is in the `Location` header."""
    max_tasks = settings_of(request).max_tasks_per_user
    task = await service.create_task(
        repository_of(request), owner=user_id, data=body, max_tasks=max_tasks
    )
    # The task's URL is the collection's plus its id (`url_for` searches every route).
    location = f"{_without_query(request)}/{task['id']}"
    return _json(
        task_json(task), status_code=status.HTTP_201_CREATED, headers={"Location": location}
    )


@router.get("/{task_id}", response_model=TaskPublic, responses=_NOT_FOUND)
async def get_task(user_id: OwnerPath, task_id: TaskIdPath, request: Request) -> Response:
    """Fetch one task."""
    task = await service.get_task(repository_of(request), owner=user_id, task_id=task_id)
    return _json(task_json(task))


@router.put("/{task_id}", response_model=TaskPublic, responses={**_NOT_FOUND, **_BODY})
async def update_task(
    user_id: OwnerPath, task_id: TaskIdPath, body: TaskUpdate, request: Request
) -> Response:
    """Update a task; fields left out keep their values."""
    repo = repository_of(request)
    task = await service.update_task(repo, owner=user_id, task_id=task_id, data=body)
    return _json(task_json(task))


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_task(user_id: OwnerPath, task_id: TaskIdPath, request: Request) -> Response:
    """Delete a task."""
    await service.delete_task(repository_of(request), owner=user_id, task_id=task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{task_id}/complete",
    response_model=TaskCompletionResult,
    responses={**_NOT_FOUND, **_BODY},
)
async def complete_task(
    user_id: OwnerPath,
    task_id: TaskIdPath,
    request: Request,
    body: TaskCompletion | None = None,
) -> Response:
    """Toggle completion with no body, or set it with `{"completed": true|false}`.

    Completing a recurring task creates its next occurrence, returned as `next_occurrence`.
    """
    completed = body.completed if body is not None else None
    repo = repository_of(request)
    change = await service.set_completion(repo, owner=user_id, task_id=task_id, completed=completed)
    following = change.next_occurrence
    return _json(task_json(change.task) | {"next_occurrence": following and task_json(following)})


def _with_cursor(request: Request, cursor: str) -> str:
    """This request's URL with `cursor` in place of any cursor it had."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "cursor"]
    query.append(("cursor", cursor))
    return f"{_without_query(request)}?{urlencode(query)}"


def _without_query(request: Request) -> str:
    """This request's URL without its query, the path percent-encoded: a user id may hold
    spaces, non-ASCII letters or delimiters, which Starlette's URL leaves as they are."""
    url = request.url  # scheme and host as Starlette validates them
    path = quote(request.scope["path"], safe=_PATH_SAFE)
    return f"{url.scheme}://{url.netloc}{path}" if url.netloc else path


_PATH_SAFE = "/:@!$&'()*+,;="  # what a path may hold unencoded besides unreserved characters


def _json(
    content: Any, *, status_code: int = status.HTTP_200_OK, headers: dict[str, str] | None = None
) -> Response:
    # orjson: several times faster than generic serialisers on a page of tasks; UTC as "Z",
    # as pydantic writes it.
    body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, status_code, headers, media_type="application/json")
