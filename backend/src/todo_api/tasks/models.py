"""The `tasks` table."""

from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

import todo_api.metadata  # noqa: F401  (naming convention before the table is declared)
from todo_api.sql_types import UTCDateTime, utc_now

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000
USER_ID_MAX_LENGTH = 255
TASK_ID_MAX = 2**31 - 1  # the id column is a 32-bit integer


class Task(SQLModel, table=True):
    """One user's task. API schemas live in `schemas.py`; clients never bind to this class."""

    __tablename__ = "tasks"
    # A user's tasks are always found through this index, newest id first.
    # AUTOINCREMENT: SQLite would otherwise reuse the id of a deleted newest task.
    __table_args__ = (Index(None, "user_id", "id"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    title: str = Field(sa_type=String(TITLE_MAX_LENGTH), nullable=False)
    description: str | None = Field(default=None, sa_type=String(DESCRIPTION_MAX_LENGTH))
    completed: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
