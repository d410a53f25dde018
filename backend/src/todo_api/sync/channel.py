"""The PostgreSQL channel that wakes every instance's live streams when a user's tasks change.

A notification carries only the user id: it is a hint to re-read the change feed, which is
the truth. NOTIFY is delivered at commit (never for a rollback), and identical
notifications of one transaction are folded into one.
"""

from typing import Any

from sqlalchemy import func, literal
from sqlalchemy.sql.elements import ColumnElement

CHANNEL = "todo_api_changes"


def notify(owner: Any) -> ColumnElement[Any]:
    """`pg_notify(CHANNEL, owner)`, for a write statement's RETURNING or select list."""
    return func.pg_notify(literal(CHANNEL), owner).label("notified")
