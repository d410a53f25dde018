"""The list's cursor: an opaque, URL-safe token for "the page after this task"."""

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from todo_api.tasks.models import Priority


class InvalidCursor(ValueError):
    pass


def encode_cursor(fingerprint: str, position: list[Any]) -> str:
    raw = json.dumps([fingerprint, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if not isinstance(decoded, list) or len(decoded) not in (2, 3) or decoded[0] != fingerprint:
        raise InvalidCursor("cursor does not belong to this query (filters, sort and order)")
    position = decoded[1:]
    if not isinstance(position[-1], int) or isinstance(position[-1], bool):
        raise InvalidCursor("cursor is not valid")
    return position


def typed_position(column: Any, value: Any) -> Any:
    """The cursor's sort value, checked against the column it came from."""
    try:
        if value is None:
            if column.key != "due_at":
                raise InvalidCursor("cursor is not valid")
            return None
        if column.key in ("due_at", "updated_at"):
            return datetime.fromisoformat(value)
        if column.key == "priority":
            return Priority(value)
        if not isinstance(value, str):
            raise InvalidCursor("cursor is not valid")
        return value
    except (TypeError, ValueError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
