"""What the chat routes take and give back."""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from todo_api.tasks.models import TASK_ID_MAX
from todo_api.tasks.schemas import _integral

# The most CHAT_MAX_MESSAGE_CHARS may allow; the setting (4000 by default) is checked by the
# route, which knows it.
MESSAGE_CEILING = 100_000


# A JSON integer (3 or 3.0, never "3"), the constraints before the validator: after it,
# pydantic would leave them out of the JSON Schema.
ConversationId = Annotated[StrictInt, Field(ge=1, le=TASK_ID_MAX), BeforeValidator(_integral)]


def _not_blank(message: str) -> str:
    if not message.strip():
        raise ValueError("must not be blank")
    if "\x00" in message:
        raise ValueError("must not contain the NUL character")
    return message


class ChatRequest(BaseModel):
    """A message to the assistant: in a conversation of yours, or a new one (no id)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"message": "Add a task to buy milk tomorrow"},
                {"conversation_id": 3, "message": "Mark it done"},
            ]
        },
    )

    conversation_id: ConversationId | None = Field(
        default=None, description="Left out: a new conversation."
    )
    message: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1,
        max_length=MESSAGE_CEILING,
        description="At most CHAT_MAX_MESSAGE_CHARS characters (4000 by default).",
    )


class ToolCall(BaseModel):
    """A tool the assistant called while answering: its arguments, as the model sent them,
    and what the tool returned (`{"error": "..."}` when it refused)."""

    name: str
    arguments: Any
    result: dict[str, Any]


class ChatReply(BaseModel):
    conversation_id: int
    response: str = Field(description="The assistant's answer.")
    tool_calls: list[ToolCall]


class ConversationPublic(BaseModel):
    id: int
    title: str = Field(description="The start of the conversation's first message.")
    created_at: datetime
    updated_at: datetime = Field(description="When its latest message was added.")


class MessagePublic(BaseModel):
    id: int
    conversation_id: int
    role: Literal["user", "assistant"]
    content: str
    tool_calls: list[ToolCall] | None = Field(description="The assistant's, while answering.")
    created_at: datetime


def conversation_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def message_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "role": row["role"],
        "content": row["content"],
        "tool_calls": row["tool_calls"],
        "created_at": row["created_at"],
    }
