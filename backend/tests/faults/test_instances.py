"""Several instances started at once on an empty database; graceful shutdown on SIGTERM."""

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx

from tests.conftest import drop_schema, hs256_token
from tests.faults.cluster import Cluster
from tests.faults.server import Server


def test_instances_starting_together_migrate_once_and_all_serve(
    cluster: Cluster, tmp_path: Path
) -> None:
    asyncio.run(drop_schema(cluster.url()))
    servers = [Server(cluster.url(), tmp_path) for _ in range(3)]
    try:
        for server in servers:
            server.wait_ready()
        headers = {"Authorization": f"Bearer {hs256_token('u')}"}
        statuses = [
            httpx.get(f"{s.base_url}/api/u/tasks", headers=headers).status_code for s in servers
        ]
    finally:
        logs = [server.stop() for server in servers]

    assert statuses == [200, 200, 200]
    assert sum("Running upgrade  -> 0001_create_tasks" in log for log in logs) == 1


async def in_flight_request_survives_sigterm(cluster: Cluster, server: Server) -> tuple[int, float]:
    headers = {"Authorization": f"Bearer {hs256_token('u')}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client:
        task = (await client.post("/api/u/tasks", json={"title": "slow"})).json()
        locker = await asyncpg.connect(cluster.url())
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", task["id"])
        pending = asyncio.create_task(
            client.put(f"/api/u/tasks/{task['id']}", json={"title": "done"})
        )
        await asyncio.sleep(0.5)  # the request now waits on the row lock, inside the server
        server.process.terminate()  # SIGTERM while it is in flight
        await asyncio.sleep(0.5)
        await transaction.rollback()
        await locker.close()
        started = time.monotonic()
        response = await pending
        return response.status_code, time.monotonic() - started


def test_sigterm_lets_in_flight_requests_finish_and_closes_the_pool(
    cluster: Cluster, tmp_path: Path
) -> None:
    server = Server(cluster.url(), tmp_path, DATABASE_URL=cluster.url("?application_name=graceful"))
    server.wait_ready()
    status, _ = asyncio.run(in_flight_request_survives_sigterm(cluster, server))
    log = server.stop()

    assert status == 200
    assert "Application shutdown complete" in log
    assert asyncio.run(connections_named(cluster.url(), "graceful")) == 0


async def connections_named(url: str, name: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
            )
        )
    finally:
        await connection.close()
