"""Behind a real PgBouncer in transaction pooling mode (as Neon's -pooler host works), with a
small server pool and two API workers under concurrent mixed load: zero errors."""

import asyncio
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import hs256_token
from tests.faults.cluster import Cluster, free_port
from tests.faults.server import Server

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@pytest.fixture
def pgbouncer(cluster: Cluster) -> Iterator[int]:
    if not Path(PGBOUNCER).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the PgBouncer test, but pgbouncer is not installed")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    port = free_port()
    directory = cluster.directory
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"""[databases]
postgres = host=127.0.0.1 port={cluster.port} dbname=postgres user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
pool_mode = transaction
default_pool_size = 3
max_client_conn = 200
logfile = {directory / "pgbouncer.log"}
pidfile = {directory / "pgbouncer.pid"}
"""
    )
    (directory / "users.txt").write_text('"postgres" ""\n')
    runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    for path in (config, directory / "users.txt"):
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen([*runner, PGBOUNCER, str(config)])
    yield port
    process.terminate()
    process.wait(timeout=10)


async def mixed_load(base_url: str, users: int = 8, requests_per_user: int = 60) -> list[int]:
    async def user_session(n: int) -> list[int]:
        user = f"bouncer-{n}"
        headers = {"Authorization": f"Bearer {hs256_token(user, lifetime=600)}"}
        rng = random.Random(n)
        statuses: list[int] = []
        ids: list[int] = []
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
            for _ in range(requests_per_user):
                roll = rng.random()
                if roll < 0.2 or not ids:
                    response = await client.post(
                        f"/api/{user}/tasks", json={"title": "t", "tags": ["x"]}
                    )
                    if response.status_code == 201:
                        ids.append(response.json()["id"])
                elif roll < 0.3:
                    response = await client.patch(f"/api/{user}/tasks/{rng.choice(ids)}/complete")
                elif roll < 0.6:
                    response = await client.get(f"/api/{user}/tasks/{rng.choice(ids)}")
                else:
                    response = await client.get(
                        f"/api/{user}/tasks", params={"tag": "x", "limit": 20}
                    )
                statuses.append(response.status_code)
        return statuses

    results = await asyncio.gather(*(user_session(n) for n in range(users)))
    return [status for statuses in results for status in statuses]


def test_two_workers_behind_pgbouncer_transaction_mode_make_no_errors(
    cluster: Cluster, pgbouncer: int, tmp_path: Path
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{pgbouncer}/postgres"
    server = Server(url, tmp_path, workers=2, DATABASE_PGBOUNCER="true")
    try:
        server.wait_ready()
        statuses = asyncio.run(mixed_load(server.base_url))
    finally:
        log = server.stop()

    assert len(statuses) == 8 * 60
    assert set(statuses) <= {200, 201}, log[-3000:]
