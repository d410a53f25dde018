"""The most expensive valid request of each route, against a plain list, side by side.

    python bench/worst_case.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                               [--rows 200000] [--requests 100]

Every request's database cost must be bounded by its input (issue #14): the filters are
capped (20 tags, 3 priorities, 10 search words, 500 tasks a page) and bodies are bounded,
so the dearest request a signed-in user can send stays a small multiple of a plain list.

Creates a throwaway database beside the one named (dropped at the end), migrates it with the
project's migrations, and loads `--rows` tasks of other users plus one user at the task limit
(10,000 tasks, each with 0 to 20 of 40 tags). It starts `todo-api serve` and measures each
request (sequential, one connection, after a warm-up) for that user, and prints a markdown
table of medians and ratios to the plain list.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import common
import httpx
import jwt
from common import admin, served

ROOT = Path(__file__).resolve().parent.parent
USER = "bench-worst-case-user"
SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
TASKS_PER_USER = 10_000
TAG_POOL = 40
TWENTY_TAGS = [f"t{i}" for i in range(20)]
TEN_SHORT_WORDS = "a e i o u s t n r l"  # one letter each: no trigram narrows them


def seed_sql(rows: int) -> str:
    """The user's tasks hold g % 21 tags, a window of the 40-tag pool; other users' rows
    are interleaved so that the user's tasks are spread through the table."""
    return f"""
    INSERT INTO tasks (user_id, title, description, completed, priority, tags, due_at,
                       completed_at, title_sort, search_text, created_at, updated_at)
    SELECT CASE WHEN g <= {TASKS_PER_USER} THEN '{USER}' ELSE 'user-' || (g % 5000) END,
           'Task ' || g || ' about a report',
           'Notes on item ' || g,
           g % 3 = 0,
           1 + g % 3,
           COALESCE((SELECT json_agg('t' || ((g + j) % {TAG_POOL}))
                     FROM generate_series(0, (g % 21) - 1) AS j), '[]'),
           CASE WHEN g % 7 = 0 THEN NULL ELSE now() + ((g % 60) - 20) * interval '1 day' END,
           CASE WHEN g % 3 = 0 THEN now() END,
           'task ' || g || ' about a report',
           'task ' || g || ' about a report' || chr(10) || 'notes on item ' || g,
           now() - (({rows} - g) * interval '1 second'),
           now() - (({rows} - g) * interval '1 second')
    FROM generate_series(1, {rows}) AS g;
    INSERT INTO task_tags (task_id, tag, user_id)
        SELECT id, tag, user_id FROM tasks, json_array_elements_text(tags) AS tag;
    INSERT INTO task_counts (user_id, tag, total, completed)
        SELECT user_id, '', count(*), count(*) FILTER (WHERE completed) FROM tasks GROUP BY user_id
        UNION ALL
        SELECT tt.user_id, tt.tag, count(*), count(*) FILTER (WHERE t.completed)
        FROM task_tags tt JOIN tasks t ON t.id = tt.task_id GROUP BY tt.user_id, tt.tag;
    """


def _max_body() -> dict[str, Any]:
    return {
        "title": "T" * 200,
        "description": "D" * 1000,
        "priority": "high",
        "tags": [f"{i:02d}" + "x" * 48 for i in range(20)],
        "due_at": "2026-12-01T09:00:00Z",
        "recurrence": {"frequency": "monthly", "interval": 365},
    }


# name -> (method, path after /api/{user}, query, body); the first is the reference.
REQUESTS: dict[str, tuple[str, str, Any, Any]] = {
    "plain list (limit=50)": ("GET", "/tasks", {"limit": 50}, None),
    "list, 20 tags": ("GET", "/tasks", [("tag", t) for t in TWENTY_TAGS] + [("limit", 50)], None),
    "list, 20 tags that no task has": (
        "GET",
        "/tasks",
        [("tag", f"absent{i}") for i in range(20)] + [("limit", 50)],
        None,
    ),
    "list, 10 one-letter words": ("GET", "/tasks", {"q": TEN_SHORT_WORDS, "limit": 50}, None),
    "list, every filter at its cap, sort=title, limit=500": (
        "GET",
        "/tasks",
        [("tag", t) for t in TWENTY_TAGS[:2]]
        + [("priority", p) for p in ("low", "medium", "high")]
        + [
            ("q", TEN_SHORT_WORDS),
            ("due_after", "2000-01-01T00:00:00Z"),
            ("due_before", "2100-01-01T00:00:00Z"),
            ("overdue", "false"),
            ("status", "all"),
            ("sort", "title"),
            ("limit", 500),
        ],
        None,
    ),
    "list, limit=500, sort=due_date": ("GET", "/tasks", {"limit": 500, "sort": "due_date"}, None),
    "tags (40 tags)": ("GET", "/tags", None, None),
    "get": ("GET", "/tasks/{id}", None, None),
    "create, largest body": ("POST", "/tasks", None, _max_body()),
    "update, largest body": ("PUT", "/tasks/{id}", None, _max_body()),
    "toggle": ("PATCH", "/tasks/{id}/complete", None, None),
}


def token() -> str:
    now = int(time.time())
    return jwt.encode({"sub": USER, "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")


def measure(base: str, requests: int, task_id: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    headers = {"Authorization": f"Bearer {token()}"}
    with httpx.Client(base_url=f"{base}/api/{USER}", headers=headers, timeout=60) as client:
        for name, (method, path, query, body) in REQUESTS.items():
            url = path.replace("{id}", str(task_id))
            samples = []
            for i in range(requests + requests // 5):
                started = time.perf_counter()
                response = client.request(method, url, params=query, json=body)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code >= 300:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                if method == "POST":  # keep the user at the limit
                    client.delete(f"/tasks/{response.json()['id']}").raise_for_status()
                if i >= requests // 5:  # the first fifth warms up
                    samples.append(elapsed)
            timings[name] = samples
    return timings


def report(timings: dict[str, list[float]]) -> str:
    reference = statistics.median(next(iter(timings.values())))
    lines = [
        "| request | p50 ms | p95 ms | x plain list |",
        "|---|---:|---:|---:|",
    ]
    for name, samples in timings.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        lines.append(f"| {name} | {median:.2f} | {p95:.2f} | {median / reference:.1f}x |")
    return "\n".join(lines)


async def seed(url: str, rows: int) -> int:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(seed_sql(rows))
        await connection.execute("VACUUM ANALYZE")
        task_id: int = await connection.fetchval(
            "SELECT min(id) FROM tasks WHERE user_id = $1", USER
        )
        return task_id
    finally:
        await connection.close()


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    name = f"todo_bench_{uuid4().hex[:8]}"
    admin_url = args.database_url
    bench_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(admin_url, f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "BETTER_AUTH_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "1000000",  # measures cost, not the limiter
        "MAX_TASKS_PER_USER": str(TASKS_PER_USER + 1),
    }
    try:
        subprocess.run([sys.executable, "-m", "todo_api.cli", "migrate"], env=env, check=True)
        task_id = asyncio.run(seed(bench_url, args.rows))
        with served(env) as base:
            timings = measure(base, args.requests, task_id)
        print(report(timings))
    finally:
        asyncio.run(admin(admin_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
