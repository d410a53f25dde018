"""What the benchmark scripts share: their command line's database, a free port, admin SQL."""

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx


def parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with `--database-url`: the server to make a throwaway database on."""
    parsed = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parsed.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    return parsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def served(env: dict[str, str]) -> Iterator[str]:
    """`todo-api serve` (one worker, no access log) with `env`, up: yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "todo_api.cli", "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
