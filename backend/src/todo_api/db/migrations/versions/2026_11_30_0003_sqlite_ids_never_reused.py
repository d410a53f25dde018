"""SQLite: task ids are never given again (AUTOINCREMENT), as on PostgreSQL.

Migration 0002's batch alter recreated `tasks` on SQLite without AUTOINCREMENT, so the id
of a deleted newest task was handed to the next task created (of any user). The table is
recreated with it. Dropping the old table deletes its rows first, which would cascade to
`task_tags`; those rows are kept aside and put back. PostgreSQL's serial ids are never
reused: nothing to do there.

Revision ID: 0003_sqlite_ids_never_reused
Revises: 0002_organise_tasks
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_sqlite_ids_never_reused"
down_revision: str | None = "0002_organise_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TEMP TABLE kept_task_tags AS SELECT * FROM task_tags")
    with op.batch_alter_table(
        "tasks", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    op.execute("DELETE FROM task_tags")
    op.execute(
        "INSERT INTO task_tags (task_id, tag, user_id) "
        "SELECT task_id, tag, user_id FROM kept_task_tags"
    )
    op.execute("DROP TABLE kept_task_tags")


def downgrade() -> None:
    """Nothing to undo: AUTOINCREMENT only stops ids being reused."""
