"""Invalid input is a 422 problem, and nothing is stored or changed."""

import pytest
from httpx import AsyncClient

from tests.helpers import assert_problem, error_locations

INVALID_BODIES = [
    pytest.param({}, ["body", "title"], id="title-missing"),
    pytest.param({"title": ""}, ["body", "title"], id="title-empty"),
    pytest.param({"title": "   \t\n "}, ["body", "title"], id="title-blank"),
    pytest.param({"title": "x" * 201}, ["body", "title"], id="title-too-long"),
    pytest.param({"title": "a\x00b"}, ["body", "title"], id="title-nul"),
    pytest.param({"title": 42}, ["body", "title"], id="title-not-string"),
    pytest.param({"title": None}, ["body", "title"], id="title-null"),
    pytest.param(
        {"title": "ok", "description": "x" * 1001},
        ["body", "description"],
        id="description-too-long",
    ),
    pytest.param(
        {"title": "ok", "description": "nul\x00"}, ["body", "description"], id="description-nul"
    ),
    pytest.param(
        {"title": "ok", "description": 5}, ["body", "description"], id="description-not-string"
    ),
    pytest.param(
        {"title": "ok", "completed": "yes"}, ["body", "completed"], id="completed-not-bool"
    ),
    pytest.param({"title": "ok", "completed": 1}, ["body", "completed"], id="completed-int"),
    pytest.param({"title": "ok", "id": 7}, ["body", "id"], id="unknown-id"),
    pytest.param({"title": "ok", "user_id": "mallory"}, ["body", "user_id"], id="unknown-user_id"),
    pytest.param(
        {"title": "ok", "created_at": "2020-01-01T00:00:00Z"},
        ["body", "created_at"],
        id="unknown-created_at",
    ),
]


@pytest.mark.parametrize(("body", "location"), INVALID_BODIES)
async def test_invalid_create_is_422_and_stores_nothing(
    client: AsyncClient, tasks_url: str, body: dict[str, object], location: list[str]
) -> None:
    response = await client.post(tasks_url, json=body)

    problem = assert_problem(response, 422)
    assert location in error_locations(problem)
    assert all({"loc", "msg", "type"} == error.keys() for error in problem["errors"])
    assert (await client.get(tasks_url)).json() == []


@pytest.mark.parametrize(
    ("body", "location"), [p for p in INVALID_BODIES if p.id not in {"title-missing"}]
)
async def test_invalid_update_is_422_and_changes_nothing(
    client: AsyncClient, tasks_url: str, body: dict[str, object], location: list[str]
) -> None:
    task = (await client.post(tasks_url, json={"title": "original"})).json()

    response = await client.put(f"{tasks_url}/{task['id']}", json=body)

    assert location in error_locations(assert_problem(response, 422))
    assert (await client.get(f"{tasks_url}/{task['id']}")).json() == task


@pytest.mark.parametrize("body", [{"completed": None}, {"completed": "true"}, {"done": True}, {}])
async def test_invalid_completion_body_is_422(
    client: AsyncClient, tasks_url: str, body: dict[str, object]
) -> None:
    task = (await client.post(tasks_url, json={"title": "original"})).json()

    response = await client.patch(f"{tasks_url}/{task['id']}/complete", json=body)

    assert_problem(response, 422)
    assert (await client.get(f"{tasks_url}/{task['id']}")).json() == task


@pytest.mark.parametrize("raw", [b"{", b'{"title": "x",}', b"not json", b'"just a string"', b"[]"])
async def test_malformed_json_is_422(client: AsyncClient, tasks_url: str, raw: bytes) -> None:
    response = await client.post(
        tasks_url, content=raw, headers={"content-type": "application/json"}
    )

    assert_problem(response, 422)
    assert (await client.get(tasks_url)).json() == []


@pytest.mark.parametrize(
    "task_id", ["0", "-1", "2147483648", "99999999999999999999", "abc", "1.5", "1e3"]
)
async def test_bad_task_id_is_422_on_every_route(
    client: AsyncClient, tasks_url: str, task_id: str
) -> None:
    url = f"{tasks_url}/{task_id}"

    for response in (
        await client.get(url),
        await client.put(url, json={"title": "x"}),
        await client.delete(url),
        await client.patch(f"{url}/complete"),
    ):
        assert ["path", "task_id"] in error_locations(assert_problem(response, 422))


@pytest.mark.parametrize("user_id", ["x" * 256, "tab%09here", "nul%00"])
async def test_bad_user_id_is_422(client: AsyncClient, user_id: str) -> None:
    response = await client.get(f"/api/{user_id}/tasks")

    assert ["path", "user_id"] in error_locations(assert_problem(response, 422))


async def test_title_of_exactly_200_characters_is_accepted(
    client: AsyncClient, tasks_url: str
) -> None:
    response = await client.post(tasks_url, json={"title": "é" * 200, "description": "d" * 1000})

    assert response.status_code == 201
    assert response.json()["title"] == "é" * 200


async def test_unicode_text_round_trips(client: AsyncClient, tasks_url: str) -> None:
    title = "Réviser 日本語 🚀 'quotes' \"double\" ; DROP TABLE tasks; --"

    created = (
        await client.post(tasks_url, json={"title": title, "description": "line\nbreak"})
    ).json()

    fetched = (await client.get(f"{tasks_url}/{created['id']}")).json()
    assert fetched["title"] == title
    assert fetched["description"] == "line\nbreak"


@pytest.mark.parametrize("raw", [b'{"title": "\xff"}', b"[" * 60_000])
async def test_undecodable_body_is_400(client: AsyncClient, tasks_url: str, raw: bytes) -> None:
    # Not UTF-8, or nested deeper than a JSON parser goes: refused as FastAPI refuses it.
    response = await client.post(
        tasks_url, content=raw, headers={"content-type": "application/json"}
    )

    assert_problem(response, 400)
    assert (await client.get(tasks_url)).json() == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"title": "a\\ud800b"}', id="title-lone-high-surrogate"),
        pytest.param(b'{"title": "ok", "description": "\\udc00"}', id="description-lone-low"),
        pytest.param(b'{"title": "ok", "tags": ["\\ud83d"]}', id="tag-lone-surrogate"),
        pytest.param(b'{"title": "ok", "\\ud800": 1}', id="key-lone-surrogate"),
        pytest.param(b'{"title": "ok", "completed": NaN}', id="nan"),
        pytest.param(b'\xef\xbb\xbf{"title": "ok"}', id="byte-order-mark"),
    ],
)
async def test_json_that_is_not_strict_utf8_json_is_422(
    client: AsyncClient, tasks_url: str, raw: bytes
) -> None:
    # A lone surrogate is not text any database stores (it was a 500); NaN is not JSON, and
    # JSON between systems is UTF-8 without a byte-order mark (RFC 8259).
    task = (await client.post(tasks_url, json={"title": "original"})).json()
    headers = {"content-type": "application/json"}

    created = await client.post(tasks_url, content=raw, headers=headers)
    updated = await client.put(f"{tasks_url}/{task['id']}", content=raw, headers=headers)

    for response in (created, updated):
        problem = assert_problem(response, 422)
        assert [error["type"] for error in problem["errors"]] == ["json_invalid"]
    assert (await client.get(tasks_url)).json() == [task]


async def test_escaped_surrogate_pair_is_text(client: AsyncClient, tasks_url: str) -> None:
    raw = b'{"title": "launch \\ud83d\\ude80", "tags": ["\\u00e9t\\u00e9"]}'

    response = await client.post(
        tasks_url, content=raw, headers={"content-type": "application/json"}
    )

    assert response.status_code == 201, response.text
    assert (response.json()["title"], response.json()["tags"]) == ("launch 🚀", ["été"])
