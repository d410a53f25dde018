"""Idempotency-Key: a retried write runs once and gets the first response, on both databases."""

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from tests.conftest import make_settings
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.db.connect import open_database
from todo_api.db.types import utc_now
from todo_api.tasks.idempotency import purge_expired
from todo_api.tasks.models import IDEMPOTENCY_RECORDS


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def _count(client: AsyncClient, tasks_url: str) -> int:
    return int((await client.get(tasks_url)).headers["x-total-count"])


async def test_a_retried_create_is_replayed_byte_for_byte(
    client: AsyncClient, tasks_url: str
) -> None:
    body = {"title": "once", "tags": ["a"]}
    first = await client.post(tasks_url, json=body, headers=_key("create-1"))
    retry = await client.post(tasks_url, json=body, headers=_key('"create-1"'))  # sf-string

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _count(client, tasks_url) == 1


async def test_a_retried_toggle_toggles_once(client: AsyncClient, tasks_url: str) -> None:
    task = (await client.post(tasks_url, json={"title": "t"})).json()
    url = f"{tasks_url}/{task['id']}/complete"

    responses = [await client.patch(url, headers=_key("toggle-1")) for _ in range(3)]

    assert [r.json()["completed"] for r in responses] == [True, True, True]
    assert (await client.get(f"{tasks_url}/{task['id']}")).json()["completed"] is True


async def test_the_same_key_for_another_request_is_422(client: AsyncClient, tasks_url: str) -> None:
    task = (await client.post(tasks_url, json={"title": "t"}, headers=_key("k"))).json()

    other_body = await client.post(tasks_url, json={"title": "other"}, headers=_key("k"))
    other_path = await client.put(
        f"{tasks_url}/{task['id']}", json={"title": "t"}, headers=_key("k")
    )
    other_method = await client.delete(f"{tasks_url}/{task['id']}", headers=_key("k"))

    for response in (other_body, other_path, other_method):
        assert_problem(response, 422)
    assert await _count(client, tasks_url) == 1


async def test_keys_belong_to_their_user(client: AsyncClient, tasks_url: str) -> None:
    mine = await client.post(tasks_url, json={"title": "mine"}, headers=_key("shared"))
    theirs = await client.post(
        "/api/other-user-idem/tasks", json={"title": "theirs"}, headers=_key("shared")
    )

    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["user_id"] == "other-user-idem"


async def test_a_refusal_is_stored_and_replayed(client: AsyncClient, tasks_url: str) -> None:
    first = await client.put(f"{tasks_url}/999999", json={"title": "x"}, headers=_key("404"))
    retry = await client.put(f"{tasks_url}/999999", json={"title": "x"}, headers=_key("404"))

    assert_problem(first, 404)
    assert retry.status_code == 404
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(
    "value",
    ["", "   ", "x" * 256, "caf\u00e9", "two words", '"unterminated', '"a"b"', '""', "tab\tkey"],
)
async def test_a_malformed_key_is_400(client: AsyncClient, tasks_url: str, value: str) -> None:
    raw = [(b"Idempotency-Key", value.encode("latin-1"))]  # as sent, not as httpx would check
    response = await client.post(tasks_url, json={"title": "t"}, headers=raw)

    assert_problem(response, 400)
    assert await _count(client, tasks_url) == 0


async def test_two_key_headers_are_400(client: AsyncClient, tasks_url: str) -> None:
    response = await client.post(
        tasks_url,
        json={"title": "t"},
        headers=[("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
    )

    assert_problem(response, 400)


async def test_twenty_concurrent_requests_with_one_key_create_one_task(
    client: AsyncClient, tasks_url: str
) -> None:
    body = {"title": "raced"}
    responses = await asyncio.gather(
        *(client.post(tasks_url, json=body, headers=_key("race")) for _ in range(20))
    )

    created = [r for r in responses if r.status_code == 201]
    assert {r.status_code for r in responses} <= {201, 409}
    assert len({r.content for r in created}) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.headers["retry-after"] == "1"
    assert await _count(client, tasks_url) == 1


async def test_an_expired_key_runs_again_and_is_purged(
    client: AsyncClient, tasks_url: str, settings: Settings, user_id: str
) -> None:
    await client.post(tasks_url, json={"title": "t"}, headers=_key("old"))
    db = await open_database(make_settings(settings.database_url))
    try:
        aged = utc_now().replace(year=2020)
        await db.all(update(IDEMPOTENCY_RECORDS).values(created_at=aged))
        again = await client.post(tasks_url, json={"title": "t"}, headers=_key("old"))
        await db.all(update(IDEMPOTENCY_RECORDS).values(created_at=aged))
        await purge_expired(db, ttl_seconds=3600)
        left = await db.all(
            IDEMPOTENCY_RECORDS.select().where(IDEMPOTENCY_RECORDS.c.user_id == user_id)
        )
    finally:
        await db.close()

    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert await _count(client, tasks_url) == 2
    assert left == []


_OPS = st.lists(st.sampled_from(["create", "toggle", "rename"]), min_size=1, max_size=5).flatmap(
    lambda kinds: st.tuples(
        st.just(kinds),
        st.permutations([i for i, _ in enumerate(kinds) for _ in range(3)]).map(
            lambda order: order[: len(order) - 1]  # some retries may never happen
        ),
    )
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=_OPS)
async def test_any_interleaving_of_retries_runs_each_key_once(
    client: AsyncClient, plan: tuple[list[str], list[int]]
) -> None:
    kinds, order = plan
    owner = f"prop-{uuid4().hex}"
    url = f"/api/{owner}/tasks"
    anchor = (await client.post(url, json={"title": "anchor"})).json()
    anchor_url = f"{url}/{anchor['id']}"
    ran: list[int] = []  # each key's first arrival, in order: what "once each" means
    for index in order:
        key, kind = f"k{index}", kinds[index]
        if index not in ran:
            ran.append(index)
        if kind == "create":
            response = await client.post(url, json={"title": f"c{index}"}, headers=_key(key))
        elif kind == "toggle":
            response = await client.patch(f"{anchor_url}/complete", headers=_key(key))
        else:
            response = await client.put(anchor_url, json={"title": f"r{index}"}, headers=_key(key))
        assert response.status_code in (200, 201), response.text

    expected: dict[str, Any] = {"completed": False, "title": "anchor", "tasks": 1}
    for index in ran:
        kind = kinds[index]
        if kind == "create":
            expected["tasks"] += 1
        elif kind == "toggle":
            expected["completed"] = not expected["completed"]
        else:
            expected["title"] = f"r{index}"
    final = (await client.get(anchor_url)).json()
    assert {
        "completed": final["completed"],
        "title": final["title"],
        "tasks": await _count(client, url),
    } == expected


async def test_a_server_error_is_not_stored_and_a_retry_runs_again(
    client: AsyncClient, tasks_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from todo_api.errors import ServiceUnavailable
    from todo_api.tasks import service

    create = service.create_task
    calls = 0

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ServiceUnavailable("The database is unavailable; try again shortly.")
        return await create(*args, **kwargs)

    monkeypatch.setattr(service, "create_task", failing_once)
    first = await client.post(tasks_url, json={"title": "t"}, headers=_key("5xx"))
    retry = await client.post(tasks_url, json={"title": "t"}, headers=_key("5xx"))

    assert_problem(first, 503)
    assert retry.status_code == 201
    assert "idempotent-replayed" not in retry.headers
    assert await _count(client, tasks_url) == 1
