"""Alembic environment: async engine, the package's settings, one lock per upgrade."""

import asyncio
import logging

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import todo_api.chat.models
import todo_api.tasks.models  # noqa: F401
from todo_api.config import Settings, get_settings
from todo_api.db.connect import build_engine
from todo_api.db.migrate import MIGRATION_LOCK_KEY
from todo_api.db.naming import include_in_schema

logger = logging.getLogger("todo_api.migrate")
config = context.config
target_metadata = SQLModel.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_in_schema(connection.dialect.name),
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            _lock(connection)
        context.run_migrations()


def _lock(connection: Connection) -> None:
    """One instance migrates at a time: held until this transaction commits, so later ones
    then see the new version. Waiting is said, with the database's name."""
    key = {"key": MIGRATION_LOCK_KEY}
    if connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar():
        return
    url = connection.engine.url
    logger.info(
        "waiting for the migration lock held by another instance (database %s:%s/%s)",
        url.host,
        url.port or 5432,
        url.database,
    )
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


async def run_online() -> None:
    settings: Settings = config.attributes.get("settings") or get_settings()
    engine = build_engine(settings, pooled=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run `todo-api migrate`.")
asyncio.run(run_online())
