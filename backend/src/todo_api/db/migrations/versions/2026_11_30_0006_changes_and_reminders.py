"""The change feed (each task's place, tombstones of deleted tasks) and reminders.

Existing tasks take place 0: a snapshot of the feed starts before it.

Revision ID: 0006_changes_and_reminders
Revises: 0005_conversations
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_changes_and_reminders"
down_revision: str | None = "0005_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a later change of the model must not change what this migration did.
_PENDING = "remind_at IS NOT NULL AND reminded_at IS NULL AND NOT completed"


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table rebuild): SQLite keeps the table's AUTOINCREMENT.
    op.add_column("tasks", sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "tasks", sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.create_index("ix_tasks_user_id_change_seq_id", "tasks", ["user_id", "change_seq", "id"])
    op.create_index(
        "ix_tasks_remind_at_pending",
        "tasks",
        ["remind_at"],
        postgresql_where=sa.text(_PENDING),
        sqlite_where=sa.text(_PENDING),
    )
    op.add_column(
        "task_counts", sa.Column("forgotten", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.create_table(
        "task_tombstones",
        sa.Column("task_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name="pk_task_tombstones"),
    )
    op.create_index(
        "ix_task_tombstones_user_id_seq_task_id", "task_tombstones", ["user_id", "seq", "task_id"]
    )
    op.create_index("ix_task_tombstones_deleted_at", "task_tombstones", ["deleted_at"])


def downgrade() -> None:
    op.drop_table("task_tombstones")
    with op.batch_alter_table("task_counts") as batch:
        batch.drop_column("forgotten")
    op.drop_index("ix_tasks_remind_at_pending", table_name="tasks")
    op.drop_index("ix_tasks_user_id_change_seq_id", table_name="tasks")
    with op.batch_alter_table("tasks", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("change_seq")
        batch.drop_column("reminded_at")
        batch.drop_column("remind_at")
