"""Only migrations change the schema, they match the models, and they run once under races."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlmodel import SQLModel

import todo_api.tasks.models  # noqa: F401  (registers the tables)
from tests.conftest import (
    POSTGRES_URL,
    fetch_value,
    make_settings,
    requires_postgres,
    sqlite_url,
)
from todo_api.db import migrate
from todo_api.db.connect import build_engine
from todo_api.db.naming import include_in_schema


def schema_diff(connection: Connection) -> list[object]:
    options = {"compare_type": True, "include_object": include_in_schema(connection.dialect.name)}
    context = MigrationContext.configure(connection, opts=options)
    return list(compare_metadata(context, SQLModel.metadata))


async def diff_against_models(database_url: str) -> list[object]:
    engine = build_engine(make_settings(database_url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(schema_diff)
    finally:
        await engine.dispose()


async def index_names(database_url: str) -> set[str]:
    engine = build_engine(make_settings(database_url))
    try:
        async with engine.connect() as connection:
            indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes("tasks"))
            return {index["name"] for index in indexes if index["name"]}
    finally:
        await engine.dispose()


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    name = f"todo_api_scratch_{uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    engine = build_engine(make_settings(POSTGRES_URL))
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def test_migrated_database_matches_the_models(database_url: str) -> None:
    assert asyncio.run(diff_against_models(database_url)) == []


def test_user_tasks_are_found_by_index(database_url: str) -> None:
    assert "ix_tasks_user_id_id" in asyncio.run(index_names(database_url))


def test_downgrade_and_upgrade_round_trip_on_sqlite(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path))
    migrate.upgrade(settings)
    migrate.downgrade(settings, "base")
    assert (
        asyncio.run(
            fetch_value(
                settings.database_url, "SELECT count(*) FROM sqlite_master WHERE name = 'tasks'"
            )
        )
        == 0
    )
    migrate.upgrade(settings)
    assert asyncio.run(diff_against_models(settings.database_url)) == []


@requires_postgres
def test_instances_migrating_at_once_apply_the_schema_once(scratch_postgres: str) -> None:
    # Separate processes, as separate instances are (Alembic's context is per process).
    env = {**os.environ, "DATABASE_URL": scratch_postgres}
    instances = [
        subprocess.Popen(
            [sys.executable, "-m", "todo_api.cli", "migrate"], env=env, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    errors = [instance.communicate(timeout=120)[1].decode() for instance in instances]

    assert [instance.returncode for instance in instances] == [0] * 4, errors
    assert sum("Running upgrade  -> 0001_create_tasks" in error for error in errors) == 1
    assert asyncio.run(fetch_value(scratch_postgres, "SELECT count(*) FROM alembic_version")) == 1
    assert asyncio.run(diff_against_models(scratch_postgres)) == []
