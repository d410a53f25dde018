"""The list's cursor: an opaque, URL-safe token for "the page after this task".

A cursor names its query (a fingerprint of the owner, filters, sort and order) and the
position of the last task of a page: its id and, for sorts by a column, that column's
value. It is checked as strictly as any other input: only positions the server could
have issued pass (ids of the id column's range, instants in the canonical UTC form the
server writes, text without NUL or lone surrogates, known priorities).
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from todo_api.tasks.models import TASK_ID_MAX, Priority

MAX_CURSOR_LENGTH = 4096  # a title sort's position is the folded title, up to a few KB


class InvalidCursor(ValueError):
    pass


def encode_cursor(fingerprint: str, position: list[Any]) -> str:
    raw = json.dumps([fingerprint, *position], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if not isinstance(decoded, list) or len(decoded) not in (2, 3) or decoded[0] != fingerprint:
        raise InvalidCursor("cursor does not belong to this query (user, filters, sort, order)")
    position = decoded[1:]
    task_id = position[-1]
    if type(task_id) is not int or not 1 <= task_id <= TASK_ID_MAX:
        raise InvalidCursor("cursor is not valid")
    return position


def typed_position(column: Any, value: Any) -> Any:
    """The cursor's sort value, checked against the column it came from."""
    if value is None:
        if column.key != "due_at":  # only the due date may be empty
            raise InvalidCursor("cursor is not valid")
        return None
    if not isinstance(value, str):
        raise InvalidCursor("cursor is not valid")
    if column.key in ("due_at", "updated_at"):
        return _instant(value)
    if column.key == "priority":
        try:
            return Priority(value)
        except ValueError as exc:
            raise InvalidCursor("cursor is not valid") from exc
    return _text(value)


def _instant(value: str) -> datetime:
    # Only the form the server writes: UTC, ISO 8601, as datetime.isoformat() gives it.
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if instant.tzinfo is None or instant.utcoffset() or instant.isoformat() != value:
        raise InvalidCursor("cursor is not valid")
    return instant.replace(tzinfo=UTC)


def _text(value: str) -> str:
    try:
        value.encode("utf-8")  # refuses lone surrogates, which no database stores
    except UnicodeEncodeError as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if "\x00" in value:
        raise InvalidCursor("cursor is not valid")
    return value
