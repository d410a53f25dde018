"""One user never sees, changes or learns of another user's task."""

from httpx import AsyncClient

from tests.helpers import assert_problem


async def test_other_users_task_is_404_exactly_like_a_missing_one(client: AsyncClient) -> None:
    owned = (await client.post("/api/alice/tasks", json={"title": "Alice's secret"})).json()
    other_url = f"/api/mallory/tasks/{owned['id']}"
    missing_url = "/api/mallory/tasks/2147483647"

    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"title": "pwned", "completed": True}),
        ("PATCH", "/complete", None),
        ("PATCH", "/complete", {"completed": True}),
        ("DELETE", "", None),
    ):
        other = await client.request(method, other_url + suffix, json=body)
        missing = await client.request(method, missing_url + suffix, json=body)
        other_problem = assert_problem(other, 404)
        missing_problem = assert_problem(missing, 404)
        # Same shape and wording apart from the id the caller sent.
        assert other_problem["title"] == missing_problem["title"]
        assert other_problem["detail"].replace(str(owned["id"]), "N") == missing_problem[
            "detail"
        ].replace("2147483647", "N")

    assert (await client.get("/api/mallory/tasks")).json() == []
    assert (await client.get(f"/api/alice/tasks/{owned['id']}")).json() == owned


async def test_user_ids_are_compared_exactly(client: AsyncClient) -> None:
    owned = (await client.post("/api/Alice/tasks", json={"title": "case matters"})).json()

    assert_problem(await client.get(f"/api/alice/tasks/{owned['id']}"), 404)
    assert (await client.get("/api/alice/tasks")).json() == []
