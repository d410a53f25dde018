"""HTTP routes for a user's tasks: each declares its contract and calls one service function.

Task responses are serialised straight from the stored rows, once (the schemas in
`response_model` document them; the test suite checks every response against them).
"""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from todo_api.db.executor import Row
from todo_api.errors import PreconditionRequired
from todo_api.tasks import batch, service
from todo_api.tasks import openapi_docs as docs
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
from todo_api.web.headers import header_value, header_values
from todo_api.web.openapi import operation_id
from todo_api.web.urls import with_cursor, without_query

Handler = Callable[[TaskRepository], Awaitable[Response]]


router = APIRouter(
    prefix="/api/{user_id}/tasks",
    tags=["tasks"],
    responses=docs.ERRORS,
    route_class=DirectRoute,
    generate_unique_id_function=operation_id,
)
tags_router = APIRouter(
    prefix="/api/{user_id}/tags",
    tags=["tasks"],
    responses=docs.ERRORS,
    generate_unique_id_function=operation_id,
)


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
    openapi_extra={"parameters": [*TaskListQuery.openapi_parameters(), docs.IF_NONE_MATCH]},
)
async def list_tasks(user_id: OwnerPath, request: Request) -> Response:
    """List the user's tasks: filter, search, sort, and page with `Link: rel="next"`."""
    query = TaskListQuery.from_query(request.query_params, owner=user_id)
    repo = repository_of(request)
    # `overdue` compares with the clock: such a list changes with no write, so it has no ETag.
    cacheable = query.overdue is None
    if_none_match = header_value(request, b"if-none-match") if cacheable else None
    query_string: bytes = request.scope["query_string"]
    if if_none_match is not None:  # answered from the change counter alone when unchanged
        etag = list_etag(await service.list_changes(repo, owner=user_id), query_string)
        if none_match(if_none_match, etag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    page = await service.list_tasks(repo, owner=user_id, query=query)
    headers = {"X-Total-Count": str(page.total)}
    if cacheable:
        headers["ETag"] = list_etag(page.changes, query_string)
    if page.next_cursor is not None:
        headers["Link"] = f'<{with_cursor(request, page.next_cursor)}>; rel="next"'
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
        **docs.BODY,
        status.HTTP_201_CREATED: {"headers": {**docs.TASK_HEADERS, **docs.LOCATION}},
        status.HTTP_409_CONFLICT: {
            **docs.PROBLEM,
            "description": "The user's task limit is reached, or the Idempotency-Key is in use",
        },
    },
    openapi_extra=docs.WRITE_HEADERS,
)
async def create_task(user_id: OwnerPath, body: TaskCreate, request: Request) -> Response:
    """Create a task; its URL is in the `Location` header."""
    max_tasks = settings_of(request).max_tasks_per_user

    async def create(repo: TaskRepository) -> Response:
        task = await service.create_task(repo, owner=user_id, data=body, max_tasks=max_tasks)
        # The task's URL is the collection's plus its id (`url_for` searches every route).
        location = f"{without_query(request)}/{task['id']}"
        return _task(task, status_code=status.HTTP_201_CREATED, headers={"Location": location})

    return await _write(request, user_id, body, create)


@router.post(
    "/batch",
    response_model=BatchResults,
    responses={
        status.HTTP_200_OK: {"headers": docs.REPLAY_HEADER},
        status.HTTP_404_NOT_FOUND: {
            **docs.PROBLEM,
            "description": "An operation's task is not found",
        },
        status.HTTP_409_CONFLICT: {
            **docs.PROBLEM,
            "description": "The task limit is reached, or the Idempotency-Key is in use",
        },
        status.HTTP_412_PRECONDITION_FAILED: {
            **docs.PROBLEM,
            "description": "An operation's `if_match` does not name its task's ETag",
        },
        **docs.BODY,
    },
    openapi_extra=docs.WRITE_HEADERS,
)
async def apply_batch(user_id: OwnerPath, body: TaskBatch, request: Request) -> Response:
    """Apply up to 100 operations atomically: all of them, or none (then the failing one's
    status, its index in `errors`)."""
    check_references(body)
    # The request itself was counted once by the gate: each further operation counts too.
    if len(body.operations) > 1:
        await request.state.rate_limiter.spend_user(user_id, len(body.operations) - 1)
    settings = settings_of(request)

    async def apply(repo: TaskRepository) -> Response:
        results = await batch.run_batch(
            repo,
            owner=user_id,
            batch=body,
            max_tasks=settings.max_tasks_per_user,
            require_if_match=settings.require_if_match,
        )
        return _json({"results": results})

    return await _write(request, user_id, body, apply)


@router.get(
    "/{task_id}",
    response_model=TaskPublic,
    responses={
        **docs.NOT_FOUND,
        status.HTTP_200_OK: {"headers": docs.TASK_HEADERS},
        status.HTTP_304_NOT_MODIFIED: {"description": "`If-None-Match` names the task's ETag"},
    },
    openapi_extra={"parameters": [docs.IF_NONE_MATCH]},
)
async def get_task(user_id: OwnerPath, task_id: TaskIdPath, request: Request) -> Response:
    """Fetch one task (a 304 if `If-None-Match` names its ETag)."""
    task = await service.get_task(repository_of(request), owner=user_id, task_id=task_id)
    etag = task_etag(task["version"])
    if none_match(header_value(request, b"if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return _task(task)


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    responses=docs.CONDITIONAL_WRITE,
    openapi_extra=docs.CONDITIONAL_HEADERS,
)
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
        **{
            code: spec
            for code, spec in docs.CONDITIONAL_WRITE.items()
            if code != status.HTTP_200_OK
        },
        status.HTTP_204_NO_CONTENT: {"headers": docs.REPLAY_HEADER},
    },
    openapi_extra=docs.CONDITIONAL_HEADERS,
)
async def delete_task(user_id: OwnerPath, task_id: TaskIdPath, request: Request) -> Response:
    """Delete a task (`If-Match`: only that version)."""
    if_match = _if_match(request)

    async def remove(repo: TaskRepository) -> Response:
        await service.delete_task(repo, owner=user_id, task_id=task_id, if_match=if_match)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return await _write(request, user_id, None, remove)


@router.patch(
    "/{task_id}/complete",
    response_model=TaskCompletionResult,
    responses=docs.CONDITIONAL_WRITE,
    openapi_extra=docs.CONDITIONAL_HEADERS,
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
    headers = header_values(request, b"if-match")
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


def _json(
    content: Any, *, status_code: int = status.HTTP_200_OK, headers: dict[str, str] | None = None
) -> Response:
    # orjson: several times faster than generic serialisers on a page of tasks; UTC as "Z",
    # as pydantic writes it.
    body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, status_code, headers, media_type="application/json")
