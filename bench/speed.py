"""Throughput of the API next to a raw-asyncpg floor, on the same seeded PostgreSQL, same run.

    python bench/speed.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                          [--users 1000] [--tasks 100] [--duration 10] [--warmup 3]

Needs wrk (apt-get install wrk). Creates a throwaway database beside the one named,
migrates it with the project's migrations, bulk-loads users x tasks (bench/seeding.py),
then for the floor (bench/floor_app.py) and for `todo-api serve` (one worker, defaults)
drives the workloads list, get, create, toggle and mixed (wrk -t1 -c32, bench/wrk/tasks.lua;
data reloaded before each app) and prints a markdown table of req/s and p50/p99 with
ratios to the floor, plus the API worker's peak RSS after the mixed load.
"""

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import common
import httpx
from common import admin, free_port
from seeding import load_tasks, write_tokens

HERE = Path(__file__).resolve().parent
WORKLOADS = ["list", "get", "create", "toggle", "mixed"]


def wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"not ready: {url}")


def drive(base: str, workload: str, tokens: str, args: argparse.Namespace) -> dict[str, float]:
    env = {**os.environ, "WORKLOAD": workload, "TOKENS_FILE": tokens}
    wrk = ["wrk", "-t1", "-c32", "--timeout", "5s", "-s", str(HERE / "wrk" / "tasks.lua"), base]
    subprocess.run([*wrk[:3], f"-d{args.warmup}s", *wrk[3:]], env=env, capture_output=True)
    run = subprocess.run(
        [*wrk[:3], f"-d{args.duration}s", *wrk[3:]], env=env, capture_output=True, text=True
    )
    line = next((line for line in run.stdout.splitlines() if line.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{run.stdout}\n{run.stderr}")
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    url: str,
    tokens: str,
    args: argparse.Namespace,
) -> tuple[dict[str, dict[str, float]], float]:
    asyncio.run(load_tasks(env["DATABASE_URL"], users=args.users, tasks=args.tasks))
    server = subprocess.Popen(command, env=env, cwd=HERE.parent)
    try:
        wait_ready(url)
        results = {}
        for workload in WORKLOADS:
            results[workload] = drive(url, workload, tokens, args)
            print(name, workload, results[workload], file=sys.stderr)
        return results, peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def table(floor: dict[str, dict[str, float]], api: dict[str, dict[str, float]]) -> str:
    lines = [
        "| workload | floor req/s | API req/s | API / floor | p50 floor / API (ms) "
        "| p99 floor / API (ms) | API non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for w in WORKLOADS:
        f, a = floor[w], api[w]
        lines.append(
            f"| {w} | {f['rps']:,.0f} | {a['rps']:,.0f} | {a['rps'] / f['rps']:.2f}x "
            f"| {f['p50_ms']:.1f} / {a['p50_ms']:.1f} | {f['p99_ms']:.1f} / {a['p99_ms']:.1f} "
            f"| {a['non2xx']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    name = f"todo_speed_{uuid4().hex[:8]}"
    url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    secret = secrets.token_urlsafe(48)
    asyncio.run(admin(args.database_url, f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": secret,
        "BETTER_AUTH_SECRET": secret,
        "LOG_LEVEL": "WARNING",
        # The limiter still runs on every request; a quota this high keeps small --users
        # runs measuring service rather than 429s.
        "RATE_LIMIT_PER_MINUTE": "1000000",
    }
    try:
        subprocess.run([sys.executable, "-m", "todo_api.cli", "migrate"], env=env, check=True)
        with tempfile.TemporaryDirectory() as scratch:
            tokens = f"{scratch}/tokens.txt"
            write_tokens(tokens, secret, users=args.users, tasks=args.tasks)
            port = free_port()
            floor_cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(HERE),
                "floor_app:app",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
            floor, _ = measure("floor", floor_cmd, env, f"http://127.0.0.1:{port}", tokens, args)
            port = free_port()
            api_cmd = [sys.executable, "-m", "todo_api.cli", "serve", "--port", str(port)]
            api, rss = measure("api", api_cmd, env, f"http://127.0.0.1:{port}", tokens, args)
        print(table(floor, api))
        print(f"\nAPI worker peak RSS after all five workloads (mixed last): {rss:.0f} MiB")
    finally:
        asyncio.run(admin(args.database_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
