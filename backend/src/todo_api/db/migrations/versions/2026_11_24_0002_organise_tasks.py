"""Priorities, tags, due dates, completion time, recurrence, and the indexes lists need.

Revision ID: 0002_organise_tasks
Revises: 0001_create_tasks
Create Date: 2026-11-24
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_organise_tasks"
down_revision: str | None = "0001_create_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BACKFILL_CHUNK = 1000


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="2", nullable=False)
        )
        batch.add_column(sa.Column("tags", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("recurrence_frequency", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("recurrence_interval", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("title_sort", SORT_KEY, server_default="", nullable=False))
        batch.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
        batch.create_check_constraint("ck_tasks_priority_rank", "priority BETWEEN 1 AND 3")
        batch.create_check_constraint(
            "ck_tasks_recurrence_complete",
            "(recurrence_frequency IS NULL) = (recurrence_interval IS NULL)",
        )
    _backfill_derived_text()
    op.execute("UPDATE tasks SET completed_at = updated_at WHERE completed")
    op.create_index(
        "ix_tasks_user_id_completed_due_at_id", "tasks", ["user_id", "completed", "due_at", "id"]
    )
    op.create_index("ix_tasks_user_id_priority_id", "tasks", ["user_id", "priority", "id"])
    op.create_index("ix_tasks_user_id_updated_at_id", "tasks", ["user_id", "updated_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_tasks_search_text_trgm",
            "tasks",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    op.create_table(
        "task_tags",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_task_tags_task_id_tasks", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "tag", name="pk_task_tags"),
    )
    op.create_index("ix_task_tags_user_id_tag_task_id", "task_tags", ["user_id", "tag", "task_id"])
    op.create_table(
        "task_counts",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "tag", name="pk_task_counts"),
    )
    # Existing tasks have no tags yet: only the per-user rows (tag '') need counting.
    op.execute(
        "INSERT INTO task_counts (user_id, tag, total, completed) "
        "SELECT user_id, '', count(*), sum(CASE WHEN completed THEN 1 ELSE 0 END) "
        "FROM tasks GROUP BY user_id"
    )


def _backfill_derived_text() -> None:
    """Sort and search keys are folded in Python (as the service does), not by SQL lower()."""
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.String),
        sa.column("title_sort", sa.Text),
        sa.column("search_text", sa.Text),
    )
    connection = op.get_bind()
    update = (
        tasks.update()
        .where(tasks.c.id == sa.bindparam("row_id"))
        .values(title_sort=sa.bindparam("sort_key"), search_text=sa.bindparam("search_key"))
    )
    last_id = 0
    while rows := connection.execute(
        sa.select(tasks.c.id, tasks.c.title, tasks.c.description)
        .where(tasks.c.id > last_id)
        .order_by(tasks.c.id)
        .limit(BACKFILL_CHUNK)
    ).all():
        connection.execute(
            update,
            [
                {
                    "row_id": row.id,
                    "sort_key": fold(row.title),
                    "search_key": fold(f"{row.title}\n{row.description or ''}"),
                }
                for row in rows
            ],
        )
        last_id = rows[-1].id


def downgrade() -> None:
    op.drop_table("task_counts")
    op.drop_index("ix_task_tags_user_id_tag_task_id", table_name="task_tags")
    op.drop_table("task_tags")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tasks_search_text_trgm", table_name="tasks")
    op.drop_index("ix_tasks_user_id_updated_at_id", table_name="tasks")
    op.drop_index("ix_tasks_user_id_priority_id", table_name="tasks")
    op.drop_index("ix_tasks_user_id_completed_due_at_id", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint("ck_tasks_recurrence_complete", type_="check")
        batch.drop_constraint("ck_tasks_priority_rank", type_="check")
        for column in (
            "search_text",
            "title_sort",
            "recurrence_interval",
            "recurrence_frequency",
            "completed_at",
            "due_at",
            "tags",
            "priority",
        ):
            batch.drop_column(column)


def fold(text: str) -> str:
    """The service's text folding as of this revision, frozen here so that this migration
    does the same whatever later code does (the package's copy is todo_api.tasks.text)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
