"""Versions, ETags and conditional requests (RFC 9110 §13), on both databases."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import make_settings, serve
from tests.helpers import assert_problem
from todo_api.main import create_app


async def _task(client: AsyncClient, tasks_url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(tasks_url, json={"title": "versioned", **fields})
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def test_every_change_adds_one_to_the_version_and_the_etag_follows(
    client: AsyncClient, tasks_url: str
) -> None:
    created = await client.post(tasks_url, json={"title": "a"})
    url = f"{tasks_url}/{created.json()['id']}"
    updated = await client.put(url, json={"title": "b"})
    toggled = await client.patch(f"{url}/complete")
    set_again = await client.patch(f"{url}/complete", json={"completed": True})  # no change
    fetched = await client.get(url)

    versions = [r.json()["version"] for r in (created, updated, toggled, set_again, fetched)]
    assert versions == [1, 2, 3, 3, 3]
    etags = [r.headers["etag"] for r in (created, updated, toggled, set_again, fetched)]
    assert etags == ['"v1"', '"v2"', '"v3"', '"v3"', '"v3"']


async def test_get_with_a_matching_if_none_match_is_304(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await _task(client, tasks_url)
    url = f"{tasks_url}/{task['id']}"

    same = await client.get(url, headers={"If-None-Match": '"v1"'})
    weak = await client.get(url, headers={"If-None-Match": 'W/"v1"'})
    listed = await client.get(url, headers={"If-None-Match": '"v9", "v1"'})
    other = await client.get(url, headers={"If-None-Match": '"v2"'})

    for response in (same, weak, listed):
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == '"v1"'
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PUT", "", {"title": "changed"}), ("DELETE", "", None), ("PATCH", "/complete", None)],
)
async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: AsyncClient, tasks_url: str, method: str, suffix: str, body: Any
) -> None:
    task = await _task(client, tasks_url)
    url = f"{tasks_url}/{task['id']}"
    await client.put(url, json={"title": "now v2"})

    for stale in ('"v1"', 'W/"v2"', '"2"', "garbage"):
        response = await client.request(
            method, f"{url}{suffix}", json=body, headers={"If-Match": stale}
        )
        problem = assert_problem(response, 412)
        assert '"v2"' in problem["detail"]
        assert response.headers["etag"] == '"v2"'

    after = (await client.get(url)).json()
    assert (after["title"], after["version"], after["completed"]) == ("now v2", 2, False)


@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [
        ("PUT", "", {"title": "changed"}, 200),
        ("PATCH", "/complete", None, 200),
        ("DELETE", "", None, 204),
    ],
)
@pytest.mark.parametrize("if_match", ['"v1"', "*", '"v7", "v1"'])
async def test_a_matching_if_match_writes(
    client: AsyncClient,
    tasks_url: str,
    method: str,
    suffix: str,
    body: Any,
    status: int,
    if_match: str,
) -> None:
    task = await _task(client, tasks_url)

    response = await client.request(
        method, f"{tasks_url}/{task['id']}{suffix}", json=body, headers={"If-Match": if_match}
    )

    assert response.status_code == status, response.text


async def test_if_match_on_a_missing_or_foreign_task_is_404(
    client: AsyncClient, tasks_url: str
) -> None:
    theirs = await _task(client, "/api/someone-else/tasks")

    for task_id in (theirs["id"], 2_000_000_000):
        response = await client.put(
            f"{tasks_url}/{task_id}", json={"title": "x"}, headers={"If-Match": "*"}
        )
        assert_problem(response, 404)


async def test_two_concurrent_puts_with_one_if_match_give_one_200_and_one_412(
    client: AsyncClient, tasks_url: str
) -> None:
    task = await _task(client, tasks_url)
    url = f"{tasks_url}/{task['id']}"

    for round_ in range(5):
        version = (await client.get(url)).json()["version"]
        responses = await asyncio.gather(
            *(
                client.put(
                    url, json={"title": f"{round_}-{n}"}, headers={"If-Match": f'"v{version}"'}
                )
                for n in range(2)
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 412]
        assert (await client.get(url)).json()["version"] == version + 1


async def test_require_if_match_makes_it_428(settings: Any, tasks_url: str) -> None:
    app: FastAPI = create_app(make_settings(settings.database_url, require_if_match=True))
    async with serve(app) as client:
        task = await _task(client, tasks_url)
        url = f"{tasks_url}/{task['id']}"

        without = [
            await client.put(url, json={"title": "x"}),
            await client.patch(f"{url}/complete"),
            await client.delete(url),
        ]
        with_it = await client.put(url, json={"title": "x"}, headers={"If-Match": '"v1"'})

    for response in without:
        assert_problem(response, 428)
    assert with_it.status_code == 200


async def test_the_list_etag_changes_with_every_write_and_answers_304(
    client: AsyncClient, tasks_url: str
) -> None:
    first = await _task(client, tasks_url)
    listed = await client.get(tasks_url)
    etag = listed.headers["etag"]
    assert etag.startswith('W/"')

    unchanged = await client.get(tasks_url, headers={"If-None-Match": etag})
    other_query = await client.get(tasks_url, params={"status": "pending"})
    await _task(client, "/api/someone-else/tasks")  # another user's write changes nothing
    still = await client.get(tasks_url, headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == etag
    assert other_query.headers["etag"] != etag
    assert still.status_code == 304

    seen = {etag}
    task_url = f"{tasks_url}/{first['id']}"
    writes = [
        ("PUT", task_url, {"description": "new"}),
        ("PATCH", f"{task_url}/complete", None),
        ("POST", tasks_url, {"title": "second"}),
        ("DELETE", task_url, None),
    ]
    for method, url, body in writes:
        assert (await client.request(method, url, json=body)).status_code in (200, 201, 204)
        response = await client.get(tasks_url, headers={"If-None-Match": etag})
        assert response.status_code == 200
        etag = response.headers["etag"]
        assert etag not in seen
        seen.add(etag)


async def test_an_empty_list_has_an_etag_too(client: AsyncClient, tasks_url: str) -> None:
    empty = await client.get(tasks_url)

    again = await client.get(tasks_url, headers={"If-None-Match": empty.headers["etag"]})

    assert again.status_code == 304


async def test_a_list_relative_to_the_clock_has_no_etag(
    client: AsyncClient, tasks_url: str
) -> None:
    await _task(client, tasks_url, due_at="2020-01-01T00:00:00Z")

    response = await client.get(tasks_url, params={"overdue": "true"})
    conditional = await client.get(
        tasks_url, params={"overdue": "true"}, headers={"If-None-Match": "*"}
    )

    assert "etag" not in response.headers
    assert conditional.status_code == 200
