"""Statements whose best plan depends on the user are planned for each run; others reuse plans."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from tests.conftest import POSTGRES_URL, make_settings, requires_postgres
from todo_api.db.asyncpg_database import PostgresDatabase
from todo_api.db.connect import open_database
from todo_api.db.engine_database import EngineDatabase
from todo_api.db.executor import Database

SHOW = text("SHOW plan_cache_mode")


@requires_postgres
async def test_custom_plans_hold_for_their_transaction_only() -> None:
    db = await open_database(make_settings(POSTGRES_URL))
    try:
        async with db.transaction(custom_plans=True) as tx:
            inside = await tx.first(SHOW)
        async with db.transaction() as tx:
            plain = await tx.first(SHOW)
        after = await db.first(SHOW)
    finally:
        await db.close()

    modes = [row and row["plan_cache_mode"] for row in (inside, plain, after)]
    assert modes == ["force_custom_plan", "auto", "auto"]


@pytest.mark.parametrize(
    ("params", "custom"),
    [
        ({}, False),
        ({"status": "pending", "sort": "due_date"}, False),
        ({"q": "milk"}, True),
        ({"tag": "work"}, True),
    ],
)
async def test_lists_by_word_or_tag_are_planned_for_their_values(
    client: AsyncClient,
    tasks_url: str,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
    custom: bool,
) -> None:
    requested: list[bool] = []
    for database in (PostgresDatabase, EngineDatabase):
        monkeypatch.setattr(database, "transaction", recording(database.transaction, requested))
    await client.post(tasks_url, json={"title": "buy milk", "tags": ["work"]})
    requested.clear()

    response = await client.get(tasks_url, params=params)

    assert response.status_code == 200
    assert len(response.json()) == 1  # the task matches every one of these lists
    assert requested == ([True] if custom else [])


def recording(transaction: Any, requested: list[bool]) -> Any:
    def transaction_recorded(self: Database, *, custom_plans: bool = False) -> Any:
        requested.append(custom_plans)
        return transaction(self, custom_plans=custom_plans)

    return transaction_recorded
