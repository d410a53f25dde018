"""Reminders: validated like due dates, sent once however many instances look, re-armed by a
new time, cancelled by completion, carried by recurrence, and caught up after downtime."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient

from tests.conftest import fetch_value, postgres_only
from tests.helpers import assert_problem
from tests.sync.servers import auth, server
from tests.sync.test_changes import follow
from todo_api.config import Settings
from todo_api.db.connect import open_database
from todo_api.tasks.postgres_repository import repository_for
from todo_api.tasks.reminders import send_due_reminders


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


async def _dispatch(settings: Settings, now: datetime | None = None) -> int:
    database = await open_database(settings)
    try:
        return await send_due_reminders(repository_for(database, lambda _owner: None), now)
    finally:
        await database.close()


async def test_remind_at_is_validated_like_due_at(client: AsyncClient, tasks_url: str) -> None:
    for bad in ("tomorrow", 1767225600, "2026-13-01T00:00:00Z"):
        response = await client.post(tasks_url, json={"title": "x", "remind_at": bad})
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["body", "remind_at"]
    naive = await client.post(tasks_url, json={"title": "x", "remind_at": "2026-12-01T09:00:00"})
    assert naive.json()["remind_at"] == "2026-12-01T09:00:00Z"


async def test_a_due_reminder_is_sent_once_and_re_armed_by_a_new_time(
    client: AsyncClient, settings: Settings, tasks_url: str, user_id: str
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=5)
    task = (await client.post(tasks_url, json={"title": "x", "remind_at": _iso(past)})).json()
    later = (
        await client.post(tasks_url, json={"title": "later", "remind_at": "2999-01-01T00:00:00Z"})
    ).json()
    _, token = await follow(client, user_id, None)

    assert await _dispatch(settings) == 1
    assert await _dispatch(settings) == 0
    sent = (await client.get(f"{tasks_url}/{task['id']}")).json()
    assert sent["reminded_at"] is not None
    assert sent["version"] == 2
    assert (await client.get(f"{tasks_url}/{later['id']}")).json()["reminded_at"] is None
    seen, token = await follow(client, user_id, token)
    assert [change["task"]["id"] for change in seen] == [task["id"]]

    await client.put(
        f"{tasks_url}/{task['id']}", json={"remind_at": _iso(past + timedelta(minutes=1))}
    )
    assert (await client.get(f"{tasks_url}/{task['id']}")).json()["reminded_at"] is None
    assert await _dispatch(settings) == 1


async def test_completed_tasks_are_not_reminded(
    client: AsyncClient, settings: Settings, tasks_url: str
) -> None:
    past = _iso(datetime.now(UTC) - timedelta(minutes=1))
    task = (await client.post(tasks_url, json={"title": "x", "remind_at": past})).json()
    await client.patch(f"{tasks_url}/{task['id']}/complete")
    deleted = (await client.post(tasks_url, json={"title": "y", "remind_at": past})).json()
    await client.delete(f"{tasks_url}/{deleted['id']}")

    assert await _dispatch(settings) == 0
    assert (await client.get(f"{tasks_url}/{task['id']}")).json()["reminded_at"] is None


async def test_the_next_occurrence_keeps_the_reminders_offset(
    client: AsyncClient, tasks_url: str
) -> None:
    body = {
        "title": "rent",
        "due_at": "2026-12-01T09:00:00Z",
        "remind_at": "2026-11-30T09:00:00Z",
        "recurrence": {"frequency": "monthly"},
    }
    task = (await client.post(tasks_url, json=body)).json()

    following = (await client.patch(f"{tasks_url}/{task['id']}/complete")).json()["next_occurrence"]

    assert following["due_at"] == "2027-01-01T09:00:00Z"
    assert following["remind_at"] == "2026-12-31T09:00:00Z"
    assert following["reminded_at"] is None


@postgres_only
async def test_instances_looking_at_once_send_each_reminder_once(
    client: AsyncClient, settings: Settings, user_id: str
) -> None:
    past = _iso(datetime.now(UTC) - timedelta(minutes=1))
    for owner in (user_id, f"{user_id}-b", f"{user_id}-c"):
        for n in range(40):
            await client.post(f"/api/{owner}/tasks", json={"title": f"r{n}", "remind_at": past})

    counts = await asyncio.gather(*(_dispatch(settings) for _ in range(4)))

    assert sum(counts) == 120
    reminded = await fetch_value(
        settings.database_url,
        "SELECT count(*) FROM tasks WHERE reminded_at IS NOT NULL AND version = 2",
    )
    assert reminded == 120


async def test_reminders_due_while_no_instance_ran_are_sent_at_start(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    env = {"REMINDER_INTERVAL_SECONDS": "3600"}  # only the start-up catch-up can send it
    with server(database_url, tmp_path, **env) as api:
        async with httpx.AsyncClient(base_url=api.url, headers=auth(user_id)) as rest:
            soon = datetime.now(UTC) + timedelta(seconds=1)
            task = (
                await rest.post(
                    f"/api/{user_id}/tasks", json={"title": "x", "remind_at": _iso(soon)}
                )
            ).json()
        api.stop()
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.5)
    with server(database_url, tmp_path, **env) as api:
        async with httpx.AsyncClient(base_url=api.url, headers=auth(user_id)) as rest:
            stored = (await rest.get(f"/api/{user_id}/tasks/{task['id']}")).json()
    assert stored["reminded_at"] is not None
    assert stored["version"] == 2


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:01Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999Z",
    ],
)
async def test_instants_come_back_as_sent_or_are_refused(
    client: AsyncClient, tasks_url: str, instant: str
) -> None:
    for field in ("due_at", "remind_at"):
        response = await client.post(tasks_url, json={"title": "edge", field: instant})
        if response.status_code != 201:
            assert_problem(response, 422)
            continue
        stored = await client.get(f"{tasks_url}/{response.json()['id']}")
        assert stored.json()[field] == instant
