"""Fixtures: every API test runs against SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.

Each database is migrated once per session with the real migrations; every test
gets its own app (own engine, real commits) and its rows are deleted afterwards.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from uuid import uuid4

import asyncpg
import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import Pool
from sqlmodel import SQLModel

from todo_api.chat import models as chat_models  # noqa: F401  (every table in SQLModel.metadata)
from todo_api.config import Settings
from todo_api.db import migrate
from todo_api.db.connect import build_engine
from todo_api.main import create_app
from todo_api.tasks import models  # noqa: F401


def _own_database(url: str) -> str:
    """Under pytest-xdist each worker empties and migrates a database of its own: the one
    named in TEST_DATABASE_URL with the worker's name appended (created on first use)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    target = make_url(url)
    name = f"{target.database}_{worker}"

    async def create() -> None:
        connection = await asyncpg.connect(url)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return target.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _own_database(os.environ.get("TEST_DATABASE_URL", ""))
# Slow groups, marked by folder: `pytest -m "not slow"` is the quick loop (README).
_SLOW_GROUPS = {
    "faults": "faults",
    "property": "property",
    "better_auth": "interop",
    "clients": "typescript",
    "browser": "browser",
    "deploy": "deploy",
}
requires_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")
# App-level tests that only make sense on PostgreSQL (skipped without TEST_DATABASE_URL).
postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings from arguments only: a developer's .env must not leak in."""
    # Reminders are looked for at start only, unless a test asks: no background statements
    # between a test's requests.
    values: dict[str, Any] = {
        "better_auth_secret": TEST_SECRET,
        "reminder_interval_seconds": 3600,
    } | overrides
    return Settings(_env_file=None, database_url=database_url, **values)


def hs256_token(
    user_id: str, *, secret: str = TEST_SECRET, lifetime: int = 300, **claims: Any
) -> str:
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + lifetime} | claims
    return jwt.encode(payload, secret, algorithm="HS256")


class PathUserAuth(httpx.Auth):
    """Signs each request as the user named in its `/api/{user_id}/...` path."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        parts = request.url.path.split("/")
        if len(parts) > 2 and parts[1] == "api" and "authorization" not in request.headers:
            user_id = unquote(parts[2])
            request.headers["Authorization"] = f"Bearer {hs256_token(user_id)}"
        yield request


async def execute(database_url: str, *statements: str) -> None:
    engine = build_engine(make_settings(database_url))
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def drop_schema(database_url: str) -> None:
    """Remove every table of ours (whatever revision left them), so migrations start clean."""
    engine = build_engine(make_settings(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        await engine.dispose()


async def fetch_value(database_url: str, statement: str, **params: Any) -> object:
    engine = build_engine(make_settings(database_url))
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(statement), params)).scalar()
    finally:
        await engine.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'todo.db'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        # Only the path inside backend/tests: a clone in a folder named `deploy` is not a group.
        inside = item.path.is_relative_to(tests)
        path = "/" + (item.path.relative_to(tests) if inside else item.path).as_posix()
        for part, marker in _SLOW_GROUPS.items():
            if f"/{part}/" in path or f"/test_{part}" in path:
                item.add_marker(marker)
                item.add_marker("slow")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly when the PostgreSQL half did not run: production is PostgreSQL."""
    if POSTGRES_URL:
        return
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "TEST_DATABASE_URL" in str(report.longrepr)
    ]
    if not skipped:
        return
    terminalreporter.write_sep(
        "!",
        f"PostgreSQL NOT TESTED: {len(skipped)} tests skipped. Production runs on PostgreSQL; "
        "set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test (any empty database) "
        "and run pytest again",
        red=True,
        bold=True,
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database of each kind, shared by the session."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("sqlite"))
    else:
        if not POSTGRES_URL:
            pytest.skip("TEST_DATABASE_URL is not set")
        url = POSTGRES_URL
        asyncio.run(drop_schema(url))
    migrate.upgrade(make_settings(url))
    return url


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    yield make_settings(database_url)
    deletes = (
        "DELETE FROM task_tags",
        "DELETE FROM tasks",
        "DELETE FROM task_counts",
        "DELETE FROM idempotency_records",
        "DELETE FROM task_tombstones",
        "DELETE FROM messages",
        "DELETE FROM conversations",
    )
    asyncio.run(execute(database_url, *deletes))


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@asynccontextmanager
async def serve(app: FastAPI, *, signed: bool = True) -> AsyncIterator[AsyncClient]:
    """Run the app's lifespan and talk to it over HTTP, signed as the path's user by default."""
    async with LifespanManager(app) as manager:
        # raise_app_exceptions=False: a 500 must be seen as the response a real client gets.
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        auth = PathUserAuth() if signed else None
        async with AsyncClient(transport=transport, base_url="http://test", auth=auth) as http:
            yield http


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with serve(app) as http:
        yield http


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid4().hex}"


@pytest.fixture
def tasks_url(user_id: str) -> str:
    return f"/api/{user_id}/tasks"


@pytest.fixture
def database_touches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every pool checkout and SQL statement made while the test runs (SQLAlchemy's pool and
    engine on SQLite, the asyncpg pool the app uses on PostgreSQL)."""
    touches: list[str] = []

    def on_checkout(*_args: Any) -> None:
        touches.append("checkout")

    acquire = asyncpg.Pool.acquire

    def recorded_acquire(pool: asyncpg.Pool, *args: Any, **kwargs: Any) -> Any:
        touches.append("checkout")
        return acquire(pool, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Pool, "acquire", recorded_acquire)

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        touches.append(statement)

    event.listen(Pool, "checkout", on_checkout)
    event.listen(Engine, "before_cursor_execute", on_statement)
    yield touches
    event.remove(Engine, "before_cursor_execute", on_statement)
    event.remove(Pool, "checkout", on_checkout)
