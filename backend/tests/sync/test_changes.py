"""The change feed through HTTP, on both databases: snapshots, every write path, tombstones,
expiry and bad tokens."""

from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from tests.conftest import hs256_token
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.db.connect import open_database
from todo_api.sync.retention import purge_tombstones


async def changes(
    client: AsyncClient, user_id: str, since: str | None = None, **params: Any
) -> Any:
    query = {**params, **({"since": since} if since is not None else {})}
    response = await client.get(f"/api/{user_id}/tasks/changes", params=query)
    assert response.status_code == 200, response.text
    return response.json()


async def follow(
    client: AsyncClient, user_id: str, since: str | None, limit: int = 100
) -> tuple[list[Any], str]:
    """Every change after `since`, following `next` while `has_more`."""
    seen: list[Any] = []
    while True:
        page = await changes(client, user_id, since, limit=limit)
        seen += page["changes"]
        since = page["next"]
        if not page["has_more"]:
            return seen, since


def kinds(seen: list[Any]) -> list[tuple[str, Any]]:
    return [
        (change["type"], change["id"] if change["type"] == "delete" else change["task"]["title"])
        for change in seen
    ]


async def test_a_snapshot_pages_the_current_tasks_then_follows_changes(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    ids = [(await client.post(tasks_url, json={"title": f"t{i}"})).json()["id"] for i in range(5)]
    await client.delete(f"{tasks_url}/{ids[0]}")  # deleted before the snapshot: not sent

    snapshot, token = await follow(client, user_id, None, limit=2)

    assert kinds(snapshot) == [("upsert", f"t{i}") for i in range(1, 5)]
    assert snapshot[0]["task"]["version"] == 1
    assert (await changes(client, user_id, token))["changes"] == []

    await client.put(f"{tasks_url}/{ids[1]}", json={"title": "renamed"})
    await client.patch(f"{tasks_url}/{ids[2]}/complete")
    await client.delete(f"{tasks_url}/{ids[3]}")
    created = (await client.post(tasks_url, json={"title": "new"})).json()
    later, token = await follow(client, user_id, token)

    assert kinds(later) == [
        ("upsert", "renamed"),
        ("upsert", "t2"),
        ("delete", ids[3]),
        ("upsert", "new"),
    ]
    assert later[1]["task"]["completed"] is True
    assert later[3]["task"]["id"] == created["id"]
    assert (await changes(client, user_id, token))["changes"] == []


async def test_a_task_changed_twice_comes_once_with_its_newest_content(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    first = (await client.post(tasks_url, json={"title": "a"})).json()
    second = (await client.post(tasks_url, json={"title": "b"})).json()
    _, token = await follow(client, user_id, None)

    await client.put(f"{tasks_url}/{first['id']}", json={"title": "a2"})
    await client.put(f"{tasks_url}/{second['id']}", json={"title": "b2"})
    await client.put(f"{tasks_url}/{first['id']}", json={"title": "a3"})
    seen, _ = await follow(client, user_id, token)

    assert kinds(seen) == [("upsert", "b2"), ("upsert", "a3")]
    assert seen[1]["task"]["version"] == 3


async def test_deletions_during_a_paged_snapshot_are_sent_after_it(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    ids = [(await client.post(tasks_url, json={"title": f"t{i}"})).json()["id"] for i in range(4)]
    page = await changes(client, user_id, limit=2)
    assert kinds(page["changes"]) == [("upsert", "t0"), ("upsert", "t1")]

    await client.delete(f"{tasks_url}/{ids[0]}")  # already sent: its deletion must follow
    await client.delete(f"{tasks_url}/{ids[3]}")  # not sent yet: gone from the snapshot
    rest, _ = await follow(client, user_id, page["next"], limit=2)

    assert kinds(rest) == [("upsert", "t2"), ("delete", ids[0]), ("delete", ids[3])]


async def test_batches_and_recurring_completion_feed_it(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    recurring = await client.post(
        tasks_url,
        json={
            "title": "water plants",
            "due_at": "2026-12-01T09:00:00Z",
            "recurrence": {"frequency": "weekly"},
        },
    )
    _, token = await follow(client, user_id, None)

    completed = (await client.patch(f"{tasks_url}/{recurring.json()['id']}/complete")).json()
    batch = await client.post(
        f"{tasks_url}/batch",
        json={
            "operations": [
                {"op": "create", "ref": "a", "task": {"title": "from a batch"}},
                {"op": "update", "id": "$a", "changes": {"priority": "high"}},
            ]
        },
    )
    assert batch.status_code == 200, batch.text
    seen, _ = await follow(client, user_id, token)

    assert kinds(seen) == [
        ("upsert", "water plants"),
        ("upsert", "water plants"),
        ("upsert", "from a batch"),
    ]
    assert seen[0]["task"]["completed"] is True
    assert seen[1]["task"]["id"] == completed["next_occurrence"]["id"]
    assert seen[2]["task"]["priority"] == "high"


async def test_no_change_of_another_user_is_ever_seen(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    other = f"{user_id}-other"
    await client.post(tasks_url, json={"title": "mine"})
    theirs = (await client.post(f"/api/{other}/tasks", json={"title": "theirs"})).json()
    await client.delete(f"/api/{other}/tasks/{theirs['id']}")

    seen, _ = await follow(client, user_id, None)
    _, their_token = await follow(client, other, None)

    assert kinds(seen) == [("upsert", "mine")]
    reused = await client.get(f"/api/{user_id}/tasks/changes", params={"since": their_token})
    assert "another user" in assert_problem(reused, 400)["detail"]


async def test_bad_tokens_and_limits_are_problems(client: AsyncClient, user_id: str) -> None:
    url = f"/api/{user_id}/tasks/changes"
    for token in ("not-a-token", "W10", "WyJjMSIsIngiLDEsMSwxXQ", "é" * 10, "x" * 201):
        response = await client.get(url, params={"since": token})
        assert response.status_code in (400, 422), (token, response.text)
        assert_problem(response, response.status_code)
    assert_problem(await client.get(url, params={"limit": 0}), 422)
    assert_problem(await client.get(url, params={"limit": 501}), 422)
    assert_problem(await client.get(url, params={"cursor": "x"}), 422)


async def test_a_token_older_than_the_tombstones_kept_is_gone(
    client: AsyncClient, settings: Settings, tasks_url: str, user_id: str
) -> None:
    kept = (await client.post(tasks_url, json={"title": "kept"})).json()
    doomed = (await client.post(tasks_url, json={"title": "doomed"})).json()
    _, token = await follow(client, user_id, None)
    await client.delete(f"{tasks_url}/{doomed['id']}")
    _, current = await follow(client, user_id, token)

    database = await open_database(settings)
    try:
        later = datetime.now(UTC) + timedelta(days=settings.tombstone_retention_days + 1)
        assert await purge_tombstones(database, settings.tombstone_retention_days, now=later) >= 1
    finally:
        await database.close()

    gone = await client.get(f"/api/{user_id}/tasks/changes", params={"since": token})
    assert "without `since`" in assert_problem(gone, 410)["detail"]
    assert (await changes(client, user_id, current))["changes"] == []  # saw the deletion: fine
    snapshot, _ = await follow(client, user_id, None)
    assert kinds(snapshot) == [("upsert", "kept")]
    assert snapshot[0]["task"]["id"] == kept["id"]


async def test_the_feed_needs_the_users_token(client: AsyncClient, user_id: str) -> None:
    url = f"/api/{user_id}/tasks/changes"
    other = {"Authorization": f"Bearer {hs256_token(user_id + '-x')}"}
    assert_problem(await client.get(url, headers=other), 403)
