"""A per-user cap on stored tasks, exact under concurrent creates."""

import asyncio

from tests.conftest import serve
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.main import create_app


async def test_creating_past_the_cap_is_409_and_stores_nothing(settings: Settings) -> None:
    async with serve(create_app(settings.model_copy(update={"max_tasks_per_user": 3}))) as client:
        created = [await client.post("/api/alice/tasks", json={"title": f"t{n}"}) for n in range(3)]
        refused = await client.post("/api/alice/tasks", json={"title": "one too many"})
        listed = await client.get("/api/alice/tasks")
        await client.delete(created[0].headers["location"])
        after_delete = await client.post("/api/alice/tasks", json={"title": "room again"})

    assert [r.status_code for r in created] == [201, 201, 201]
    assert "limit of 3" in assert_problem(refused, 409)["detail"]
    assert listed.headers["x-total-count"] == "3"
    assert "one too many" not in [t["title"] for t in listed.json()]
    assert after_delete.status_code == 201


async def test_concurrent_creates_cannot_overshoot_the_cap(settings: Settings) -> None:
    async with serve(create_app(settings.model_copy(update={"max_tasks_per_user": 5}))) as client:
        responses = await asyncio.gather(
            *(client.post("/api/racer/tasks", json={"title": f"t{n}"}) for n in range(12))
        )
        listed = await client.get("/api/racer/tasks")

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 7
    assert len(listed.json()) == 5


async def test_completing_a_recurring_task_at_the_cap_still_works(settings: Settings) -> None:
    async with serve(create_app(settings.model_copy(update={"max_tasks_per_user": 1}))) as client:
        task = (
            await client.post(
                "/api/alice/tasks", json={"title": "daily", "recurrence": {"frequency": "daily"}}
            )
        ).json()
        done = await client.patch(f"/api/alice/tasks/{task['id']}/complete")

    assert done.status_code == 200
    assert done.json()["next_occurrence"] is not None
