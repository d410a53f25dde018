"""Atomic batches: all operations or none, on both databases."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import make_settings, serve
from tests.helpers import assert_problem, error_locations
from todo_api.config import Settings
from todo_api.main import create_app


async def _tasks(client: AsyncClient, tasks_url: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await client.get(tasks_url)).json()
    return listed


async def test_a_batch_applies_every_operation_in_order(
    client: AsyncClient, tasks_url: str
) -> None:
    kept = (await client.post(tasks_url, json={"title": "kept"})).json()
    gone = (await client.post(tasks_url, json={"title": "gone"})).json()
    operations = [
        {"op": "create", "ref": "milk", "task": {"title": "Buy milk", "tags": ["home"]}},
        {
            "op": "create",
            "ref": "rent",
            "task": {"title": "Pay rent", "recurrence": {"frequency": "monthly"}},
        },
        {"op": "update", "id": "$milk", "changes": {"priority": "high"}},
        {"op": "complete", "id": "$rent", "completed": True},
        {
            "op": "update",
            "id": kept["id"],
            "changes": {"title": "kept, renamed"},
            "if_match": '"v1"',
        },
        {"op": "delete", "id": gone["id"]},
    ]

    response = await client.post(f"{tasks_url}/batch", json={"operations": operations})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r.get("title") for r in results[:5]] == [
        "Buy milk",
        "Pay rent",
        "Buy milk",
        "Pay rent",
        "kept, renamed",
    ]
    assert results[2]["priority"] == "high"
    assert results[2]["version"] == 2
    assert results[3]["completed"] is True
    assert results[3]["next_occurrence"]["title"] == "Pay rent"
    assert results[5] == {"id": gone["id"], "deleted": True}
    titles = sorted(task["title"] for task in await _tasks(client, tasks_url))
    assert titles == ["Buy milk", "Pay rent", "Pay rent", "kept, renamed"]


@pytest.mark.parametrize(
    ("failing", "status"),
    [
        ({"op": "update", "id": 2_000_000_000, "changes": {"title": "x"}}, 404),
        ({"op": "delete", "id": "OTHER", "if_match": '"v9"'}, 412),
        ({"op": "complete", "id": "FOREIGN"}, 404),
    ],
)
async def test_one_failing_operation_rolls_back_all_of_them(
    client: AsyncClient, tasks_url: str, failing: dict[str, Any], status: int
) -> None:
    existing = (await client.post(tasks_url, json={"title": "existing"})).json()
    other = (await client.post(tasks_url, json={"title": "other"})).json()
    foreign = (await client.post("/api/batch-stranger/tasks", json={"title": "theirs"})).json()
    ids = {"OTHER": other["id"], "FOREIGN": foreign["id"]}
    failing = {**failing, "id": ids.get(failing["id"], failing["id"])}
    operations = [
        {"op": "create", "task": {"title": "never stored"}},
        {"op": "update", "id": existing["id"], "changes": {"title": "never renamed"}},
        failing,
    ]

    response = await client.post(f"{tasks_url}/batch", json={"operations": operations})

    problem = assert_problem(response, status)
    assert error_locations(problem) == [["body", "operations", 2]]
    assert sorted(t["title"] for t in await _tasks(client, tasks_url)) == ["existing", "other"]
    assert (await client.get(f"{tasks_url}/{existing['id']}")).json()["version"] == 1


@pytest.mark.parametrize(
    ("operations", "location"),
    [
        ([{"op": "update", "id": "$nope", "changes": {}}], ["body", "operations", 0, "id"]),
        (
            [{"op": "delete", "id": 5}, {"op": "update", "id": 5, "changes": {}}],
            ["body", "operations", 1, "id"],
        ),
        (
            [
                {"op": "create", "ref": "a", "task": {"title": "a"}},
                {"op": "create", "ref": "a", "task": {"title": "b"}},
            ],
            ["body", "operations", 1, "ref"],
        ),
        ([{"op": "create", "task": {"title": "t"}}] * 101, ["body", "operations"]),
        ([], ["body", "operations"]),
        ([{"op": "explode", "id": 1}], ["body", "operations", 0]),
        (
            [{"op": "create", "task": {"title": ""}}],
            ["body", "operations", 0, "create", "task", "title"],
        ),
    ],
)
async def test_an_invalid_batch_is_422_and_applies_nothing(
    client: AsyncClient, tasks_url: str, operations: list[Any], location: list[Any]
) -> None:
    response = await client.post(f"{tasks_url}/batch", json={"operations": operations})

    problem = assert_problem(response, 422)
    assert any(loc[: len(location)] == location for loc in error_locations(problem)), problem
    assert await _tasks(client, tasks_url) == []


async def test_the_task_limit_holds_for_a_batch(settings: Settings, tasks_url: str) -> None:
    app = create_app(make_settings(settings.database_url, max_tasks_per_user=2))
    async with serve(app) as client:
        creates = [{"op": "create", "task": {"title": f"t{i}"}} for i in range(3)]
        response = await client.post(f"{tasks_url}/batch", json={"operations": creates})
        left = await _tasks(client, tasks_url)

    assert_problem(response, 409)
    assert left == []


async def test_a_batch_counts_one_request_per_operation(settings: Settings, tasks_url: str) -> None:
    app = create_app(make_settings(settings.database_url, rate_limit_per_minute=5))
    async with serve(app) as client:
        four = [{"op": "create", "task": {"title": f"t{i}"}} for i in range(4)]
        allowed = await client.post(f"{tasks_url}/batch", json={"operations": four})
        refused = await client.post(f"{tasks_url}/batch", json={"operations": four[:2]})

    assert allowed.status_code == 200
    assert_problem(refused, 429)


async def test_a_retried_batch_is_replayed(client: AsyncClient, tasks_url: str) -> None:
    body = {"operations": [{"op": "create", "task": {"title": "once"}}]}
    first = await client.post(f"{tasks_url}/batch", json=body, headers={"Idempotency-Key": "b1"})
    retry = await client.post(f"{tasks_url}/batch", json=body, headers={"Idempotency-Key": "b1"})

    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(await _tasks(client, tasks_url)) == 1


async def test_batches_and_single_writes_of_the_same_tasks_never_deadlock(
    client: AsyncClient, tasks_url: str
) -> None:
    first = (await client.post(tasks_url, json={"title": "a", "tags": ["x"]})).json()
    second = (await client.post(tasks_url, json={"title": "b", "tags": ["y"]})).json()
    forwards = [
        {"op": "update", "id": first["id"], "changes": {"tags": ["y"]}},
        {"op": "update", "id": second["id"], "changes": {"tags": ["x"]}},
    ]
    backwards = list(reversed(forwards))

    for _ in range(5):
        responses = await asyncio.gather(
            client.post(f"{tasks_url}/batch", json={"operations": forwards}),
            client.post(f"{tasks_url}/batch", json={"operations": backwards}),
            client.put(f"{tasks_url}/{second['id']}", json={"title": "b2"}),
            client.patch(f"{tasks_url}/{first['id']}/complete"),
        )
        assert [r.status_code for r in responses] == [200, 200, 200, 200], [
            r.text for r in responses
        ]


async def test_require_if_match_holds_inside_a_batch(settings: Settings, tasks_url: str) -> None:
    app = create_app(make_settings(settings.database_url, require_if_match=True))
    async with serve(app) as client:
        task = (await client.post(tasks_url, json={"title": "t"})).json()
        unconditional = [{"op": "delete", "id": task["id"]}]
        own_ref = [
            {"op": "create", "ref": "n", "task": {"title": "new"}},
            {"op": "update", "id": "$n", "changes": {"title": "newer"}},
        ]
        refused = await client.post(f"{tasks_url}/batch", json={"operations": unconditional})
        allowed = await client.post(f"{tasks_url}/batch", json={"operations": own_ref})

    assert error_locations(assert_problem(refused, 428)) == [["body", "operations", 0]]
    assert allowed.status_code == 200
