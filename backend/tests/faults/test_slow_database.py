"""A statement slower than the timeout: a 503 at the timeout, the pool keeps serving others,
and no session is left idle in a transaction."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from tests.conftest import make_settings, serve
from tests.faults.cluster import Cluster
from tests.helpers import assert_problem
from todo_api.main import create_app


async def test_a_statement_past_the_timeout_is_503_and_nothing_is_left_open(
    cluster: Cluster,
) -> None:
    settings = make_settings(
        cluster.url(), db_command_timeout=1.0, db_pool_size=2, db_max_overflow=0
    )
    async with serve(create_app(settings)) as client:
        task = (await client.post("/api/slow-user/tasks", json={"title": "locked"})).json()
        other = (await client.post("/api/slow-user/tasks", json={"title": "free"})).json()
        async with row_locked(cluster.url(), task["id"]):
            started = time.monotonic()
            blocked = [
                client.put(f"/api/slow-user/tasks/{task['id']}", json={"title": "waits"})
                for _ in range(3)
            ]
            served = [client.get(f"/api/slow-user/tasks/{other['id']}") for _ in range(5)]
            responses = await asyncio.gather(*blocked, *served)
            elapsed = time.monotonic() - started
        after = await client.put(f"/api/slow-user/tasks/{task['id']}", json={"title": "now free"})
        idle = await idle_in_transaction(cluster.url())

    for response in responses[:3]:
        assert_problem(response, 503)
    assert [r.status_code for r in responses[3:]] == [200] * 5
    assert elapsed < 5
    assert after.status_code == 200
    assert idle == 0


@asynccontextmanager
async def row_locked(url: str, task_id: int) -> AsyncIterator[None]:
    """Task `task_id` locked FOR UPDATE by another session until the block ends."""
    locker = await asyncpg.connect(url)
    try:
        async with locker.transaction():
            await locker.execute("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", task_id)
            yield
    finally:
        await locker.close()


async def idle_in_transaction(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"
            )
        )
    finally:
        await connection.close()


async def test_a_request_waiting_past_the_pool_timeout_is_503(cluster: Cluster) -> None:
    settings = make_settings(
        cluster.url(),
        db_command_timeout=5.0,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.5,
    )
    async with serve(create_app(settings)) as client:
        task = (await client.post("/api/pool-user/tasks", json={"title": "locked"})).json()
        async with row_locked(cluster.url(), task["id"]):
            holding = asyncio.ensure_future(
                client.put(f"/api/pool-user/tasks/{task['id']}", json={"title": "waits"})
            )
            await asyncio.sleep(0.2)  # the update now holds the pool's only connection
            started = time.monotonic()
            waiting = await client.get(f"/api/pool-user/tasks/{task['id']}")
            waited = time.monotonic() - started
        held = await holding

    assert_problem(waiting, 503)
    assert 0.4 < waited < 3
    assert held.status_code == 200  # served once the lock was released
