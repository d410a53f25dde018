"""Every error, whatever raised it, has the same problem+json shape and leaks nothing."""

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from tests.helpers import assert_problem
from todo_api.tasks import service


async def test_unknown_route_is_404_problem(client: AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404)


async def test_wrong_method_is_405_problem_with_allow(client: AsyncClient, tasks_url: str) -> None:
    response = await client.delete(tasks_url)

    assert_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


async def test_declared_oversized_body_is_413_and_stores_nothing(
    client: AsyncClient, tasks_url: str
) -> None:
    body = b'{"title": "big", "description": "' + b"x" * 70_000 + b'"}'

    response = await client.post(
        tasks_url, content=body, headers={"content-type": "application/json"}
    )

    assert_problem(response, 413)
    assert (await client.get(tasks_url)).json() == []


async def test_streamed_oversized_body_is_413_before_it_is_read_whole(
    client: AsyncClient, tasks_url: str
) -> None:
    sent_chunks = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent_chunks
        yield b'{"title": "big", "description": "'
        for _ in range(1000):  # 1000 x 1 KiB, far over the 64 KiB limit
            sent_chunks += 1
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        tasks_url, content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert (await client.get(tasks_url)).json() == []


async def test_body_just_under_the_limit_is_accepted_as_far_as_validation(
    client: AsyncClient, tasks_url: str
) -> None:
    body = b'{"title": "ok", "description": "' + b"x" * 60_000 + b'"}'

    response = await client.post(
        tasks_url, content=body, headers={"content-type": "application/json"}
    )

    # Read and validated (too long a description), not refused for its size.
    assert_problem(response, 422)


async def test_unexpected_error_is_a_bare_500_problem(
    client: AsyncClient, tasks_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_listing(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(service, "list_tasks", broken_listing)

    response = await client.get(tasks_url)

    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert body["detail"].startswith("An unexpected error occurred")
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_non_json_body_is_a_4xx_problem(
    client: AsyncClient, tasks_url: str, content_type: str
) -> None:
    response = await client.post(
        tasks_url, content=b'{"title": "x"}', headers={"content-type": content_type}
    )

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)
    assert (await client.get(tasks_url)).json() == []
