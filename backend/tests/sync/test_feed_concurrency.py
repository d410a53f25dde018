"""Concurrent writers on real PostgreSQL while a reader follows the feed: the reader ends with
exactly the stored state, never misses a change, and never sees another user's task."""

import asyncio
import random
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import postgres_only
from tests.sync.test_changes import follow

pytestmark = postgres_only

WRITERS = 12
WRITES_EACH = 25


async def _writer(client: AsyncClient, owner: str, ids: list[int], seed: int) -> None:
    rng = random.Random(seed)
    url = f"/api/{owner}/tasks"
    for n in range(WRITES_EACH):
        action = rng.choice(("create", "create", "update", "toggle", "toggle", "delete"))
        if action == "create" or not ids:
            response = await client.post(url, json={"title": f"w{seed}-{n}", "tags": ["x"]})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
            continue
        task_id = rng.choice(ids)
        if action == "update":
            response = await client.put(f"{url}/{task_id}", json={"title": f"w{seed}-{n}-u"})
        elif action == "toggle":
            response = await client.patch(f"{url}/{task_id}/complete")
        else:
            response = await client.delete(f"{url}/{task_id}")
            if response.status_code == 204 and task_id in ids:
                ids.remove(task_id)
        assert response.status_code in (200, 204, 404), response.text


def _apply(state: dict[int, dict[str, Any]], seen: list[dict[str, Any]]) -> None:
    for change in seen:
        if change["type"] == "delete":
            state.pop(change["id"], None)
        else:
            task = change["task"]
            previous = state.get(task["id"])
            # Never an older content than already seen (a feed in commit order).
            assert previous is None or previous["version"] <= task["version"], (previous, task)
            state[task["id"]] = task


async def test_a_follower_ends_with_the_stored_state_under_concurrent_writes(
    client: AsyncClient, user_id: str
) -> None:
    other = f"{user_id}-other"
    ids: list[int] = []
    other_ids: list[int] = []
    state: dict[int, dict[str, Any]] = {}
    seen_ids: set[int] = set()
    done = asyncio.Event()

    async def reader() -> int:
        token = None
        polls = 0
        while not done.is_set():
            seen, token = await follow(client, user_id, token, limit=7)
            seen_ids.update(c["id"] if c["type"] == "delete" else c["task"]["id"] for c in seen)
            _apply(state, seen)
            polls += 1
        seen, token = await follow(client, user_id, token, limit=7)
        _apply(state, seen)
        return polls

    reading = asyncio.create_task(reader())
    await asyncio.gather(
        *(_writer(client, user_id, ids, seed) for seed in range(WRITERS)),
        *(_writer(client, other, other_ids, 1000 + seed) for seed in range(3)),
    )
    done.set()
    polls = await reading

    stored = (await client.get(f"/api/{user_id}/tasks", params={"limit": 500})).json()
    assert polls > 3  # the reader really read while the writers wrote
    assert 0 < len(stored) < 500  # one page holds them all
    assert state == {task["id"]: task for task in stored}
    assert not seen_ids & set(other_ids)


@pytest.mark.parametrize("writers", [8])
async def test_concurrent_toggles_of_one_task_keep_counts_and_places(
    client: AsyncClient, user_id: str, writers: int
) -> None:
    url = f"/api/{user_id}/tasks"
    task = (await client.post(url, json={"title": "flip", "tags": ["a", "b"]})).json()
    _, token = await follow(client, user_id, None)

    results = await asyncio.gather(
        *(client.patch(f"{url}/{task['id']}/complete") for _ in range(writers))
    )

    assert sorted(r.json()["version"] for r in results) == list(range(2, writers + 2))
    seen, _ = await follow(client, user_id, token)
    assert [c["task"]["version"] for c in seen] == [writers + 1]
    tags = {t["tag"]: t["count"] for t in (await client.get(f"/api/{user_id}/tags")).json()}
    assert tags == {"a": 1, "b": 1}
    listed = await client.get(url, params={"status": "completed"})
    assert listed.headers["x-total-count"] == str(int(writers % 2 == 1))
