"""The `tasks` table and its `task_tags` index table."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    case,
    literal_column,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from todo_api.db.naming import ONLY_ON  # (naming convention before the tables are declared)
from todo_api.db.types import UTCDateTime, utc_now

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000
USER_ID_MAX_LENGTH = 255
TAG_MAX_LENGTH = 50
TASK_ID_MAX = 2**31 - 1  # the id column is a 32-bit integer

# A reminder not yet sent, of a task not done (the partial index's and the dispatcher's test).
REMINDER_PENDING = "remind_at IS NOT NULL AND reminded_at IS NULL AND NOT completed"

# Byte-wise ordering on PostgreSQL, as SQLite's default: sorting gives the same order on both.
SortKey = Text().with_variant(Text(collation="C"), "postgresql")


class Priority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANKS[self]


_PRIORITY_RANKS = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3}
_RANKS = [(priority.value, rank) for priority, rank in _PRIORITY_RANKS.items()]


class PriorityType(TypeDecorator[Priority]):
    """Stored as its rank (1..3) so that sorting by priority is sorting numbers, on any database."""

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value: Priority | None, dialect: Dialect) -> int | None:
        return None if value is None else Priority(value).rank

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        # Read back by name ('low', 'medium', 'high'): the database does the mapping,
        # so rows need no conversion in Python.
        return case(
            *(
                (column == literal_column(str(rank)), literal_column(f"'{priority}'"))
                for priority, rank in _RANKS
            ),
        )

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None  # column_expression already gives the name


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Task(SQLModel, table=True):
    """One user's task. API schemas live in `schemas.py`; clients never bind to this class."""

    __tablename__ = "tasks"
    __table_args__ = (
        # A user's tasks are always found through an index that starts with user_id.
        Index(None, "user_id", "id"),
        Index(None, "user_id", "completed", "due_at", "id"),
        Index(None, "user_id", "priority", "id"),
        Index(None, "user_id", "updated_at", "id"),
        # The change feed: a user's tasks in the order their last changes committed.
        Index(None, "user_id", "change_seq", "id"),
        # Reminders still to send: the dispatcher's scan (both databases have partial indexes).
        Index(
            "ix_tasks_remind_at_pending",
            "remind_at",
            postgresql_where=text(REMINDER_PENDING),
            sqlite_where=text(REMINDER_PENDING),
        ),
        # Word search (LIKE '%word%') by trigrams; PostgreSQL only, SQLite scans the user's rows.
        Index(
            "ix_tasks_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            info={ONLY_ON: "postgresql"},
        ).ddl_if(dialect="postgresql"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_rank"),
        CheckConstraint(
            "(recurrence_frequency IS NULL) = (recurrence_interval IS NULL)",
            name="recurrence_complete",
        ),
        # AUTOINCREMENT: SQLite would otherwise reuse the id of a deleted newest task.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    title: str = Field(sa_type=String(TITLE_MAX_LENGTH), nullable=False)
    description: str | None = Field(default=None, sa_type=String(DESCRIPTION_MAX_LENGTH))
    completed: bool = Field(default=False, nullable=False)
    priority: Priority = Field(
        default=Priority.MEDIUM, sa_column=Column(PriorityType(), nullable=False)
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON(), nullable=False))
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    recurrence_frequency: str | None = Field(default=None, sa_type=String(10))
    recurrence_interval: int | None = Field(default=None, sa_type=Integer)
    # Derived by the service: casefolded copies for sorting and searching alike on both databases.
    title_sort: str = Field(default="", sa_column=Column(SortKey, nullable=False))
    search_text: str = Field(default="", sa_column=Column(Text(), nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # 1 at creation, one more on every change: the task's ETag.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    remind_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set by the reminder dispatcher when it sent the reminder; cleared when remind_at changes.
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The user's change counter (task_counts.changes) at the task's last change: its place
    # in the change feed. Counters are bumped under the user's counter-row lock, so for one
    # user this orders changes as they committed.
    change_seq: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )

    @property
    def recurrence(self) -> dict[str, Any] | None:
        if self.recurrence_frequency is None:
            return None
        return {"frequency": self.recurrence_frequency, "interval": self.recurrence_interval}


TASKS: Table = SQLModel.metadata.tables["tasks"]  # for Core statements: rows, not objects
# The columns a task is read back with: the derived sort and search keys, and the change
# feed's place, stay in the database (a page of tasks decodes every column it reads).
TASK_FIELDS: tuple[Column[Any], ...] = tuple(
    column for column in TASKS.c if column.key not in ("title_sort", "search_text", "change_seq")
)


class TaskTag(SQLModel, table=True):
    """One row per (task, tag): tag filters and counts are index lookups on both databases."""

    __tablename__ = "task_tags"
    __table_args__ = (Index(None, "user_id", "tag", "task_id"),)

    task_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    tag: str = Field(sa_type=String(TAG_MAX_LENGTH), primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)


class TaskCount(SQLModel, table=True):
    """Per-user (tag '') and per-tag task counts, kept by the service in each write's transaction,
    so a heavy user's list totals and tag counts are one row read instead of a count(*)."""

    __tablename__ = "task_counts"

    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), primary_key=True)
    tag: str = Field(sa_type=String(TAG_MAX_LENGTH), primary_key=True)
    total: int = Field(default=0, nullable=False)
    completed: int = Field(default=0, nullable=False)
    # On the per-user row (tag ''): one more on every write of the user's tasks, under that
    # row's lock, so it orders the user's writes as they commit. The list's ETag.
    changes: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    # On the per-user row: the newest change-feed position whose tombstone was purged; a
    # feed token from before it may have missed a deletion (410 Gone).
    forgotten: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )


class TaskTombstone(SQLModel, table=True):
    """A deleted task's place in the change feed, kept for TOMBSTONE_RETENTION_DAYS."""

    __tablename__ = "task_tombstones"
    __table_args__ = (Index(None, "user_id", "seq", "task_id"), Index(None, "deleted_at"))

    task_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    deleted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


TASK_TOMBSTONES: Table = SQLModel.metadata.tables["task_tombstones"]
TASK_TAGS: Table = SQLModel.metadata.tables["task_tags"]
TASK_COUNTS: Table = SQLModel.metadata.tables["task_counts"]


class IdempotencyRecord(SQLModel, table=True):
    """The response to a write sent with an Idempotency-Key, stored with the write itself."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index(None, "created_at"),)

    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), primary_key=True)
    key: str = Field(sa_type=String(255), primary_key=True)
    request_hash: str = Field(sa_type=String(64), nullable=False)  # method, path and body
    status: int = Field(sa_type=SmallInteger, nullable=False)
    headers: dict[str, str] = Field(sa_column=Column(JSON(), nullable=False))
    body: str = Field(sa_column=Column(Text(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


IDEMPOTENCY_RECORDS: Table = SQLModel.metadata.tables["idempotency_records"]
