"""The `conversations` and `messages` tables: each user's chats with the assistant.

The server keeps nothing between requests: a conversation's history is read back from here for
every message. Both tables name their owner, so every statement is scoped by `user_id`.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlmodel import Field, SQLModel

from todo_api.db.types import UTCDateTime, utc_now
from todo_api.tasks.models import USER_ID_MAX_LENGTH  # (after db.naming: names as everywhere)

CONVERSATION_TITLE_MAX_LENGTH = 100


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        # The list: a user's conversations, the most recently active first.
        Index(None, "user_id", "updated_at", "id"),
        {"sqlite_autoincrement": True},  # ids never given again, as on PostgreSQL
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    # The start of the first message: something to show in a list of conversations.
    title: str = Field(sa_type=String(CONVERSATION_TITLE_MAX_LENGTH), nullable=False)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Message(SQLModel, table=True):
    """One message: the user's, or the assistant's answer with the tool calls it made."""

    __tablename__ = "messages"
    __table_args__ = (
        Index(None, "conversation_id", "id"),
        CheckConstraint("role IN ('user', 'assistant')", name="role"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        )
    )
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    role: str = Field(sa_type=String(16), nullable=False)
    content: str = Field(sa_column=Column(Text(), nullable=False))
    # The assistant's tool calls while answering: [{"id", "name", "arguments", "result"}].
    tool_calls: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON()))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )


CONVERSATIONS: Table = SQLModel.metadata.tables["conversations"]
MESSAGES: Table = SQLModel.metadata.tables["messages"]
