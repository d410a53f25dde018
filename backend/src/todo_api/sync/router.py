"""HTTP routes for sync: the change feed, and the live stream of the same changes."""

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response, status
from starlette.responses import StreamingResponse

from todo_api.auth.gate import bearer_token
from todo_api.auth.verifier import TokenVerifier
from todo_api.sync.feed import FeedPosition, now_position, read_changes
from todo_api.sync.hub import ChangeHub
from todo_api.sync.schemas import ChangePage, ChangesQuery, EventsQuery, change_json
from todo_api.sync.stream import EVENT_PAGE, event_stream
from todo_api.tasks import openapi_docs as docs
from todo_api.tasks.dependencies import OwnerPath, repository_of
from todo_api.web.app_state import settings_of
from todo_api.web.direct_route import DirectRoute
from todo_api.web.headers import header_value
from todo_api.web.openapi import operation_id

router = APIRouter(
    prefix="/api/{user_id}",
    tags=["sync"],
    responses=docs.ERRORS,
    route_class=DirectRoute,
    generate_unique_id_function=operation_id,
)

_TOKEN_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status.HTTP_400_BAD_REQUEST: {
        **docs.PROBLEM,
        "description": "The token is malformed or another user's: start again without it",
    },
    status.HTTP_410_GONE: {
        **docs.PROBLEM,
        "description": "The token is older than deleted tasks are remembered (TOMBSTONE_RETENTION_"
        "DAYS): resync from a snapshot (no `since`)",
    },
}
_EVENTS = """Event kinds (`event:`): `task.created`, `task.updated`, `task.deleted`,
`reminder.due` (the task's `remind_at` has passed). `id:` is the change-feed token after the
event, `data:` the task as JSON (for `task.deleted`, `{"id": <id>}`). A comment line is sent at
least every EVENTS_HEARTBEAT_SECONDS (15 s). Example:

```
id: WyJjMSIsIjVkNDE0MDJhYmM0YjJhNzYiLDEzLDcsMTNd
event: task.created
data: {"id":7,"title":"Buy milk",...}
```
"""


@router.get(
    "/tasks/changes",
    response_model=ChangePage,
    responses=_TOKEN_PROBLEMS,
    openapi_extra={"parameters": ChangesQuery.openapi_parameters()},
)
async def list_changes(user_id: OwnerPath, request: Request) -> Response:
    """What changed since a token, deletions included, in the order the changes committed.

    Without `since`: a snapshot of the current tasks, paged the same way. Follow `next` while
    `has_more`, then keep the last `next` for the following sync.
    """
    query = ChangesQuery.from_query(request.query_params)
    start = None if query.since is None else FeedPosition.decode(query.since, user_id)
    settings = settings_of(request)
    page = await read_changes(
        repository_of(request).db,
        user_id,
        start,
        limit=query.limit,
        retention_days=settings.tombstone_retention_days,
    )
    content = {
        "changes": [change_json(change) for change in page.changes],
        "next": page.next.encode(user_id),
        "has_more": page.has_more,
    }
    body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        **_TOKEN_PROBLEMS,
        status.HTTP_200_OK: {
            "description": "A stream of server-sent events.\n\n" + _EVENTS,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
    openapi_extra={
        "parameters": [
            *EventsQuery.openapi_parameters(),
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "Sent by a reconnecting EventSource: resume after that event.",
                "schema": {"type": "string"},
            },
        ]
    },
)
async def stream_events(user_id: OwnerPath, request: Request) -> Response:
    """Live changes of the user's tasks as server-sent events (`text/event-stream`).

    Browsers: the native `EventSource` cannot send `Authorization`; use a fetch-based
    client such as `@microsoft/fetch-event-source`. The stream ends when the token expires
    or the server stops; reconnect with a fresh token and the last event's `id` as
    `Last-Event-ID` to continue with nothing missed and nothing repeated.
    """
    query = EventsQuery.from_query(request.query_params)
    since = header_value(request, b"last-event-id") or query.since
    settings = settings_of(request)
    repo = repository_of(request)
    if since:
        start = FeedPosition.decode(since, user_id)
    else:
        start = now_position(await repo.changes(user_id))
    # Read before the response starts: a bad or expired token is still a 4xx problem.
    first = await read_changes(
        repo.db,
        user_id,
        start,
        limit=EVENT_PAGE,
        retention_days=settings.tombstone_retention_days,
    )
    verifier: TokenVerifier = request.state.verifier
    token = bearer_token(request.scope)
    hub: ChangeHub = request.state.events
    stream = event_stream(
        repo.db,
        hub,
        owner=user_id,
        first=first,
        heartbeat=settings.events_heartbeat_seconds,
        valid_until=verifier.valid_until(token) if token else None,
        retention_days=settings.tombstone_retention_days,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
