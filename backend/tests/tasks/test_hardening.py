"""Inputs found by adversarial testing, and the classes they belong to (issue #14).

Every case runs through HTTP on SQLite and PostgreSQL: a clear 4xx or the right answer,
never a 500, and nothing stored is lost or half-written.
"""

import base64
import json
import re
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient

from tests.conftest import make_settings, postgres_only, serve
from tests.helpers import assert_problem, error_locations
from todo_api.config import Settings
from todo_api.main import create_app


def _cursor_of(response: Any) -> str:
    found = re.search(r"cursor=([^&>]+)", response.headers["link"])
    assert found is not None
    return found.group(1)


def _decode(cursor: str) -> list[Any]:
    decoded: list[Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return decoded


def _encode(decoded: list[Any]) -> str:
    raw = json.dumps(decoded, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def _seed(client: AsyncClient, tasks_url: str, n: int = 3, **extra: Any) -> list[int]:
    ids = []
    for i in range(n):
        response = await client.post(tasks_url, json={"title": f"task {i}", **extra})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


# 1. Every request's database cost is bounded by its input.


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ([("tag", f"t{i}") for i in range(21)], "tag"),
        ([("priority", "high")] * 4, "priority"),
        ([("q", " ".join(f"w{i}" for i in range(11)))], "q"),
    ],
)
async def test_repeatable_filters_are_capped(
    client: AsyncClient, tasks_url: str, query: list[tuple[str, Any]], parameter: str
) -> None:
    problem = assert_problem(await client.get(tasks_url, params=query), 422)

    assert ["query", parameter] in error_locations(problem)


async def test_the_most_tags_a_task_can_hold_are_a_valid_filter(
    client: AsyncClient, tasks_url: str
) -> None:
    tags = [f"t{i}" for i in range(20)]
    await client.post(tasks_url, json={"title": "all of them", "tags": tags})
    await client.post(tasks_url, json={"title": "some", "tags": tags[:5]})

    response = await client.get(tasks_url, params=[("tag", tag) for tag in tags])

    assert response.status_code == 200
    assert [task["title"] for task in response.json()] == ["all of them"]
    assert response.headers["x-total-count"] == "1"


async def test_repeated_filter_values_count_once(client: AsyncClient, tasks_url: str) -> None:
    await client.post(tasks_url, json={"title": "tagged", "tags": ["home"], "priority": "high"})

    query: list[tuple[str, Any]] = [
        ("tag", "home"),
        ("tag", "HOME"),
        ("priority", "high"),
        ("priority", "high"),
    ]
    response = await client.get(tasks_url, params=query)

    assert [task["title"] for task in response.json()] == ["tagged"]


# 2. A partial update of a nested object takes that object's defaults.


async def test_put_recurrence_without_interval_defaults_to_one(
    client: AsyncClient, tasks_url: str
) -> None:
    (task_id,) = await _seed(client, tasks_url, 1)

    response = await client.put(
        f"{tasks_url}/{task_id}", json={"recurrence": {"frequency": "weekly"}}
    )

    assert response.status_code == 200, response.text
    assert response.json()["recurrence"] == {"frequency": "weekly", "interval": 1}


# 3. Nothing a client sends reaches the database unvalidated, cursors included.

FORGED_POSITIONS: list[tuple[str, str, Any]] = [
    ("created", "id", 2**31),
    ("created", "id", 2**70),
    ("created", "id", 0),
    ("created", "id", -1),
    ("created", "id", True),
    ("created", "id", 1.5),
    ("title", "value", "a\x00b"),
    ("title", "value", "\ud800"),
    ("title", "value", 7),
    ("title", "value", "x" * 5000),
    ("updated", "value", "2026-11-30T10:00:00"),
    ("updated", "value", "0001-01-01T00:00:00+14:00"),
    ("updated", "value", "9999-12-31T23:59:59-14:00"),
    ("updated", "value", "not a time"),
    ("due_date", "value", "0001-01-01T00:30:00+01:00"),
    ("priority", "value", "urgent"),
    ("priority", "value", None),
]


@pytest.mark.parametrize(("sort", "part", "value"), FORGED_POSITIONS)
async def test_a_forged_cursor_is_422(
    client: AsyncClient, tasks_url: str, sort: str, part: str, value: Any
) -> None:
    await _seed(client, tasks_url, 3, due_at="2026-12-01T00:00:00Z")
    first = await client.get(tasks_url, params={"sort": sort, "limit": 1})
    decoded = _decode(_cursor_of(first))
    decoded[-1 if part == "id" else 1] = value
    forged = _encode(decoded)

    response = await client.get(tasks_url, params={"sort": sort, "limit": 1, "cursor": forged})

    assert_problem(response, 422)


async def test_another_users_cursor_is_422(client: AsyncClient, tasks_url: str) -> None:
    await _seed(client, tasks_url, 3)
    cursor = _cursor_of(await client.get(tasks_url, params={"limit": 1}))

    stolen = await client.get("/api/thief/tasks", params={"limit": 1, "cursor": cursor})

    assert_problem(stolen, 422)


# 4. Ids are never reused.


async def test_a_deleted_newest_tasks_id_is_never_given_again(
    client: AsyncClient, tasks_url: str
) -> None:
    ids = await _seed(client, tasks_url, 2)
    assert (await client.delete(f"{tasks_url}/{ids[-1]}")).status_code == 204

    (new_id,) = await _seed(client, tasks_url, 1)
    other = await client.post("/api/someone-else/tasks", json={"title": "theirs"})

    assert new_id > ids[-1]
    assert other.json()["id"] > new_id


# 5. The value stored is the value validated.


async def test_a_tag_that_grows_when_lower_cased_is_measured_as_stored(
    client: AsyncClient, tasks_url: str
) -> None:
    too_long = await client.post(tasks_url, json={"title": "t", "tags": ["İ" * 26]})
    fits = await client.post(tasks_url, json={"title": "t", "tags": ["İ" * 25]})

    assert ["body", "tags", 0] in error_locations(assert_problem(too_long, 422))
    assert fits.status_code == 201, fits.text
    assert fits.json()["tags"] == ["İ".lower() * 25]
    assert len(fits.json()["tags"][0]) == 50


async def test_a_filter_tag_is_measured_as_compared(client: AsyncClient, tasks_url: str) -> None:
    response = await client.get(tasks_url, params={"tag": "İ" * 26})

    assert_problem(response, 422)


# 6. Date arithmetic at the edges of the range.


@pytest.mark.parametrize(
    ("due_at", "frequency"),
    [
        ("9999-12-31T00:00:00Z", "daily"),
        ("9999-12-31T23:59:59Z", "weekly"),
        ("9999-12-15T00:00:00Z", "monthly"),
        ("9999-06-15T00:00:00Z", "monthly"),
    ],
)
async def test_a_recurring_task_at_the_end_of_time_can_be_completed(
    client: AsyncClient, tasks_url: str, due_at: str, frequency: str
) -> None:
    recurrence = {"frequency": frequency, "interval": 365 if frequency == "monthly" else 1}
    created = await client.post(
        tasks_url, json={"title": "forever", "due_at": due_at, "recurrence": recurrence}
    )
    task_id = created.json()["id"]

    response = await client.patch(f"{tasks_url}/{task_id}/complete")

    assert response.status_code == 200, response.text
    assert response.json()["completed"] is True
    assert response.json()["next_occurrence"] is None


@pytest.mark.parametrize(
    "due_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z"]
)
async def test_instants_at_the_edges_are_a_clear_answer(
    client: AsyncClient, tasks_url: str, due_at: str
) -> None:
    response = await client.post(tasks_url, json={"title": "edge", "due_at": due_at})
    listed = await client.get(tasks_url, params={"due_before": due_at})

    assert response.status_code in (201, 422), response.text
    assert listed.status_code in (200, 422), listed.text


# 8. Strict types at the boundary.


@pytest.mark.parametrize("due_at", [0, 1.5, "0", "1700000000", True, "1e9"])
async def test_due_at_must_be_an_iso_8601_instant(
    client: AsyncClient, tasks_url: str, due_at: Any
) -> None:
    (task_id,) = await _seed(client, tasks_url, 1)

    created = await client.post(tasks_url, json={"title": "t", "due_at": due_at})
    updated = await client.put(f"{tasks_url}/{task_id}", json={"due_at": due_at})

    assert ["body", "due_at"] in error_locations(assert_problem(created, 422))
    assert ["body", "due_at"] in error_locations(assert_problem(updated, 422))
    assert len((await client.get(tasks_url)).json()) == 1


@pytest.mark.parametrize("value", ["0", "0.5", "1700000000", "-1"])
async def test_due_filters_must_be_iso_8601_instants(
    client: AsyncClient, tasks_url: str, value: str
) -> None:
    for name in ("due_before", "due_after"):
        response = await client.get(tasks_url, params={name: value})
        assert ["query", name] in error_locations(assert_problem(response, 422))


# 1 (the timeout): a statement past DB_COMMAND_TIMEOUT is the request's own cost, not an outage.


@postgres_only
async def test_a_statement_past_its_timeout_is_503_without_retry_after(
    settings: Settings, database_url: str, tasks_url: str
) -> None:
    app = create_app(make_settings(database_url, db_command_timeout=0.5))
    async with serve(app) as client:
        task = (await client.post(tasks_url, json={"title": "locked"})).json()
        locker = await asyncpg.connect(database_url)
        try:
            async with locker.transaction():
                await locker.execute("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", task["id"])
                waited = await client.put(f"{tasks_url}/{task['id']}", json={"title": "x"})
        finally:
            await locker.close()
        after = await client.put(f"{tasks_url}/{task['id']}", json={"title": "x"})

    assert_problem(waited, 503)
    assert "retry-after" not in waited.headers
    assert after.status_code == 200


async def test_a_cursor_nested_too_deep_is_422(client: AsyncClient, tasks_url: str) -> None:
    deep = base64.urlsafe_b64encode(b"[" * 3000).rstrip(b"=").decode()

    assert_problem(await client.get(tasks_url, params={"cursor": deep}), 422)
