"""The rules of chat: a conversation per user, its history read back for every message, the
user's message kept whatever the model does, the answer stored with the tool calls it made.

Nothing is held between requests: any instance or worker answers any message.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from todo_api.assistant.tools import TaskTools
from todo_api.chat.list_query import ConversationListQuery, MessageListQuery
from todo_api.chat.model import ChatModel, ModelFailed, Reply, Turn
from todo_api.chat.models import CONVERSATION_TITLE_MAX_LENGTH
from todo_api.chat.repository import ChatRepository
from todo_api.db.executor import Row
from todo_api.db.types import utc_now
from todo_api.errors import AppError, NotFound, ServiceUnavailable


class ChatNotConfigured(ServiceUnavailable):
    retry_later = False  # not an outage: the same request fails until an operator acts

    def __init__(self) -> None:
        super().__init__("Chat is not configured on this server (it has no model to talk to).")


class ConversationNotFound(NotFound):
    """No conversation with this id belongs to this user (whether or not another has one)."""

    def __init__(self, conversation_id: int) -> None:
        super().__init__(f"Conversation {conversation_id} was not found.")


class ModelTimedOut(AppError):
    status_code = HTTPStatus.GATEWAY_TIMEOUT

    def __init__(self, conversation_id: int) -> None:
        super().__init__(
            f"The assistant did not answer in time. Your message is saved in conversation "
            f"{conversation_id}; send it again to retry."
        )


class ModelUnavailable(AppError):
    status_code = HTTPStatus.BAD_GATEWAY

    def __init__(self, conversation_id: int) -> None:
        super().__init__(
            f"The assistant's model failed to answer. Your message is saved in conversation "
            f"{conversation_id}; send it again to retry."
        )


@dataclass(frozen=True)
class ChatTurn:
    conversation_id: int
    response: str
    tool_calls: list[dict[str, Any]]


@dataclass(frozen=True)
class Page:
    rows: Sequence[Row]
    total: int
    next_cursor: str | None


async def chat(
    repo: ChatRepository,
    model: ChatModel | None,
    tools: TaskTools,
    *,
    conversation_id: int | None,
    message: str,
    history_size: int,
) -> ChatTurn:
    """Answer `message` in the conversation (a new one when None), with the tools' user as
    the owner of everything read and written."""
    if model is None:
        raise ChatNotConfigured
    owner = tools.owner
    now = utc_now()
    async with repo.transaction() as tx:
        if conversation_id is None:
            created = await tx.create_conversation(owner, _title(message), now)
            conversation_id = int(created["id"])
            history: list[Turn] = []
        else:
            if await tx.get_conversation(owner, conversation_id) is None:
                raise ConversationNotFound(conversation_id)
            rows = await tx.recent_messages(owner, conversation_id, history_size)
            history = [_turn(row) for row in rows]
            await tx.touch_conversation(owner, conversation_id, now)
        await tx.add_message(
            owner, conversation_id, {"role": "user", "content": message, "created_at": now}
        )
    # Committed before the model is asked: a model that fails leaves the message stored.
    try:
        reply = await model.reply(history, message, tools)
    except ModelFailed as exc:
        if exc.tool_calls:  # what the tools did is part of the conversation all the same
            await _store_reply(repo, owner, conversation_id, Reply("", exc.tool_calls))
        if exc.timed_out:
            raise ModelTimedOut(conversation_id) from None
        raise ModelUnavailable(conversation_id) from None
    await _store_reply(repo, owner, conversation_id, reply)
    return ChatTurn(conversation_id, reply.text, reply.tool_calls)


async def list_conversations(
    repo: ChatRepository, *, owner: str, query: ConversationListQuery
) -> Page:
    rows = await repo.conversations_page(owner, limit=query.limit + 1, after=query.after)
    total = await repo.count_conversations(owner)
    return _page(rows, query.limit, total, query.next_cursor)


async def list_messages(
    repo: ChatRepository, *, owner: str, conversation_id: int, query: MessageListQuery
) -> Page:
    if await repo.get_conversation(owner, conversation_id) is None:
        raise ConversationNotFound(conversation_id)
    rows = await repo.messages_page(
        owner,
        conversation_id,
        limit=query.limit + 1,
        after_id=query.after_id,
        newest_first=query.order == "desc",
    )
    total = await repo.count_messages(owner, conversation_id)
    return _page(rows, query.limit, total, query.next_cursor)


def _page(rows: Sequence[Row], limit: int, total: int, next_cursor: Callable[[Row], str]) -> Page:
    # One more row than the page holds was read: it tells whether a next page exists.
    shown = rows[:limit]
    following = next_cursor(shown[-1]) if len(rows) > limit else None
    return Page(rows=shown, total=total, next_cursor=following)


async def _store_reply(
    repo: ChatRepository, owner: str, conversation_id: int, reply: Reply
) -> None:
    now = utc_now()
    async with repo.transaction() as tx:
        values = {
            "role": "assistant",
            "content": reply.text,
            "tool_calls": reply.tool_calls,
            "created_at": now,
        }
        await tx.add_message(owner, conversation_id, values)
        await tx.touch_conversation(owner, conversation_id, now)


def _turn(row: Row) -> Turn:
    return Turn(role=row["role"], content=row["content"], tool_calls=row["tool_calls"] or ())


def _title(message: str) -> str:
    words = " ".join(message.split())
    if len(words) <= CONVERSATION_TITLE_MAX_LENGTH:
        return words
    return f"{words[: CONVERSATION_TITLE_MAX_LENGTH - 1].rstrip()}…"
