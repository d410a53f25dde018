"""The six task endpoints, through HTTP, on every database."""

import asyncio
from datetime import datetime, timedelta

from httpx import AsyncClient

from tests.helpers import assert_problem


async def create(client: AsyncClient, tasks_url: str, **fields: object) -> dict[str, object]:
    response = await client.post(tasks_url, json={"title": "Buy milk", **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_create_returns_the_task_with_location(
    client: AsyncClient, tasks_url: str, user_id: str
) -> None:
    response = await client.post(
        tasks_url, json={"title": "  Buy milk  ", "description": "2 litres"}
    )

    assert response.status_code == 201
    task = response.json()
    assert task["title"] == "Buy milk"
    assert task["description"] == "2 litres"
    assert task["completed"] is False
    assert task["user_id"] == user_id
    assert isinstance(task["id"], int)
    assert response.headers["location"] == f"http://test{tasks_url}/{task['id']}"
    created = datetime.fromisoformat(task["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert task["updated_at"] == task["created_at"]


async def test_created_task_is_readable_at_its_location(
    client: AsyncClient, tasks_url: str
) -> None:
    response = await client.post(tasks_url, json={"title": "Call mum", "completed": True})

    fetched = await client.get(response.headers["location"])

    assert fetched.status_code == 200
    assert fetched.json() == response.json()


async def test_list_returns_only_the_users_tasks_newest_first(
    client: AsyncClient, tasks_url: str
) -> None:
    first = await create(client, tasks_url, title="first")
    second = await create(client, tasks_url, title="second")
    await create(client, "/api/someone-else/tasks", title="not mine")

    response = await client.get(tasks_url)

    assert response.status_code == 200
    assert response.json() == [second, first]


async def test_list_is_empty_for_a_new_user(client: AsyncClient, tasks_url: str) -> None:
    response = await client.get(tasks_url)

    assert response.status_code == 200
    assert response.json() == []


async def test_put_changes_only_the_fields_sent(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url, description="keep me")

    response = await client.put(f"{tasks_url}/{task['id']}", json={"title": "Buy oat milk"})

    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "Buy oat milk"
    assert updated["description"] == "keep me"
    assert updated["completed"] is False
    assert updated["created_at"] == task["created_at"]
    assert updated["updated_at"] > task["updated_at"]
    assert (await client.get(f"{tasks_url}/{task['id']}")).json() == updated


async def test_put_can_clear_the_description_and_complete(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(client, tasks_url, description="temporary")

    response = await client.put(
        f"{tasks_url}/{task['id']}", json={"description": None, "completed": True}
    )

    assert response.status_code == 200
    assert response.json()["description"] is None
    assert response.json()["completed"] is True


async def test_put_with_empty_body_changes_nothing(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url)

    response = await client.put(f"{tasks_url}/{task['id']}", json={})

    assert response.status_code == 200
    assert response.json() == task


async def test_delete_removes_the_task(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url)

    response = await client.delete(f"{tasks_url}/{task['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"{tasks_url}/{task['id']}"), 404)
    assert_problem(await client.delete(f"{tasks_url}/{task['id']}"), 404)


async def test_patch_without_body_toggles_completion(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url)
    url = f"{tasks_url}/{task['id']}/complete"

    done = await client.patch(url)
    undone = await client.patch(url)

    assert done.status_code == 200
    assert done.json()["completed"] is True
    assert done.json()["updated_at"] > task["updated_at"]
    assert undone.json()["completed"] is False


async def test_patch_with_body_sets_completion_idempotently(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await create(client, tasks_url)
    url = f"{tasks_url}/{task['id']}/complete"

    first = await client.patch(url, json={"completed": True})
    second = await client.patch(url, json={"completed": True})
    reopened = await client.patch(url, json={"completed": False})

    assert first.json()["completed"] is True
    assert second.json()["completed"] is True
    assert reopened.json()["completed"] is False


async def test_concurrent_toggles_are_not_lost(client: AsyncClient, tasks_url: str) -> None:
    task = await create(client, tasks_url)
    url = f"{tasks_url}/{task['id']}/complete"

    responses = await asyncio.gather(*(client.patch(url) for _ in range(9)))

    assert [r.status_code for r in responses] == [200] * 9
    final = await client.get(f"{tasks_url}/{task['id']}")
    assert final.json()["completed"] is True  # nine flips from False


async def test_missing_task_is_404_on_every_route(client: AsyncClient, tasks_url: str) -> None:
    url = f"{tasks_url}/999999"

    for response in (
        await client.get(url),
        await client.put(url, json={"title": "x"}),
        await client.delete(url),
        await client.patch(f"{url}/complete"),
        await client.patch(f"{url}/complete", json={"completed": True}),
    ):
        body = assert_problem(response, 404)
        assert body["detail"] == "Task 999999 was not found."


async def test_location_and_link_are_valid_urls_for_any_user_id(client: AsyncClient) -> None:
    # A user id may hold spaces, non-ASCII letters and URL delimiters: headers carry the
    # path percent-encoded, as the client sent it, so the URLs work as given.
    encoded = tasks_url = "/api/ann%20lee%20%C3%A9%3F%23%25/tasks"  # "ann lee é?#%"

    first = await client.post(tasks_url, json={"title": "one"})
    await client.post(tasks_url, json={"title": "two"})
    page = await client.get(tasks_url, params={"limit": 1})

    location = first.headers["location"]
    assert location == f"http://test{encoded}/{first.json()['id']}"
    assert (await client.get(location)).json() == first.json()
    link = page.headers["link"]
    assert link.startswith(f"<http://test{encoded}?limit=1&cursor=")
    next_page = await client.get(link[1 : link.index(">")])
    assert [task["title"] for task in next_page.json()] == ["one"]
