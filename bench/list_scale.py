"""List latency at scale: one user with 100,000 tasks among 1,000,000 rows, next to a user with 100.

    python bench/list_scale.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                               [--rows 1000000] [--heavy 100000] [--requests 200]

Creates a throwaway database beside the one named (dropped at the end unless --keep), migrates
it with the project's own migrations, bulk-loads the rows, starts `todo-api serve` on it, and
for each common query measures the first page through HTTP (sequential requests, one
connection) for the heavy and the light user, side by side in the same run. It prints a
markdown table (latency and heavy/light ratios) and the PostgreSQL plan of each query.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import asyncpg
import common
import httpx
import jwt
from common import admin, served

ROOT = Path(__file__).resolve().parent.parent
HEAVY, LIGHT = "bench-heavy-user", "bench-light-user"
SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
WORDS = ["report", "groceries", "meeting", "invoice", "garden", "dentist", "car", "taxes"]
TAGS = ["work", "home", "errand", "health"]
QUERIES = {
    "default list": {},
    "status=pending, sort=due_date": {"status": "pending", "sort": "due_date"},
    "tag=work": {"tag": "work"},
    "q=invoice": {"q": "invoice"},
}


def seed_sql(rows: int, heavy: int) -> str:
    """Rows interleaved across users: each user's tasks spread through the table, as in real use."""
    step = rows // heavy
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    tags = "ARRAY[" + ",".join(f"'{t}'" for t in TAGS) + "]"
    return f"""
    INSERT INTO tasks (id, user_id, title, description, completed, priority, tags, due_at,
                       completed_at, title_sort, search_text, created_at, updated_at)
    SELECT g,
           CASE WHEN g % {step} = 0 THEN '{HEAVY}'
                WHEN g % {step} = 1 AND g <= {step * 100} THEN '{LIGHT}'
                ELSE 'user-' || (g % 9000) END,
           'Task ' || g || ' ' || w.word,
           'Notes about the ' || w.word,
           g % 3 = 0,
           1 + (g / {step}) % 3,
           json_build_array(t.tag),
           CASE WHEN g % 7 = 0 THEN NULL ELSE now() + ((g % 60) - 20) * interval '1 day' END,
           CASE WHEN g % 3 = 0 THEN now() END,
           'task ' || g || ' ' || w.word,
           'task ' || g || ' ' || w.word || chr(10) || 'notes about the ' || w.word,
           now() - (({rows} - g) * interval '1 second'),
           now() - (({rows} - g) * interval '1 second')
    FROM generate_series(1, {rows}) AS g,
         LATERAL (SELECT ({words})[1 + (g / {step}) % {len(WORDS)}] AS word) AS w,
         LATERAL (SELECT ({tags})[1 + (g / {step} / 3) % {len(TAGS)}] AS tag) AS t;
    INSERT INTO task_tags (task_id, tag, user_id) SELECT id, tags->>0, user_id FROM tasks;
    INSERT INTO task_counts (user_id, tag, total, completed)
        SELECT user_id, '', count(*), count(*) FILTER (WHERE completed) FROM tasks GROUP BY user_id
        UNION ALL
        SELECT tt.user_id, tt.tag, count(*), count(*) FILTER (WHERE t.completed)
        FROM task_tags tt JOIN tasks t ON t.id = tt.task_id GROUP BY tt.user_id, tt.tag;
    SELECT setval('tasks_id_seq', (SELECT max(id) FROM tasks));
    """


async def seed(url: str, rows: int, heavy: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        started = time.monotonic()
        await connection.execute(seed_sql(rows, heavy))
        await connection.execute("VACUUM ANALYZE tasks")
        await connection.execute("VACUUM ANALYZE task_tags")
        counts = await connection.fetch(
            "SELECT user_id, count(*) FROM tasks WHERE user_id IN ($1, $2) GROUP BY user_id",
            HEAVY,
            LIGHT,
        )
        total = await connection.fetchval("SELECT count(*) FROM tasks")
        print(
            f"seeded {total:,} rows in {time.monotonic() - started:.0f} s:",
            dict(counts),
            file=sys.stderr,
        )
    finally:
        await connection.close()


def token(user_id: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")


def measure(base: str, requests: int) -> dict[tuple[str, str], list[float]]:
    timings: dict[tuple[str, str], list[float]] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for name, params in QUERIES.items():
            for user in (HEAVY, LIGHT):
                headers = {"Authorization": f"Bearer {token(user)}"}
                url = f"/api/{user}/tasks"
                for _ in range(requests // 10):  # warm-up, discarded
                    client.get(url, params=params, headers=headers).raise_for_status()
                samples = []
                for _ in range(requests):
                    started = time.perf_counter()
                    client.get(url, params=params, headers=headers).raise_for_status()
                    samples.append((time.perf_counter() - started) * 1000)
                timings[(name, user)] = samples
    return timings


async def plans(url: str) -> dict[str, str]:
    """EXPLAIN ANALYZE of the page query the app runs for the heavy user."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

    from todo_api.db.types import utc_now
    from todo_api.tasks.list_query import TaskListQuery

    connection = await asyncpg.connect(url)
    result = {}
    try:
        for name, params in QUERIES.items():
            query = TaskListQuery.model_validate(
                {key: [value] if key == "tag" else value for key, value in params.items()}
            )
            page = query.statements().page
            statement = page.params(query.parameters(HEAVY, utc_now()))
            sql = str(
                statement.compile(dialect=asyncpg_dialect(), compile_kwargs={"literal_binds": True})
            )
            rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
            result[name] = "\n".join(row[0] for row in rows)
    finally:
        await connection.close()
    return result


def report(timings: dict[tuple[str, str], list[float]]) -> str:
    lines = [
        "| query | 100,000-task user p50 / p95 (ms) | 100-task user p50 / p95 (ms) "
        "| heavy / light (p50) |",
        "|---|---|---|---|",
    ]
    for name in QUERIES:
        heavy, light = timings[(name, HEAVY)], timings[(name, LIGHT)]
        h50, l50 = statistics.median(heavy), statistics.median(light)
        h95, l95 = statistics.quantiles(heavy, n=20)[-1], statistics.quantiles(light, n=20)[-1]
        lines.append(
            f"| {name} | {h50:.2f} / {h95:.2f} | {l50:.2f} / {l95:.2f} | {h50 / l50:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--heavy", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
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
        # Two users make ~900 requests each in about a minute: above the default quota.
        "RATE_LIMIT_PER_MINUTE": "1000000",
    }
    try:
        subprocess.run([sys.executable, "-m", "todo_api.cli", "migrate"], env=env, check=True)
        asyncio.run(seed(bench_url, args.rows, args.heavy))
        with served(env) as base:
            timings = measure(base, args.requests)
        print(report(timings))
        for query, plan in asyncio.run(plans(bench_url)).items():
            print(f"\n#### {query}\n```\n{plan}\n```")
    finally:
        if not args.keep:
            asyncio.run(admin(admin_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
