"""HTTP routes for a user's tasks: each declares its contract and calls one service function.

Task responses are serialised straight from the stored rows, once (the schemas in
`response_model` document them; the test suite checks every response against them).
"""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from todo_api.db.executor import Row
from todo_api.errors import PreconditionRequired, Problem
from todo_api.tasks import batch, service
from todo_api.tasks.batch import TaskBatch, check_references
from todo_api.tasks.conditional import Versions, if_match_versions, list_etag, none_match, task_etag
from todo_api.tasks.dependencies import OwnerPath, TaskIdPath, repository_of
from todo_api.tasks.idempotency import fingerprint, idempotency_key, respond_once
from todo_api.tasks.list_query import TaskListQuery
from todo_api.tasks.repository import TaskRepository
from todo_api.tasks.schemas import (
    BatchResults,
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
        "description": "The body is not UTF-8 text or is nested too deep to parse, or the "
        "Idempotency-Key header is malformed",
    },
    status.HTTP_413_CONTENT_TOO_LARGE: {**_PROBLEM, "description": "Body too large"},
}
_REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response to an earlier request with "
        "the same Idempotency-Key",
        "schema": {"type": "string"},
    }
}
_TASK_HEADERS = {
    "ETag": {"description": 'Strong: `"v<version>"`.', "schema": {"type": "string"}},
    **_REPLAY_HEADER,
}
_LOCATION = {"Location": {"description": "The task's URL.", "schema": {"type": "string"}}}
# Writes that take an Idempotency-Key.
_IDEMPOTENT: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {
        **_PROBLEM,
        "description": "A request with the same Idempotency-Key is still running",
    },
}
_CONDITIONAL_WRITE: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    **_BODY,
    **_IDEMPOTENT,
    status.HTTP_200_OK: {"headers": _TASK_HEADERS},
    status.HTTP_412_PRECONDITION_FAILED: {
        **_PROBLEM,
        "description": "`If-Match` does not name the task's ETag (the current one is in `ETag`)",
    },
    status.HTTP_428_PRECONDITION_REQUIRED: {
        **_PROBLEM,
        "description": "`If-Match` is required (REQUIRE_IF_MATCH)",
    },
}
Handler = Callable[[TaskRepository], Awaitable[Response]]

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
                "ETag": {"description": "Weak; changes with any write of the user's tasks."},
            }
        },
        status.HTTP_304_NOT_MODIFIED: {"description": "`If-None-Match` names the list's ETag"},
    },
    openapi_extra={"parameters": TaskListQuery.openapi_parameters()},
)
async def list_tasks(user_id: OwnerPath, request: Request) -> Response:
    """List the user's tasks: filter, search, sort, and page with `Link: rel="next"`."""
    query = TaskListQuery.from_query(request.query_params, owner=user_id)
    repo = repository_of(request)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:  # answered from the change counter alone when unchanged
        etag = list_etag(await service.list_changes(repo, owner=user_id), request.url.query)
        if none_match(if_none_match, etag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    page = await service.list_tasks(repo, owner=user_id, query=query)
    headers = {"X-Total-Count": str(page.total), "ETag": list_etag(page.changes, request.url.query)}
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
        **_BODY,
        status.HTTP_201_CREATED: {"headers": {**_TASK_HEADERS, **_LOCATION}},
        status.HTTP_409_CONFLICT: {
            **_PROBLEM,
            "description": "The user's task limit is reached, or the Idempotency-Key is in use",
        },
    },
)
async def create_task(user_id: OwnerPath, body: TaskCreate, request: Request) -> Response:
    """Create a task; its URL is in the `Location` header."""
    max_tasks = settings_of(request).max_tasks_per_user

    async def create(repo: TaskRepository) -> Response:
        task = await service.create_task(repo, owner=user_id, data=body, max_tasks=max_tasks)
        # The task's URL is the collection's plus its id (`url_for` searches every route).
        location = f"{_without_query(request)}/{task['id']}"
        return _task(task, status_code=status.HTTP_201_CREATED, headers={"Location": location})

    return await _write(request, user_id, body, create)


@router.post(
    "/batch",
    response_model=BatchResults,
    responses={
        status.HTTP_200_OK: {"headers": _REPLAY_HEADER},
        status.HTTP_404_NOT_FOUND: {**_PROBLEM, "description": "An operation's task is not found"},
        status.HTTP_409_CONFLICT: {
            **_PROBLEM,
            "description": "The task limit is reached, or the Idempotency-Key is in use",
        },
        status.HTTP_412_PRECONDITION_FAILED: {
            **_PROBLEM,
            "description": "An operation's `if_match` does not name its task's ETag",
        },
        **_BODY,
    },
)
async def run_batch(user_id: OwnerPath, body: TaskBatch, request: Request) -> Response:
    """Apply up to 100 operations atomically: all of them, or none (then the failing one's
    status, its index in `errors`)."""
    check_references(body)
    # The request itself was counted once by the gate: each further operation counts too.
    if len(body.operations) > 1:
        await request.state.rate_limiter.spend_user(user_id, len(body.operations) - 1)
    max_tasks = settings_of(request).max_tasks_per_user

    async def apply(repo: TaskRepository) -> Response:
        results = await batch.run_batch(repo, owner=user_id, batch=body, max_tasks=max_tasks)
        return _json({"results": results})

    return await _write(request, user_id, body, apply)


@router.get(
    "/{task_id}",
    response_model=TaskPublic,
    responses={
        **_NOT_FOUND,
        status.HTTP_200_OK: {"headers": _TASK_HEADERS},
        status.HTTP_304_NOT_MODIFIED: {"description": "`If-None-Match` names the task's ETag"},
    },
)
async def get_task(user_id: OwnerPath, task_id: TaskIdPath, request: Request) -> Response:
    """Fetch one task (a 304 if `If-None-Match` names its ETag)."""
    task = await service.get_task(repository_of(request), owner=user_id, task_id=task_id)
    etag = task_etag(task["version"])
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return _task(task)


@router.put("/{task_id}", response_model=TaskPublic, responses=_CONDITIONAL_WRITE)
async def update_task(
    user_id: OwnerPath, task_id: TaskIdPath, body: TaskUpdate, request: Request
) -> Response:
    """Update a task; fields left out keep their values (`If-Match`: only that version)."""
    if_match = _if_match(request)

    async def update(repo: TaskRepository) -> Response:
        task = await service.update_task(
            repo, owner=user_id, task_id=task_id, data=body, if_match=if_match
        )
        return _task(task)

    return await _write(request, user_id, body, update)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **{code: spec for code, spec in _CONDITIONAL_WRITE.items() if code != status.HTTP_200_OK},
        status.HTTP_204_NO_CONTENT: {"headers": _REPLAY_HEADER},
    },
)
async def delete_task(user_id: OwnerPath, task_id: TaskIdPath, request: Request) -> Response:
    """Delete a task (`If-Match`: only that version)."""
    if_match = _if_match(request)

    async def remove(repo: TaskRepository) -> Response:
        await service.delete_task(repo, owner=user_id, task_id=task_id, if_match=if_match)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return await _write(request, user_id, None, remove)


@router.patch(
    "/{task_id}/complete", response_model=TaskCompletionResult, responses=_CONDITIONAL_WRITE
)
async def complete_task(
    user_id: OwnerPath,
    task_id: TaskIdPath,
    request: Request,
    body: TaskCompletion | None = None,
) -> Response:
    """Toggle completion with no body, or set it with `{"completed": true|false}`.

    Completing a recurring task creates its next occurrence, returned as `next_occurrence`.
    Send an `Idempotency-Key` with a toggle: a retried toggle then does not flip it back.
    """
    completed = body.completed if body is not None else None
    if_match = _if_match(request)

    async def complete(repo: TaskRepository) -> Response:
        change = await service.set_completion(
            repo, owner=user_id, task_id=task_id, completed=completed, if_match=if_match
        )
        following = change.next_occurrence
        content = task_json(change.task) | {"next_occurrence": following and task_json(following)}
        return _json(content, headers={"ETag": task_etag(change.task["version"])})

    return await _write(request, user_id, body, complete)


async def _write(
    request: Request, owner: str, body: BaseModel | None, handler: Handler
) -> Response:
    """Run a write, once per Idempotency-Key when the request carries one."""
    key = idempotency_key(request)
    repo = repository_of(request)
    if key is None:
        return await handler(repo)
    settings = settings_of(request)
    sent = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    return await respond_once(
        request,
        repo,
        owner=owner,
        key=key,
        request_hash=fingerprint(request, sent),
        ttl_seconds=settings.idempotency_key_ttl_seconds,
        retry_after=settings.db_retry_after,
        handler=handler,
    )


def _if_match(request: Request) -> Versions | None:
    headers = request.headers.getlist("if-match")
    if not headers:
        if settings_of(request).require_if_match:
            raise PreconditionRequired(
                "This server requires If-Match on changes: send the task's ETag (from a GET)."
            )
        return None
    return if_match_versions(", ".join(headers))


def _task(task: Row, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return _json(
        task_json(task),
        status_code=status_code,
        headers={"ETag": task_etag(task["version"]), **(headers or {})},
    )


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
