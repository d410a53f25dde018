"""Give `../shared/bench`'s PostgreSQL the project's own schema, seeded like its `tasks` table.

    eval "$(../shared/bench/pg.sh env)"
    python bench/shared_seed.py        # schema `todo`: migrations, 1,000 users x 100 tasks

The API then runs against it with `DATABASE_URL="$DATABASE_URL?search_path=todo"`, and the
harness's token file fits (same users, same task ids). Run before each app start so every
`compare.sh` round measures the same data; bench/README.md has the full command.
"""

import asyncio
import os
import subprocess
import sys

import asyncpg
from seeding import load_tasks

SCHEMA = "todo"


async def create_schema(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        # From scratch each time: apps of different revisions may take turns on it.
        await connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await connection.execute(f"CREATE SCHEMA {SCHEMA}")
    finally:
        await connection.close()


def main() -> None:
    url = os.environ["DATABASE_URL"]
    asyncio.run(create_schema(url))
    in_schema = f"{url}{'&' if '?' in url else '?'}search_path={SCHEMA}"
    migrate = [sys.executable, "-m", "todo_api.cli", "migrate"]
    env = {**os.environ, "DATABASE_URL": in_schema}
    subprocess.run(migrate, env=env, check=True, stdout=subprocess.DEVNULL)
    asyncio.run(load_tasks(in_schema, users=1000, tasks=100))


if __name__ == "__main__":
    main()
