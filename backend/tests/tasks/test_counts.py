"""X-Total-Count and /tags come from counters kept by every write; they must equal real counts."""

import random
from typing import Any

import pytest
from httpx import AsyncClient

TAGS = ["work", "home", "errand"]
ALL_PRIORITIES = {"priority": ["low", "medium", "high"]}  # a filter: forces a count(*)


async def listed(client: AsyncClient, tasks_url: str, **params: Any) -> tuple[int, int]:
    """(X-Total-Count, number of tasks actually listed)."""
    response = await client.get(tasks_url, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return int(response.headers["x-total-count"]), len(response.json())


async def random_history(client: AsyncClient, tasks_url: str, seed: int) -> None:
    """Creates, updates, completions (recurring too) and deletes in a random order."""
    rng = random.Random(seed)
    ids: list[int] = []
    for _ in range(60):
        action = rng.choice(["create", "create", "toggle", "set", "put", "delete"])
        if action == "create" or not ids:
            body: dict[str, Any] = {"title": "t", "tags": rng.sample(TAGS, rng.randint(0, 3))}
            body["completed"] = rng.random() < 0.3
            if rng.random() < 0.2:
                body["recurrence"] = {"frequency": "daily", "interval": 1}
            response = await client.post(tasks_url, json=body)
            ids.append(response.json()["id"])
            continue
        task_id = rng.choice(ids)
        if action == "toggle":
            body = (await client.patch(f"{tasks_url}/{task_id}/complete")).json()
        elif action == "set":
            completed = rng.random() < 0.5
            body = (
                await client.patch(f"{tasks_url}/{task_id}/complete", json={"completed": completed})
            ).json()
        elif action == "put":
            change = {"tags": rng.sample(TAGS, rng.randint(0, 3)), "completed": rng.random() < 0.5}
            body = (await client.put(f"{tasks_url}/{task_id}", json=change)).json()
        else:
            await client.delete(f"{tasks_url}/{task_id}")
            ids.remove(task_id)
            continue
        if body.get("next_occurrence"):
            ids.append(body["next_occurrence"]["id"])


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_counted_totals_match_the_tasks(
    client: AsyncClient, tasks_url: str, user_id: str, seed: int
) -> None:
    await random_history(client, tasks_url, seed)

    for status in ("all", "pending", "completed"):
        for tags in ([], *([tag] for tag in TAGS)):
            params = {"status": status, "tag": tags}
            counted, shown = await listed(client, tasks_url, **params)
            scanned, _ = await listed(client, tasks_url, **params, **ALL_PRIORITIES)
            assert counted == shown == scanned, (status, tags)

    tags = (await client.get(f"/api/{user_id}/tags")).json()
    for entry in tags:
        assert entry["count"] == (await listed(client, tasks_url, tag=entry["tag"]))[1]
    assert {entry["tag"] for entry in tags} == {
        tag for tag in TAGS if (await listed(client, tasks_url, tag=tag))[1] > 0
    }
