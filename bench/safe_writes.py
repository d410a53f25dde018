"""What safe writes cost: create with and without an Idempotency-Key, and 50 tasks created by
one batch against 50 single creates, side by side in one run.

    python bench/safe_writes.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                                [--seconds 5] [--concurrency 1] [--rounds 3]

Creates a throwaway database beside the one named (dropped at the end), migrates it, starts
`todo-api serve` (one worker) and, for each round, runs each workload for `--seconds` with
`--concurrency` clients (each its own user; by default one, so that the figures are each
request's own cost, side by side). Prints the median of the rounds as a markdown table: tasks
created per second and requests per second.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from itertools import count
from uuid import uuid4

import common
import httpx
import jwt
from common import admin, served

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
BATCH_SIZE = 50

Workload = Callable[[httpx.AsyncClient, str, "count[int]"], Awaitable[int]]


def token(user: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")


async def create_plain(client: httpx.AsyncClient, user: str, _keys: "count[int]") -> int:
    response = await client.post(f"/api/{user}/tasks", json={"title": "plain"})
    response.raise_for_status()
    return 1


async def create_with_key(client: httpx.AsyncClient, user: str, keys: "count[int]") -> int:
    headers = {"Idempotency-Key": f"bench-{user}-{next(keys)}"}
    response = await client.post(f"/api/{user}/tasks", json={"title": "keyed"}, headers=headers)
    response.raise_for_status()
    return 1


async def fifty_singles(client: httpx.AsyncClient, user: str, _keys: "count[int]") -> int:
    for _ in range(BATCH_SIZE):
        (await client.post(f"/api/{user}/tasks", json={"title": "single"})).raise_for_status()
    return BATCH_SIZE


async def one_batch(client: httpx.AsyncClient, user: str, _keys: "count[int]") -> int:
    operations = [{"op": "create", "task": {"title": f"batched {i}"}} for i in range(BATCH_SIZE)]
    response = await client.post(f"/api/{user}/tasks/batch", json={"operations": operations})
    response.raise_for_status()
    return BATCH_SIZE


# name -> (one unit of work, requests per task created)
WORKLOADS: dict[str, tuple[Workload, float]] = {
    "create": (create_plain, 1),
    "create + Idempotency-Key": (create_with_key, 1),
    "50 tasks: 50 single creates": (fifty_singles, 1),
    "50 tasks: one 50-operation batch": (one_batch, 1 / BATCH_SIZE),
}


async def run(base: str, work: Workload, seconds: float, concurrency: int) -> tuple[int, float]:
    """Units of `work` done by `concurrency` clients in `seconds`; returns (tasks, elapsed)."""
    keys = count()
    deadline = time.perf_counter() + seconds
    done = 0

    async def client_loop() -> None:
        nonlocal done
        user = f"bench-{uuid4().hex[:12]}"
        headers = {"Authorization": f"Bearer {token(user)}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            while time.perf_counter() < deadline:
                done += await work(client, user, keys)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return done, time.perf_counter() - started


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    name = f"todo_bench_{uuid4().hex[:8]}"
    bench_url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(args.database_url, f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "BETTER_AUTH_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "MAX_TASKS_PER_USER": "100000000",
    }
    try:
        subprocess.run([sys.executable, "-m", "todo_api.cli", "migrate"], env=env, check=True)
        with served(env) as base:
            rates: dict[str, list[float]] = {name: [] for name in WORKLOADS}
            for _round in range(args.rounds):
                for workload, (work, _requests) in WORKLOADS.items():
                    tasks, elapsed = asyncio.run(run(base, work, args.seconds, args.concurrency))
                    rates[workload].append(tasks / elapsed)
    finally:
        asyncio.run(admin(args.database_url, f'DROP DATABASE "{name}" WITH (FORCE)'))

    print("| workload | tasks/s (median) | requests/s | rounds (tasks/s) |")
    print("|---|---:|---:|---|")
    for workload, (_work, requests_per_task) in WORKLOADS.items():
        median = statistics.median(rates[workload])
        rounds = ", ".join(f"{rate:,.0f}" for rate in rates[workload])
        print(f"| {workload} | {median:,.0f} | {median * requests_per_task:,.0f} | {rounds} |")


if __name__ == "__main__":
    main()
