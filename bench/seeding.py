"""Load the benchmark's tasks into a database migrated with the project's own migrations.

The layout is the one `../shared/bench` seeds, so its token files and task ids fit either:
user n is md5('bench-user-<n>'), and task k of user n has id (k - 1) * users + n, so each
user's tasks are spread through the table as after real use. Every derived column the
service keeps (sort and search text, the per-user counters) is filled as the API would.
"""

import hashlib
import time

import asyncpg
import jwt

ROWS = """
INSERT INTO tasks (id, user_id, title, description, completed, priority, tags, completed_at,
                   title_sort, search_text, created_at, updated_at)
SELECT id, user_id, title, description, completed, 2, '[]', CASE WHEN completed THEN stamp END,
       lower(title), lower(title || chr(10) || coalesce(description, '')), stamp, stamp
FROM (
    SELECT (k - 1) * $1::int + u AS id,
           md5('bench-user-' || u) AS user_id,
           'Task ' || k || ' of user ' || u AS title,
           CASE WHEN k % 3 = 0 THEN NULL
                ELSE 'Description of task ' || k
                     || ': buy milk, write the report, call the plumber, water the plants.'
           END AS description,
           k % 4 = 0 AS completed,
           now() - make_interval(secs => ($1::int * $2::int - ((k - 1) * $1::int + u)) * 10)
               AS stamp
    FROM generate_series(1, $1::int) AS u, generate_series(1, $2::int) AS k
) AS rows
"""
COUNTS = """
INSERT INTO task_counts (user_id, tag, total, completed)
SELECT user_id, '', count(*), count(*) FILTER (WHERE completed) FROM tasks GROUP BY user_id
"""


def user_id(n: int) -> str:
    return hashlib.md5(f"bench-user-{n}".encode(), usedforsecurity=False).hexdigest()


def mint(secret: str, subject: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + 30 * 24 * 3600}
    return jwt.encode(claims, secret, algorithm="HS256")


async def load_tasks(url: str, *, users: int, tasks: int) -> None:
    """Fill the (migrated, empty) tables: `users` x `tasks` rows and their counters."""
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute("TRUNCATE tasks, task_tags, task_counts")
            await connection.execute(ROWS, users, tasks)
            await connection.execute(COUNTS)
            await connection.execute("SELECT setval('tasks_id_seq', (SELECT max(id) FROM tasks))")
        await connection.execute("VACUUM ANALYZE tasks")
        await connection.execute("VACUUM ANALYZE task_counts")
    finally:
        await connection.close()


def write_tokens(
    path: str, secret: str, *, users: int, tasks: int, samples: int = 20, first: int | None = None
) -> None:
    """`<user_id> <jwt> <id>,<id>,...` per user (the `first` ones only, if given): `samples` of
    their task ids, spread out."""
    with open(path, "w") as out:
        for n in range(1, (first or users) + 1):
            ids = [(k - 1) * users + n for k in range(1, tasks + 1)]
            step = len(ids) / samples
            sample = ",".join(str(ids[int(i * step)]) for i in range(samples))
            out.write(f"{user_id(n)} {mint(secret, user_id(n))} {sample}\n")
