"""Every statement on conversations and messages; each names its owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, func, insert, select, tuple_, update

from todo_api.chat.models import CONVERSATIONS, MESSAGES
from todo_api.db.executor import Database, Row
from todo_api.db.types import UTCDateTime

_CONVERSATION_FIELDS = (
    CONVERSATIONS.c.id,
    CONVERSATIONS.c.title,
    CONVERSATIONS.c.created_at,
    CONVERSATIONS.c.updated_at,
)
_MESSAGE_FIELDS = (
    MESSAGES.c.id,
    MESSAGES.c.conversation_id,
    MESSAGES.c.role,
    MESSAGES.c.content,
    MESSAGES.c.tool_calls,
    MESSAGES.c.created_at,
)


def _owned_conversation(owner: str, conversation_id: int) -> ColumnElement[bool]:
    return (CONVERSATIONS.c.id == conversation_id) & (CONVERSATIONS.c.user_id == owner)


def _owned_messages(owner: str, conversation_id: int) -> ColumnElement[bool]:
    return (MESSAGES.c.conversation_id == conversation_id) & (MESSAGES.c.user_id == owner)


class ChatRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[ChatRepository]:
        async with self.db.transaction() as tx:
            yield ChatRepository(tx)

    async def create_conversation(self, owner: str, title: str, now: datetime) -> Row:
        statement = (
            insert(CONVERSATIONS)
            .values(user_id=owner, title=title, created_at=now, updated_at=now)
            .returning(*_CONVERSATION_FIELDS)
        )
        created = await self.db.first(statement, writes=True)
        assert created is not None
        return created

    async def get_conversation(self, owner: str, conversation_id: int) -> Row | None:
        statement = select(*_CONVERSATION_FIELDS).where(_owned_conversation(owner, conversation_id))
        return await self.db.first(statement)

    async def touch_conversation(self, owner: str, conversation_id: int, now: datetime) -> None:
        statement = (
            update(CONVERSATIONS)
            .where(_owned_conversation(owner, conversation_id))
            .values(updated_at=now)
        )
        await self.db.all(statement, writes=True)

    async def add_message(self, owner: str, conversation_id: int, values: dict[str, Any]) -> Row:
        statement = (
            insert(MESSAGES)
            .values(user_id=owner, conversation_id=conversation_id, **values)
            .returning(*_MESSAGE_FIELDS)
        )
        added = await self.db.first(statement, writes=True)
        assert added is not None
        return added

    async def recent_messages(self, owner: str, conversation_id: int, limit: int) -> list[Row]:
        """The conversation's last `limit` messages, oldest first."""
        if limit == 0:
            return []
        statement = (
            select(*_MESSAGE_FIELDS)
            .where(_owned_messages(owner, conversation_id))
            .order_by(MESSAGES.c.id.desc())
            .limit(limit)
        )
        return list(reversed(await self.db.all(statement)))

    async def conversations_page(
        self, owner: str, *, limit: int, after: tuple[datetime, int] | None
    ) -> list[Row]:
        """Up to `limit` conversations, the most recently active first, after `after`
        (the updated_at and id of the previous page's last)."""
        key = tuple_(CONVERSATIONS.c.updated_at, CONVERSATIONS.c.id)
        statement = select(*_CONVERSATION_FIELDS).where(CONVERSATIONS.c.user_id == owner)
        if after is not None:
            at, last_id = after
            after_key = tuple_(
                bindparam("after_at", at, type_=UTCDateTime()),
                bindparam("after_id", last_id, type_=Integer()),
            )
            statement = statement.where(key < after_key)
        statement = statement.order_by(
            CONVERSATIONS.c.updated_at.desc(), CONVERSATIONS.c.id.desc()
        ).limit(limit)
        return await self.db.all(statement)

    async def count_conversations(self, owner: str) -> int:
        statement = select(func.count().label("total")).where(CONVERSATIONS.c.user_id == owner)
        counted = await self.db.first(statement.select_from(CONVERSATIONS))
        return int(counted["total"]) if counted else 0

    async def messages_page(
        self,
        owner: str,
        conversation_id: int,
        *,
        limit: int,
        after_id: int | None,
        newest_first: bool,
    ) -> list[Row]:
        statement = select(*_MESSAGE_FIELDS).where(_owned_messages(owner, conversation_id))
        if after_id is not None:
            past = MESSAGES.c.id < after_id if newest_first else MESSAGES.c.id > after_id
            statement = statement.where(past)
        order = MESSAGES.c.id.desc() if newest_first else MESSAGES.c.id.asc()
        return await self.db.all(statement.order_by(order).limit(limit))

    async def count_messages(self, owner: str, conversation_id: int) -> int:
        statement = select(func.count().label("total")).where(
            _owned_messages(owner, conversation_id)
        )
        counted = await self.db.first(statement.select_from(MESSAGES))
        return int(counted["total"]) if counted else 0
