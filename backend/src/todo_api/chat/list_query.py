"""The query strings of the conversation and message lists: pages, as the task list pages.

`limit` and an opaque `cursor` (from the previous page's `Link: <...>; rel="next"`); a cursor
names its user and list (and, for messages, the conversation and order), so it cannot be
replayed elsewhere.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from todo_api.chat.models import CONVERSATIONS
from todo_api.tasks.cursor import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    typed_position,
)
from todo_api.web.query_model import QueryModel


class _PageQuery(QueryModel):
    cursor: str | None = Field(
        default=None, max_length=MAX_CURSOR_LENGTH, description="From a `Link: rel=next`."
    )

    _scope: dict[str, Any] = PrivateAttr(default_factory=dict)

    def fingerprint(self) -> str:
        fields = {"list": type(self).__name__, **self._scope, **self._bound()}
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        return digest[:16]

    def _bound(self) -> dict[str, Any]:
        return {}

    def _position(self, info: ValidationInfo) -> list[Any] | None:
        self._scope = dict(info.context or {})
        return None if self.cursor is None else decode_cursor(self.cursor, self.fingerprint())


class ConversationListQuery(_PageQuery):
    """Query parameters of `GET /api/{user_id}/conversations`: the most recent first."""

    limit: int = Field(default=20, ge=1, le=100)

    _after: tuple[datetime, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _decode_cursor(self, info: ValidationInfo) -> "ConversationListQuery":
        position = self._position(info)
        if position is not None:
            if len(position) != 2:
                raise InvalidCursor("cursor is not valid")
            self._after = (typed_position(CONVERSATIONS.c.updated_at, position[0]), position[1])
        return self

    @property
    def after(self) -> tuple[datetime, int] | None:
        return self._after

    def next_cursor(self, last: Mapping[str, Any]) -> str:
        return encode_cursor(self.fingerprint(), [last["updated_at"].isoformat(), last["id"]])


class MessageListQuery(_PageQuery):
    """Query parameters of `GET /api/{user_id}/conversations/{id}/messages`."""

    order: Literal["asc", "desc"] = Field(default="asc", description="asc: oldest first.")
    limit: int = Field(default=50, ge=1, le=500)

    _after_id: int | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _decode_cursor(self, info: ValidationInfo) -> "MessageListQuery":
        position = self._position(info)
        if position is not None:
            if len(position) != 1:
                raise InvalidCursor("cursor is not valid")
            self._after_id = position[0]
        return self

    @property
    def after_id(self) -> int | None:
        return self._after_id

    def _bound(self) -> dict[str, Any]:
        return {"order": self.order}

    def next_cursor(self, last: Mapping[str, Any]) -> str:
        return encode_cursor(self.fingerprint(), [last["id"]])
