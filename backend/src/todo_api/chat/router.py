"""HTTP routes of the chat: a message in, the assistant's answer out; conversations read back.

Behind the auth gate like every `/api/{user_id}/...` route: the token's user is the path's.
"""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError

from todo_api.assistant.tools import TaskTools
from todo_api.auth.rate_limit import RateLimiter
from todo_api.chat import service
from todo_api.chat.list_query import ConversationListQuery, MessageListQuery
from todo_api.chat.model import ChatModel
from todo_api.chat.repository import ChatRepository
from todo_api.chat.schemas import (
    ChatReply,
    ChatRequest,
    ConversationPublic,
    MessagePublic,
    conversation_json,
    message_json,
)
from todo_api.tasks import openapi_docs as docs
from todo_api.tasks.dependencies import OwnerPath, repository_of
from todo_api.tasks.models import TASK_ID_MAX
from todo_api.web.app_state import database_of, settings_of
from todo_api.web.direct_route import DirectRoute
from todo_api.web.openapi import operation_id
from todo_api.web.urls import with_cursor

ConversationIdPath = Annotated[
    int, Path(gt=0, le=TASK_ID_MAX, description="The conversation's id (from `chat`).")
]

router = APIRouter(
    prefix="/api/{user_id}",
    tags=["assistant"],
    responses=docs.ERRORS,
    route_class=DirectRoute,
    generate_unique_id_function=operation_id,
)

_CONVERSATION_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {**docs.PROBLEM, "description": "No such conversation for this user"}
}
_PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {
        "headers": {
            "X-Total-Count": {"description": "Items in the list, on all pages."},
            "Link": {"description": 'The next page: `<url>; rel="next"` (absent on the last).'},
        }
    }
}


@router.post(
    "/chat",
    response_model=ChatReply,
    responses={
        **docs.BODY,
        **_CONVERSATION_NOT_FOUND,
        status.HTTP_502_BAD_GATEWAY: {
            **docs.PROBLEM,
            "description": "The model failed (the message is stored)",
        },
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            **docs.PROBLEM,
            "description": "Chat is not configured, or the database is unavailable",
        },
        status.HTTP_504_GATEWAY_TIMEOUT: {
            **docs.PROBLEM,
            "description": "The model did not answer in time (the message is stored)",
        },
    },
)
async def chat(user_id: OwnerPath, body: ChatRequest, request: Request) -> Response:
    """Send a message to the assistant, which may use the task tools, and get its answer."""
    settings = settings_of(request)
    if len(body.message) > settings.chat_max_message_chars:
        raise RequestValidationError([_too_long(settings.chat_max_message_chars)])
    limiter: RateLimiter = request.state.rate_limiter

    async def count_tool_call() -> None:  # the message was counted by the gate; each call too
        await limiter.spend_user(user_id)

    tools = TaskTools(
        repo=repository_of(request),
        owner=user_id,
        max_tasks=settings.max_tasks_per_user,
        before_call=count_tool_call,
    )
    model: ChatModel | None = request.state.chat_model
    turn = await service.chat(
        ChatRepository(database_of(request)),
        model,
        tools,
        conversation_id=body.conversation_id,
        message=body.message,
        history_size=settings.chat_history_messages,
    )
    reply = {
        "conversation_id": turn.conversation_id,
        "response": turn.response,
        "tool_calls": turn.tool_calls,
    }
    return _json(reply)


@router.get(
    "/conversations",
    response_model=list[ConversationPublic],
    responses=_PAGE_HEADERS,
    openapi_extra={"parameters": ConversationListQuery.openapi_parameters()},
)
async def list_conversations(user_id: OwnerPath, request: Request) -> Response:
    """The user's conversations, the most recently active first; page with `Link: rel="next"`."""
    query = ConversationListQuery.from_query(request.query_params, owner=user_id)
    page = await service.list_conversations(
        ChatRepository(database_of(request)), owner=user_id, query=query
    )
    return _page(request, [conversation_json(row) for row in page.rows], page)


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=list[MessagePublic],
    responses={**_CONVERSATION_NOT_FOUND, **_PAGE_HEADERS},
    openapi_extra={"parameters": MessageListQuery.openapi_parameters()},
)
async def list_messages(
    user_id: OwnerPath, conversation_id: ConversationIdPath, request: Request
) -> Response:
    """A conversation's messages, oldest first (`order=desc`: newest first), with the tool
    calls of each answer; page with `Link: rel="next"`."""
    query = MessageListQuery.from_query(
        request.query_params, owner=user_id, conversation=conversation_id
    )
    page = await service.list_messages(
        ChatRepository(database_of(request)),
        owner=user_id,
        conversation_id=conversation_id,
        query=query,
    )
    return _page(request, [message_json(row) for row in page.rows], page)


def _page(request: Request, items: list[dict[str, Any]], page: service.Page) -> Response:
    headers = {"X-Total-Count": str(page.total)}
    if page.next_cursor is not None:
        headers["Link"] = f'<{with_cursor(request, page.next_cursor)}>; rel="next"'
    return _json(items, headers=headers)


def _too_long(limit: int) -> dict[str, Any]:
    # As pydantic words a max_length failure, so clients see one kind of error for both.
    return {
        "type": "string_too_long",
        "loc": ("body", "message"),
        "msg": f"String should have at most {limit} characters",
        "input": None,
        "ctx": {"max_length": limit},
    }


def _json(content: Any, *, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, status.HTTP_200_OK, headers, media_type="application/json")
