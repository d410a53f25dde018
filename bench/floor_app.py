"""The floor to measure the API against: raw ASGI + asyncpg + PyJWT + orjson, no framework.

It serves the benchmark's four routes on the project's own `tasks` table with one SQL
statement each (bearer HS256 check, owner-scoped SQL, JSON out), and nothing else: no
rate limits, no counters, no error format. Run by bench/speed.py:

    DATABASE_URL=... JWT_SECRET=... uvicorn --app-dir bench floor_app:app --port 8001
"""

import os
from typing import Any

import asyncpg
import jwt
import orjson

COLUMNS = "id, user_id, title, description, completed, priority, tags, due_at, completed_at, "
COLUMNS += "recurrence_frequency, recurrence_interval, created_at, updated_at"
LIST = f"SELECT {COLUMNS} FROM tasks WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
GET = f"SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"
CREATE = (
    "INSERT INTO tasks (user_id, title, description, completed, priority, tags, title_sort,"
    " search_text, created_at, updated_at) VALUES ($1, $2::text, $3::text, false, 2, '[]',"
    " lower($2::text), lower($2::text || chr(10) || coalesce($3::text, '')), now(), now())"
    f" RETURNING {COLUMNS}"
)
TOGGLE = (
    "UPDATE tasks SET completed = NOT completed, updated_at = now() "
    f"WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
)
JSON = [(b"content-type", b"application/json")]


class HTTPError(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


async def _no_reset(_connection: Any) -> None:
    return None


class Floor:
    def __init__(self) -> None:
        self.pool: Any = None
        self.secret = os.environ["JWT_SECRET"]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                self.pool = await asyncpg.create_pool(
                    os.environ["DATABASE_URL"], min_size=8, max_size=8, reset=_no_reset
                )
                await send({"type": "lifespan.startup.complete"})
            await self.pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        try:
            status, body = await self.dispatch(scope, receive)
        except HTTPError as error:
            status, body = error.status, b"{}"
        headers = [*JSON, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def dispatch(self, scope: Any, receive: Any) -> tuple[int, bytes]:
        parts = scope["path"].split("/")  # /api/{user_id}/tasks[/{id}[/complete]]
        if len(parts) < 4 or parts[1] != "api" or parts[3] != "tasks":
            raise HTTPError(404)
        user_id, method = parts[2], scope["method"]
        self.authorize(scope["headers"], user_id)
        if len(parts) == 4 and method == "GET":
            rows = await self.pool.fetch(LIST, user_id, 50)
            return 200, orjson.dumps([_task(row) for row in rows], option=orjson.OPT_UTC_Z)
        if len(parts) == 4 and method == "POST":
            data = orjson.loads(await _body(receive))
            title, description = data.get("title"), data.get("description")
            if not isinstance(title, str) or not 1 <= len(title) <= 200:
                raise HTTPError(422)
            row = await self.pool.fetchrow(CREATE, user_id, title, description)
            return 201, orjson.dumps(_task(row), option=orjson.OPT_UTC_Z)
        task_id = int(parts[4]) if parts[4].isdigit() and len(parts[4]) < 10 else 0
        sql = GET if len(parts) == 5 and method == "GET" else None
        if len(parts) == 6 and parts[5] == "complete" and method == "PATCH":
            sql = TOGGLE
        if sql is None:
            raise HTTPError(405)
        row = await self.pool.fetchrow(sql, task_id, user_id)
        if row is None:
            raise HTTPError(404)
        return 200, orjson.dumps(_task(row), option=orjson.OPT_UTC_Z)

    def authorize(self, headers: list[tuple[bytes, bytes]], user_id: str) -> None:
        token = next((value for name, value in headers if name == b"authorization"), b"")
        if token[:7].lower() != b"bearer ":
            raise HTTPError(401)
        try:
            claims = jwt.decode(token[7:], self.secret, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            raise HTTPError(401) from None
        if claims.get("sub") != user_id:
            raise HTTPError(403)


def _task(row: Any) -> dict[str, Any]:
    task = dict(row)
    task["priority"] = ("low", "medium", "high")[task["priority"] - 1]
    task["tags"] = orjson.loads(task["tags"])
    frequency = task.pop("recurrence_frequency")
    interval = task.pop("recurrence_interval")
    task["recurrence"] = (
        None if frequency is None else {"frequency": frequency, "interval": interval}
    )
    return task


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


app = Floor()
