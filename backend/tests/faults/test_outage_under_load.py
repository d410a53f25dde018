"""PostgreSQL stopped under a steady load of writes, then started again."""

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from tests.conftest import hs256_token
from tests.faults.cluster import Cluster
from tests.faults.server import Server

WRITERS = 6
USER = "load-user"
HUNG = 0  # status recorded for a request that got no answer at all


@dataclass
class Outcome:
    title: str
    status: int
    started: float
    seconds: float
    retry_after: str | None


async def post(client: httpx.AsyncClient, title: str) -> Outcome:
    started = time.monotonic()
    try:
        response = await client.post(f"/api/{USER}/tasks", json={"title": title, "tags": ["load"]})
    except httpx.TimeoutException:
        return Outcome(title, HUNG, started, time.monotonic() - started, None)
    elapsed = time.monotonic() - started
    return Outcome(
        title, response.status_code, started, elapsed, response.headers.get("retry-after")
    )


async def write_steadily(base_url: str, until: float, writer: int) -> list[Outcome]:
    headers = {"Authorization": f"Bearer {hs256_token(USER, lifetime=600)}"}
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=15) as client:
        while time.monotonic() < until:
            outcomes.append(await post(client, f"w{writer}-{len(outcomes)}"))
            await asyncio.sleep(0.01)
    return outcomes


async def run_load(cluster: Cluster, base_url: str) -> tuple[list[Outcome], float, float]:
    began = time.monotonic()
    load = [asyncio.create_task(write_steadily(base_url, began + 12, w)) for w in range(WRITERS)]
    await asyncio.sleep(3)
    stopped_at = time.monotonic()
    await asyncio.to_thread(cluster.stop, "immediate")  # a crash, not a polite shutdown
    await asyncio.sleep(3)
    await asyncio.to_thread(cluster.start)
    restarted_at = time.monotonic()
    results = await asyncio.gather(*load)
    return [outcome for outcomes in results for outcome in outcomes], stopped_at, restarted_at


def test_writes_survive_a_database_restart(cluster: Cluster, tmp_path: Path) -> None:
    server = Server(cluster.url(), tmp_path, DB_CONNECT_TIMEOUT="2", DB_POOL_TIMEOUT="2")
    try:
        server.wait_ready()
        outcomes, stopped_at, restarted_at = asyncio.run(run_load(cluster, server.base_url))
    finally:
        log = server.stop()

    slow = [
        (round(o.started - stopped_at, 2), o.status, round(o.seconds, 2))
        for o in outcomes
        if o.seconds > 2
    ]
    assert {o.status for o in outcomes} <= {201, 503}, (slow, log[-3000:])
    assert not slow, slow  # fast 503s: nothing waits out a long timeout
    during = [o for o in outcomes if stopped_at + 0.5 < o.started < restarted_at - 0.5]
    assert during
    assert all(o.status == 503 and o.retry_after for o in during)
    recovered = [o for o in outcomes if o.started > restarted_at + 3]
    assert recovered
    assert all(o.status == 201 for o in recovered)  # back by itself within seconds

    stored = asyncio.run(stored_rows(cluster.url()))
    acknowledged = {o.title for o in outcomes if o.status == 201}
    assert acknowledged <= stored.titles  # every 201 is in the database
    assert stored.titles <= {o.title for o in outcomes}
    assert stored.counted == stored.rows == stored.tagged  # no write half-done
    assert "Traceback" not in log


@dataclass
class Stored:
    titles: set[str]
    rows: int
    tagged: int
    counted: int


async def stored_rows(url: str) -> Stored:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT title FROM tasks WHERE user_id = $1", USER)
        tagged = await connection.fetchval(
            "SELECT count(*) FROM task_tags WHERE user_id = $1", USER
        )
        counted = await connection.fetchval(
            "SELECT total FROM task_counts WHERE user_id = $1 AND tag = 'load'", USER
        )
        return Stored({row["title"] for row in rows}, len(rows), tagged, counted)
    finally:
        await connection.close()
