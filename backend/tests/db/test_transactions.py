"""Transactions nest by joining, and `.params()` works alike, on both databases."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from sqlalchemy import Insert, bindparam, select

from tests.conftest import make_settings
from todo_api.db.connect import open_database
from todo_api.db.executor import Database
from todo_api.tasks import service
from todo_api.tasks.models import TASK_COUNTS, TASKS
from todo_api.tasks.postgres_repository import repository_for
from todo_api.tasks.schemas import TaskCreate, TaskUpdate


class Rollback(Exception):
    pass


@pytest.fixture
async def db(settings: object, database_url: str) -> AsyncIterator[Database]:
    database = await open_database(make_settings(database_url))
    try:
        yield database
    finally:
        await database.close()


def _count_row(owner: str) -> Insert:
    return TASK_COUNTS.insert().values(user_id=owner, tag="nested", total=1, completed=0)


async def _counted(db: Database, owner: str) -> int:
    rows = await db.all(select(TASK_COUNTS.c.total).where(TASK_COUNTS.c.user_id == owner))
    return len(rows)


async def test_an_inner_transaction_rolls_back_with_the_outer_one(db: Database) -> None:
    owner = f"nested-{uuid4().hex}"

    async def nested() -> None:
        async with db.transaction() as outer:
            async with outer.transaction() as inner:
                await inner.all(_count_row(owner))
            raise Rollback

    with pytest.raises(Rollback):
        await nested()

    assert await _counted(db, owner) == 0


async def test_an_inner_transaction_commits_with_the_outer_one(db: Database) -> None:
    owner = f"nested-{uuid4().hex}"

    async with db.transaction() as outer:
        async with outer.transaction() as inner:
            await inner.all(_count_row(owner))
        assert await _counted(outer, owner) == 1

    assert await _counted(db, owner) == 1


async def test_a_service_call_inside_a_callers_transaction_is_rolled_back_with_it(
    db: Database,
) -> None:
    owner = f"nested-{uuid4().hex}"
    repo = repository_for(db, lambda _owner: None)
    task = await service.create_task(repo, owner=owner, data=TaskCreate(title="kept"), max_tasks=5)

    async def callers_transaction() -> None:
        async with repo.transaction() as tx:
            changes = TaskUpdate(title="lost")
            await service.update_task(tx, owner=owner, task_id=task["id"], data=changes)
            await service.create_task(tx, owner=owner, data=TaskCreate(title="lost"), max_tasks=5)
            raise Rollback

    with pytest.raises(Rollback):
        await callers_transaction()

    titles = await db.all(select(TASKS.c.title).where(TASKS.c.user_id == owner))
    assert [row["title"] for row in titles] == ["kept"]


async def test_params_gives_the_same_rows_as_arguments(db: Database) -> None:
    owner = f"params-{uuid4().hex}"
    await db.all(_count_row(owner))
    statement = select(TASK_COUNTS.c.tag).where(TASK_COUNTS.c.user_id == bindparam("owner"))

    by_argument = await db.all(statement, {"owner": owner})
    by_params = await db.all(statement.params(owner=owner))
    by_params_other = await db.all(statement.params(owner="nobody"))
    by_argument_again = await db.all(statement, {"owner": owner})

    assert [dict(row) for row in by_argument] == [{"tag": "nested"}]
    assert [dict(row) for row in by_params] == [{"tag": "nested"}]
    assert by_params_other == []
    assert [dict(row) for row in by_argument_again] == [{"tag": "nested"}]
