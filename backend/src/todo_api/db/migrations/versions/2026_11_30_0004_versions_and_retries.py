"""Task versions (ETags), a per-user change counter (list ETags), and idempotency records.

Revision ID: 0004_versions_and_retries
Revises: 0003_sqlite_ids_never_reused
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_versions_and_retries"
down_revision: str | None = "0003_sqlite_ids_never_reused"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table rebuild): SQLite keeps the table's AUTOINCREMENT.
    op.add_column("tasks", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "task_counts", sa.Column("changes", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.create_table(
        "idempotency_records",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_records"),
    )
    op.create_index(
        "ix_idempotency_records_created_at", "idempotency_records", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_records_created_at", table_name="idempotency_records")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("task_counts") as batch:
        batch.drop_column("changes")
    with op.batch_alter_table("tasks", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("version")
