"""Priorities, tags, due dates, completion time and recurrence, through HTTP."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers import assert_problem, error_locations


async def create(client: AsyncClient, tasks_url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(tasks_url, json={"title": "Task", **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_old_clients_get_the_defaults(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url)

    assert task["priority"] == "medium"
    assert task["tags"] == []
    assert task["due_at"] is None
    assert task["completed_at"] is None
    assert task["recurrence"] is None


async def test_all_fields_round_trip(client: AsyncClient, tasks_url: str) -> None:
    task = await create(
        client,
        tasks_url,
        priority="high",
        tags=["Work", " urgent "],
        due_at="2026-12-01T09:30:00+02:00",
        recurrence={"frequency": "weekly", "interval": 2},
    )

    fetched = (await client.get(f"{tasks_url}/{task['id']}")).json()
    assert fetched == task
    assert task["priority"] == "high"
    assert task["tags"] == ["work", "urgent"]
    assert instant(task["due_at"]) == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    assert task["due_at"].endswith("Z")
    assert task["recurrence"] == {"frequency": "weekly", "interval": 2}


async def test_due_date_without_offset_is_utc(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url, due_at="2026-12-01T09:30:00")

    assert instant(task["due_at"]) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


async def test_tags_are_trimmed_and_unique_ignoring_case(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(client, tasks_url, tags=["Home", "home ", "HOME", "garden"])

    assert task["tags"] == ["home", "garden"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"priority": "urgent"}, ["body", "priority"]),
        ({"priority": None}, ["body", "priority"]),
        ({"tags": ["x"] * 21}, ["body", "tags"]),
        ({"tags": ["y" * 51]}, ["body", "tags", 0]),
        ({"tags": ["   "]}, ["body", "tags", 0]),
        ({"tags": ["nul\x00"]}, ["body", "tags", 0]),
        ({"tags": "work"}, ["body", "tags"]),
        ({"due_at": "next tuesday"}, ["body", "due_at"]),
        ({"due_at": "2026-13-01T00:00:00Z"}, ["body", "due_at"]),
        (
            {"recurrence": {"frequency": "hourly", "interval": 1}},
            ["body", "recurrence", "frequency"],
        ),
        ({"recurrence": {"frequency": "daily", "interval": 0}}, ["body", "recurrence", "interval"]),
        (
            {"recurrence": {"frequency": "daily", "interval": "2"}},
            ["body", "recurrence", "interval"],
        ),
        (
            {"recurrence": {"frequency": "daily", "interval": 2.5}},
            ["body", "recurrence", "interval"],
        ),
        ({"recurrence": {"frequency": "daily", "every": 2}}, ["body", "recurrence", "every"]),
        ({"completed_at": "2026-01-01T00:00:00Z"}, ["body", "completed_at"]),
    ],
)
async def test_invalid_new_fields_are_422(
    client: AsyncClient, tasks_url: str, fields: dict[str, Any], location: list[Any]
) -> None:
    response = await client.post(tasks_url, json={"title": "t", **fields})

    assert location in error_locations(assert_problem(response, 422))
    assert (await client.get(tasks_url)).json() == []


async def test_an_integral_number_is_an_interval(client: AsyncClient, tasks_url: str) -> None:
    recurrence = {"frequency": "weekly", "interval": 2.0}  # JSON Schema: an integer

    response = await client.post(tasks_url, json={"title": "t", "recurrence": recurrence})

    assert response.status_code == 201
    assert response.json()["recurrence"] == {"frequency": "weekly", "interval": 2}


async def test_put_replaces_tags_and_clears_due_date_and_recurrence(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(
        client,
        tasks_url,
        tags=["a", "b"],
        due_at="2026-12-01T00:00:00Z",
        recurrence={"frequency": "daily", "interval": 1},
    )

    response = await client.put(
        f"{tasks_url}/{task['id']}",
        json={"tags": ["c"], "due_at": None, "recurrence": None, "priority": "low"},
    )

    updated = response.json()
    assert (updated["tags"], updated["due_at"], updated["recurrence"]) == (["c"], None, None)
    assert updated["priority"] == "low"
    assert [t["id"] for t in (await client.get(tasks_url, params={"tag": "c"})).json()] == [
        task["id"]
    ]
    assert (await client.get(tasks_url, params={"tag": "a"})).json() == []


async def test_completed_at_follows_completion(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url)
    url = f"{tasks_url}/{task['id']}"

    done = (await client.patch(f"{url}/complete")).json()
    again = (await client.patch(f"{url}/complete", json={"completed": True})).json()
    reopened = (await client.patch(f"{url}/complete", json={"completed": False})).json()
    via_put = (await client.put(url, json={"completed": True})).json()

    assert done["completed_at"] is not None
    assert instant(done["completed_at"]) >= instant(task["created_at"])
    assert again["completed_at"] == done["completed_at"]  # setting the same state changes nothing
    assert again["updated_at"] == done["updated_at"]
    assert reopened["completed_at"] is None
    assert via_put["completed_at"] is not None
    assert (await create(client, tasks_url, completed=True))["completed_at"] is not None


@pytest.mark.parametrize(
    ("rule", "due", "expected"),
    [
        ({"frequency": "daily", "interval": 1}, "2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z"),
        ({"frequency": "weekly", "interval": 2}, "2026-12-01T09:00:00Z", "2026-12-15T09:00:00Z"),
        ({"frequency": "monthly", "interval": 1}, "2027-01-31T09:00:00Z", "2027-02-28T09:00:00Z"),
        ({"frequency": "monthly", "interval": 12}, "2028-02-29T09:00:00Z", "2029-02-28T09:00:00Z"),
    ],
)
async def test_completing_a_recurring_task_schedules_the_next(
    client: AsyncClient, tasks_url: str, rule: dict[str, Any], due: str, expected: str
) -> None:
    task = await create(
        client,
        tasks_url,
        title="Water plants",
        tags=["home"],
        priority="high",
        description="all of them",
        due_at=due,
        recurrence=rule,
    )

    response = await client.patch(f"{tasks_url}/{task['id']}/complete")

    assert response.status_code == 200
    body = response.json()
    assert body["completed"] is True
    following = body["next_occurrence"]
    assert following["id"] != task["id"]
    assert instant(following["due_at"]) == instant(expected)
    assert following["completed"] is False
    assert following["completed_at"] is None
    for field in ("title", "description", "tags", "priority", "recurrence"):
        assert following[field] == task[field]
    assert (await client.get(f"{tasks_url}/{following['id']}")).json() == following


async def test_set_form_schedules_once_and_reopening_schedules_nothing(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(
        client,
        tasks_url,
        recurrence={"frequency": "daily", "interval": 1},
        due_at="2026-12-01T00:00:00Z",
    )
    url = f"{tasks_url}/{task['id']}/complete"

    first = (await client.patch(url, json={"completed": True})).json()
    repeated = (await client.patch(url, json={"completed": True})).json()
    reopened = (await client.patch(url, json={"completed": False})).json()

    assert first["next_occurrence"] is not None
    assert repeated["next_occurrence"] is None
    assert reopened["next_occurrence"] is None
    assert len((await client.get(tasks_url)).json()) == 2


async def test_recurring_task_without_due_date_is_due_one_interval_from_now(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(client, tasks_url, recurrence={"frequency": "daily", "interval": 3})

    following = (await client.patch(f"{tasks_url}/{task['id']}/complete")).json()["next_occurrence"]

    expected = datetime.now(UTC) + timedelta(days=3)
    assert abs(instant(following["due_at"]) - expected) < timedelta(minutes=1)


async def test_non_recurring_completion_has_no_next_occurrence(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(client, tasks_url)

    body = (await client.patch(f"{tasks_url}/{task['id']}/complete")).json()

    assert body["next_occurrence"] is None


async def test_tags_endpoint_counts_each_tag(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    await create(client, tasks_url, tags=["work", "urgent"])
    await create(client, tasks_url, tags=["work"])
    doomed = await create(client, tasks_url, tags=["work", "home"])
    await create(client, "/api/someone-else/tasks", tags=["work", "secret"])
    await client.delete(f"{tasks_url}/{doomed['id']}")

    response = await client.get(f"/api/{user_id}/tags")

    assert response.status_code == 200
    assert response.json() == [{"tag": "work", "count": 2}, {"tag": "urgent", "count": 1}]
