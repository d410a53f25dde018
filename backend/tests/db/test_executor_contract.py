"""The asyncpg executor returns what SQLAlchemy's own async engine returns, statement by statement.

Every statement the service sends through the fast executor while serving a workload of
every route (lists of each shape, pages, writes of each kind) is recorded, then run again
twice from the same state, each time in a transaction that is rolled back: once on the
executor and once on SQLAlchemy's async engine (asyncpg driver). Rows must agree in keys,
values and types (ids of inserted rows aside, since a sequence does not roll back), or
fail with the same SQLSTATE (a replayed tag insert can meet the tag the workload later kept).
"""

from collections.abc import Mapping
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from tests.conftest import postgres_only, serve
from todo_api.config import Settings
from todo_api.db.asyncpg_database import PostgresDatabase
from todo_api.db.connect import build_engine, open_database
from todo_api.db.executor import Database, Params
from todo_api.main import create_app

Recorded = tuple[Executable, dict[str, Any] | None]


class _Rollback(Exception):
    pass


async def _workload(settings: Settings, tasks_url: str) -> None:
    async with serve(create_app(settings)) as http:
        ids = []
        extras: list[dict[str, Any]] = [
            {"tags": ["home", "été"], "priority": "high", "due_at": "2026-12-01T09:00:00Z"},
            {"description": "oat milk", "completed": True},
            {"recurrence": {"frequency": "weekly", "interval": 2}, "tags": ["work"]},
            {"priority": "low", "due_at": "2026-11-01T09:00:00+02:00"},
        ]
        for i, extra in enumerate(extras):
            created = await http.post(tasks_url, json={"title": f"Task {i} milk", **extra})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        for query in [
            "",
            "limit=1",
            "status=pending&sort=due_date",
            "status=completed&tag=home",
            "tag=home&tag=été",
            "q=milk&priority=high&priority=low",
            "sort=title&order=desc&limit=2",
            "sort=priority&limit=2",
            "sort=updated&due_before=2026-12-31T00:00:00Z&due_after=2026-01-01T00:00:00Z",
            "overdue=true",
            "overdue=false&limit=1",
        ]:
            page = await http.get(f"{tasks_url}?{query}")
            assert page.status_code == 200, page.text
            if "next" in page.headers.get("link", ""):
                following = page.headers["link"].split(";")[0].strip("<>")
                assert (await http.get(following)).status_code == 200
        assert (await http.get(f"{tasks_url}/{ids[0]}")).status_code == 200
        update = {"title": "Renamed", "tags": ["work"], "completed": True}
        assert (await http.put(f"{tasks_url}/{ids[0]}", json=update)).status_code == 200
        assert (await http.patch(f"{tasks_url}/{ids[1]}/complete")).status_code == 200
        assert (await http.patch(f"{tasks_url}/{ids[2]}/complete")).status_code == 200
        completed = await http.patch(f"{tasks_url}/{ids[3]}/complete", json={"completed": True})
        assert completed.status_code == 200
        assert (await http.get(tasks_url.replace("/tasks", "/tags"))).status_code == 200
        assert (await http.delete(f"{tasks_url}/{ids[1]}")).status_code == 204


def _normalised(rows: list[Mapping[str, Any]], *, inserted: bool) -> list[dict[str, Any]]:
    return [
        {
            key: (type(value).__name__, None if inserted and key == "id" else value)
            for key, value in row.items()
        }
        for row in rows
    ]


async def _on_executor(db: Database, statement: Executable, params: Params | None) -> Any:
    rows: list[Any] = []
    try:
        async with db.transaction() as tx:
            rows = [dict(row) for row in await tx.all(statement, params)]
            raise _Rollback
    except _Rollback:
        return rows
    except asyncpg.PostgresError as exc:
        return exc.sqlstate


async def _on_engine(engine: AsyncEngine, statement: Executable, params: Params | None) -> Any:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            result = await connection.execute(statement, params)
        except DBAPIError as exc:
            return exc.orig.sqlstate  # type: ignore[union-attr]
        finally:
            await transaction.rollback()
        return [dict(row) for row in result.mappings()] if result.returns_rows else []


@postgres_only
async def test_every_statement_returns_what_sqlalchemy_returns(
    settings: Settings, tasks_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[Recorded] = []
    run = PostgresDatabase.all

    async def recording(
        self: PostgresDatabase, statement: Executable, params: Params | None = None, **kw: Any
    ) -> Any:
        recorded.append((statement, dict(params) if params is not None else None))
        return await run(self, statement, params, **kw)

    monkeypatch.setattr(PostgresDatabase, "all", recording)
    await _workload(settings, tasks_url)
    monkeypatch.undo()

    db = await open_database(settings)
    engine = build_engine(settings)
    try:
        compared = 0
        for statement, params in recorded:
            fast = await _on_executor(db, statement, params)
            reference = await _on_engine(engine, statement, params)
            if isinstance(reference, str):  # an error: the same SQLSTATE
                assert fast == reference, statement
                continue
            inserted = isinstance(statement, Insert) or "INSERT INTO tasks" in str(statement)
            assert _normalised(fast, inserted=inserted) == _normalised(
                reference, inserted=inserted
            ), statement
            compared += bool(reference)
    finally:
        await engine.dispose()
        await db.close()
    assert len(recorded) > 30
    assert compared > 25  # most statements return rows to compare
