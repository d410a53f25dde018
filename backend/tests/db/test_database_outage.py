"""The database going away gives a fast 503 with Retry-After; the service recovers by itself."""

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy.engine import make_url

from tests.conftest import (
    POSTGRES_URL,
    execute,
    make_settings,
    postgres_only,
    requires_postgres,
    serve,
)
from tests.helpers import assert_problem
from tests.tcp_proxy import TcpProxy
from todo_api.main import create_app


def client_for(database_url: str) -> AbstractAsyncContextManager[AsyncClient]:
    return serve(create_app(make_settings(database_url, db_connect_timeout=2.0)))


def assert_unavailable(response_problem: dict[str, object], retry_after: str | None) -> None:
    assert response_problem["title"] == "Service Unavailable"
    assert retry_after is not None
    assert int(retry_after) > 0


@requires_postgres
async def test_unreachable_postgres_is_503_with_retry_after() -> None:
    url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    async with client_for(url) as client:
        for response in (
            await client.get("/api/u1/tasks"),
            await client.post("/api/u1/tasks", json={"title": "lost?"}),
            await client.patch("/api/u1/tasks/1/complete"),
            await client.get("/health/ready"),
        ):
            assert_unavailable(assert_problem(response, 503), response.headers.get("retry-after"))
        assert (await client.get("/health")).status_code == 200


async def test_unopenable_sqlite_file_is_503(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'todo.db'}"
    async with client_for(url) as client:
        response = await client.get("/api/u1/tasks")
        assert_unavailable(assert_problem(response, 503), response.headers.get("retry-after"))


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    target = make_url(POSTGRES_URL)
    tcp_proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await tcp_proxy.start()
    yield tcp_proxy
    await tcp_proxy.stop()


@requires_postgres
async def test_service_recovers_after_the_database_returns(proxy: TcpProxy) -> None:
    url = (
        make_url(POSTGRES_URL)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )
    await execute(POSTGRES_URL, "DELETE FROM tasks WHERE user_id = 'outage-user'")
    async with client_for(url) as client:
        created = await client.post("/api/outage-user/tasks", json={"title": "before"})
        assert created.status_code == 201

        await proxy.stop()  # every pooled connection is now dead
        started = time.monotonic()
        during = await client.get("/api/outage-user/tasks")
        write_during = await client.post("/api/outage-user/tasks", json={"title": "during"})
        assert time.monotonic() - started < 10
        assert_problem(during, 503)
        assert_problem(write_during, 503)

        await proxy.start()  # same port: the database is back
        after = await client.get("/api/outage-user/tasks")
        assert after.status_code == 200
        assert [task["title"] for task in after.json()] == ["before"]
    await execute(POSTGRES_URL, "DELETE FROM tasks WHERE user_id = 'outage-user'")


@postgres_only
async def test_connections_killed_by_the_server_are_replaced(
    client: AsyncClient, database_url: str, tasks_url: str
) -> None:
    assert (await client.post(tasks_url, json={"title": "survives"})).status_code == 201

    await execute(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )

    response = await client.get(tasks_url)
    assert response.status_code == 200
    assert [task["title"] for task in response.json()] == ["survives"]
