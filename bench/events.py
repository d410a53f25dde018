"""Live events at scale: one worker holding idle subscribers, what they cost it, and how fast
an event reaches them.

    python bench/events.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                           [--subscribers 1000] [--samples 300] [--duration 10] [--rounds 3]

Needs wrk (apt-get install wrk). Creates a throwaway database beside the one named (dropped
at the end), seeds one user per subscriber (20 tasks each, the shared bench's layout) and
starts `todo-api serve` with one worker. Twice as many users are seeded: wrk writes as the first
half; subscribers are either the other half (idle: no event for them) or the writers
themselves (active: each write is an event to deliver). Then:

1. memory: the worker's RSS before and after `--subscribers` streams connect (one per user,
   raw sockets, so the subscribers cost the machine next to nothing);
2. delivery: `--samples` creates, one at a time to random users; the delay from each write's
   response to its event at that user's subscriber (and that no other subscriber got it);
3. CRUD beside them: wrk's mixed and create workloads (bench/wrk/tasks.lua, -c32), alone, with
   idle subscribers and with active ones, in turn, `--rounds` times.

Prints markdown tables (medians of the rounds).
"""

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import common
import httpx
from common import admin, free_port
from seeding import load_tasks, mint, user_id, write_tokens
from speed import drive, wait_ready

TASKS_PER_USER = 20


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


class Subscriber:
    """One user's stream over a raw socket: counts events, notes when each task's arrived."""

    def __init__(self, port: int, user: str, token: str) -> None:
        self.port, self.user, self.token = port, user, token
        self.arrived: dict[int, float] = {}
        self.foreign = 0
        self.events = 0
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = (
            f"GET /api/{self.user}/events HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        self._writer.write(request.encode())
        status = await reader.readline()
        if b" 200 " not in status:
            raise SystemExit(f"subscribe failed: {status!r}")
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        owner = f'"user_id":"{self.user}"'.encode()
        while line := await reader.readline():
            if line.startswith(b"data: {"):
                self.events += 1
                if owner not in line:
                    self.foreign += 1
                match = re.match(rb'data: \{"id":(\d+)', line)
                if match:
                    self.arrived.setdefault(int(match.group(1)), time.perf_counter())

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()


async def subscribe_all(port: int, secret: str, users: range) -> list[Subscriber]:
    subscribers = [Subscriber(port, user_id(n), mint(secret, user_id(n))) for n in users]
    # In waves: 1,000 connects at once would overflow the listen backlog.
    for start in range(0, len(users), 100):
        await asyncio.gather(*(s.connect() for s in subscribers[start : start + 100]))
    return subscribers


async def delivery(
    base: str, secret: str, subscribers: list[Subscriber], samples: int
) -> list[float]:
    delays = []
    async with httpx.AsyncClient(base_url=base) as http:
        for n in range(samples):
            subscriber = subscribers[(n * 7919) % len(subscribers)]
            headers = {"Authorization": f"Bearer {subscriber.token}"}
            response = await http.post(
                f"/api/{subscriber.user}/tasks", json={"title": f"event {n}"}, headers=headers
            )
            answered = time.perf_counter()
            task_id = response.json()["id"]
            deadline = answered + 5
            while task_id not in subscriber.arrived and time.perf_counter() < deadline:  # noqa: ASYNC110 (a poll at 0.5 ms adds less than an Event per task)
                await asyncio.sleep(0.0005)
            if task_id not in subscriber.arrived:
                raise SystemExit(f"event for task {task_id} never arrived")
            delays.append(max(0.0, subscriber.arrived[task_id] - answered) * 1000)
    return delays


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(
    args: argparse.Namespace, base: str, port: int, pid: int, secret: str, tokens: str
) -> None:
    idle_rss = rss_mib(pid)
    writers = range(1, args.subscribers + 1)
    idle = range(args.subscribers + 1, 2 * args.subscribers + 1)
    subscribers = await subscribe_all(port, secret, writers)
    await asyncio.sleep(2)
    held_rss = rss_mib(pid)
    delays = await delivery(base, secret, subscribers, args.samples)
    foreign = sum(s.foreign for s in subscribers)
    columns = ["subscribers", "worker RSS before / with them", "per subscriber"]
    columns += ["delivery p50 / p99 / max", "foreign events"]
    print("| " + " | ".join(columns) + " |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {args.subscribers:,} | {idle_rss:.0f} / {held_rss:.0f} MiB "
        f"| {(held_rss - idle_rss) * 1024 / args.subscribers:.1f} KiB "
        f"| {percentile(delays, 0.5):.1f} / {percentile(delays, 0.99):.1f} / {max(delays):.1f} ms "
        f"| {foreign} |"
    )
    for s in subscribers:
        await s.close()

    results: dict[str, dict[str, list[float]]] = {}
    modes = {"alone": None, "idle subscribers": idle, "active subscribers": writers}
    for _round in range(args.rounds):
        for mode, users in modes.items():
            streams = await subscribe_all(port, secret, users) if users else []
            await asyncio.sleep(1)
            for workload in ("mixed", "create"):
                result = await asyncio.to_thread(drive, base, workload, tokens, args)
                results.setdefault(workload, {}).setdefault(mode, []).append(result["rps"])
                print(workload, mode, result, file=sys.stderr)
            if streams:
                received = sum(s.events for s in streams)
                print(f"{mode}: {received:,} events received", file=sys.stderr)
            for s in streams:
                await s.close()
            await asyncio.sleep(1)
    print()
    print("| workload | req/s alone | with idle subscribers | with active subscribers |")
    print("|---|---:|---:|---:|")
    for workload, by in results.items():
        alone = statistics.median(by["alone"])
        cells = [f"{alone:,.0f}"]
        for mode in ("idle subscribers", "active subscribers"):
            rps = statistics.median(by[mode])
            cells.append(f"{rps:,.0f} ({rps / alone:.2f}x)")
        print(f"| {workload} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    name = f"todo_events_{uuid4().hex[:8]}"
    url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    secret = secrets.token_urlsafe(48)
    asyncio.run(admin(args.database_url, f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BETTER_AUTH_SECRET": secret,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "1000000",
    }
    try:
        subprocess.run([sys.executable, "-m", "todo_api.cli", "migrate"], env=env, check=True)
        asyncio.run(load_tasks(url, users=2 * args.subscribers, tasks=TASKS_PER_USER))
        with tempfile.TemporaryDirectory() as scratch:
            tokens = f"{scratch}/tokens.txt"
            write_tokens(
                tokens,
                secret,
                users=2 * args.subscribers,
                tasks=TASKS_PER_USER,
                first=args.subscribers,
            )
            port = free_port()
            command = [sys.executable, "-m", "todo_api.cli", "serve", "--port", str(port)]
            server = subprocess.Popen([*command, "--no-access-log"], env=env)
            base = f"http://127.0.0.1:{port}"
            try:
                wait_ready(f"{base}/health")
                asyncio.run(run(args, base, port, server.pid, secret, tokens))
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        asyncio.run(admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
