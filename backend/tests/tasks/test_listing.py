"""Filters, search, sorting and keyset pagination of the list, the same on both databases."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.helpers import assert_problem

NOW = datetime.now(UTC)


def iso(delta_days: float) -> str:
    return (NOW + timedelta(days=delta_days)).isoformat()


async def create(client: AsyncClient, tasks_url: str, title: str, **fields: Any) -> int:
    response = await client.post(tasks_url, json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def titles(client: AsyncClient, tasks_url: str, **params: Any) -> list[str]:
    response = await client.get(tasks_url, params=params)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


def next_link(response: Response) -> str | None:
    match = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
    return match.group(1) if match else None


async def walk(
    client: AsyncClient, url: str, params: dict[str, Any]
) -> tuple[list[str], list[int]]:
    """Follow `Link: rel=next` to the end; the titles in order, and X-Total-Count of each page."""
    seen: list[str] = []
    totals: list[int] = []
    response = await client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        seen += [task["title"] for task in response.json()]
        totals.append(int(response.headers["x-total-count"]))
        link = next_link(response)
        if link is None:
            return seen, totals
        response = await client.get(link)


@pytest.fixture
async def catalogue(client: AsyncClient, tasks_url: str) -> None:
    """Tasks with ties in every sort key, in a known creation order."""
    await create(client, tasks_url, "banana", priority="high", tags=["food"], due_at=iso(2))
    await create(client, tasks_url, "Apple", priority="low", tags=["food", "fruit"], due_at=iso(-1))
    await create(client, tasks_url, "cherry", priority="high", description="50% off_sale")
    await create(client, tasks_url, "apple pie", priority="medium", tags=["food"], due_at=iso(2))
    await create(client, tasks_url, "Écrire", priority="medium", due_at=iso(-3), completed=True)
    await create(client, tasks_url, "zebra", priority="low", description="Big APPLE trip")
    await create(client, tasks_url, "date", priority="high", due_at=iso(5), tags=["fruit"])


@pytest.mark.usefixtures("catalogue")
async def test_default_is_newest_first(client: AsyncClient, tasks_url: str) -> None:
    response = await client.get(tasks_url)

    assert [t["title"] for t in response.json()] == [
        "date",
        "zebra",
        "Écrire",
        "apple pie",
        "cherry",
        "Apple",
        "banana",
    ]
    assert response.headers["x-total-count"] == "7"
    assert "link" not in response.headers


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "completed"}, ["Écrire"]),
        (
            {"status": "pending", "sort": "title"},
            ["Apple", "apple pie", "banana", "cherry", "date", "zebra"],
        ),
        ({"priority": "high"}, ["date", "cherry", "banana"]),
        ({"priority": ["low", "medium"]}, ["zebra", "Écrire", "apple pie", "Apple"]),
        ({"tag": "food"}, ["apple pie", "Apple", "banana"]),
        ({"tag": ["food", "FRUIT"]}, ["Apple"]),
        ({"tag": "nothing"}, []),
        ({"q": "apple"}, ["zebra", "apple pie", "Apple"]),
        ({"q": "APPLE PIE"}, ["apple pie"]),
        ({"q": "écrire"}, ["Écrire"]),
        ({"q": "50%"}, ["cherry"]),
        ({"q": "off_sale"}, ["cherry"]),
        ({"q": "%"}, ["cherry"]),
        ({"q": "_"}, ["cherry"]),
        ({"due_before": iso(0)}, ["Écrire", "Apple"]),
        ({"due_after": iso(1), "due_before": iso(3)}, ["apple pie", "banana"]),
        ({"overdue": "true"}, ["Apple"]),
        ({"overdue": "false", "priority": "low"}, ["zebra"]),
        ({"status": "pending", "tag": "fruit", "q": "date"}, ["date"]),
    ],
)
async def test_filters(
    client: AsyncClient, tasks_url: str, params: dict[str, Any], expected: list[str]
) -> None:
    response = await client.get(tasks_url, params=params)

    assert [t["title"] for t in response.json()] == expected
    assert response.headers["x-total-count"] == str(len(expected))


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"sort": "created", "order": "asc"},
            ["banana", "Apple", "cherry", "apple pie", "Écrire", "zebra", "date"],
        ),
        ({"sort": "title"}, ["Apple", "apple pie", "banana", "cherry", "date", "Écrire", "zebra"]),
        (
            {"sort": "title", "order": "desc"},
            ["zebra", "Écrire", "date", "cherry", "banana", "apple pie", "Apple"],
        ),
        (
            {"sort": "due_date"},
            ["Écrire", "Apple", "banana", "apple pie", "date", "cherry", "zebra"],
        ),
        (
            {"sort": "due_date", "order": "desc"},
            ["date", "apple pie", "banana", "Apple", "Écrire", "zebra", "cherry"],
        ),
        (
            {"sort": "priority"},
            ["date", "cherry", "banana", "Écrire", "apple pie", "zebra", "Apple"],
        ),
        (
            {"sort": "priority", "order": "asc"},
            ["Apple", "zebra", "apple pie", "Écrire", "banana", "cherry", "date"],
        ),
    ],
)
async def test_sorting_is_deterministic(
    client: AsyncClient, tasks_url: str, params: dict[str, Any], expected: list[str]
) -> None:
    assert await titles(client, tasks_url, **params) == expected


async def test_sort_by_updated_puts_the_latest_change_first(
    client: AsyncClient, tasks_url: str
) -> None:
    first = await create(client, tasks_url, "first")
    await create(client, tasks_url, "second")
    await client.put(f"{tasks_url}/{first}", json={"description": "touched"})

    assert await titles(client, tasks_url, sort="updated") == ["first", "second"]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("sort", ["created", "updated", "title", "due_date", "priority"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_walking_pages_gives_each_task_once_in_order(
    client: AsyncClient, tasks_url: str, sort: str, order: str, limit: int
) -> None:
    whole = await titles(client, tasks_url, sort=sort, order=order)

    walked, totals = await walk(client, tasks_url, {"sort": sort, "order": order, "limit": limit})

    assert walked == whole
    assert len(walked) == 7
    assert set(totals) == {7}


@pytest.mark.usefixtures("catalogue")
async def test_filters_stay_applied_across_pages(client: AsyncClient, tasks_url: str) -> None:
    walked, totals = await walk(client, tasks_url, {"tag": "food", "sort": "title", "limit": 1})

    assert walked == ["Apple", "apple pie", "banana"]
    assert totals == [3, 3, 3]


@pytest.mark.parametrize("sort", ["created", "title", "due_date"])
async def test_tasks_added_while_walking_do_not_disturb_the_walk(
    client: AsyncClient, tasks_url: str, sort: str
) -> None:
    originals = [f"task {n:02d}" for n in range(9)]
    for n, title in enumerate(originals):
        await create(client, tasks_url, title, due_at=iso(n % 3))
    seen: list[str] = []
    response = await client.get(tasks_url, params={"sort": sort, "limit": 2})
    added = 0
    while True:
        seen += [task["title"] for task in response.json()]
        await create(
            client, tasks_url, f"added {added:02d}", due_at=iso(added % 4)
        )  # lands anywhere
        added += 1
        link = next_link(response)
        if link is None:
            break
        response = await client.get(link)

    assert len(seen) == len(set(seen))  # nothing twice
    assert set(originals) <= set(seen)  # nothing that was there is missed


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "bogus"},
        {"order": "up"},
        {"limit": 0},
        {"limit": 501},
        {"limit": 10000},
        {"limit": "ten"},
        {"cursor": "garbled!!"},
        {"cursor": "W10"},  # base64 of "[]"
        {"cursor": "eyJhIjoxfQ"},  # base64 of {"a":1}
        {"due_before": "yesterday"},
        {"due_after": "2026-02-30T00:00:00Z"},
        {"status": "maybe"},
        {"priority": "urgent"},
        {"overdue": "perhaps"},
        {"q": ""},
        {"q": "x" * 201},
        {"tag": "y" * 51},
    ],
)
async def test_bad_list_parameters_are_422(
    client: AsyncClient, tasks_url: str, params: dict[str, Any]
) -> None:
    assert_problem(await client.get(tasks_url, params=params), 422)


async def test_cursor_only_works_for_the_query_that_made_it(
    client: AsyncClient, tasks_url: str
) -> None:
    for n in range(3):
        await create(client, tasks_url, f"t{n}")
    first_page = await client.get(tasks_url, params={"sort": "title", "limit": 1})
    cursor = re.search(r"cursor=([^&>]+)", first_page.headers["link"])
    assert cursor is not None

    for other in (
        {"sort": "created"},
        {"sort": "title", "order": "desc"},
        {"sort": "title", "q": "t"},
    ):
        response = await client.get(tasks_url, params={**other, "cursor": cursor.group(1)})
        assert_problem(response, 422)
    same = await client.get(
        tasks_url, params={"sort": "title", "limit": 1, "cursor": cursor.group(1)}
    )
    assert [t["title"] for t in same.json()] == ["t1"]


async def test_cursor_of_another_user_reveals_nothing(client: AsyncClient, tasks_url: str) -> None:
    for n in range(3):
        await create(client, tasks_url, f"mine {n}")
    page = await client.get(tasks_url, params={"limit": 1})
    link = next_link(page)
    assert link is not None

    stolen = await client.get(link.replace(tasks_url, "/api/thief/tasks"))

    assert_problem(stolen, 422)
