"""Prometheus metrics: requests by route template and status, latency, pool, database errors."""

import re

from httpx import AsyncClient
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, make_settings, requires_postgres, serve
from todo_api.config import Settings
from todo_api.main import create_app


def sample(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = (
        rf"^{re.escape(name)}{{{re.escape(label_text)}}} (\S+)$"
        if labels
        else rf"^{re.escape(name)} (\S+)$"
    )
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, (name, labels)
    return float(match.group(1))


async def test_requests_are_counted_by_route_template(client: AsyncClient, tasks_url: str) -> None:
    for _ in range(3):
        await client.get(tasks_url)
    await client.get(f"{tasks_url}/999")

    text = (await client.get("/metrics")).text

    route = "/api/{user_id}/tasks"
    assert sample(text, "todo_api_requests_total", method="GET", route=route, status="200") == 3
    assert (
        sample(
            text, "todo_api_requests_total", method="GET", route=route + "/{task_id}", status="404"
        )
        == 1
    )
    assert sample(text, "todo_api_request_duration_seconds_count", method="GET", route=route) == 3
    # Each took well under a second (the clock is the request's own, not the process's).
    assert sample(text, "todo_api_request_duration_seconds_sum", method="GET", route=route) < 3
    assert "user-" not in text  # no user ids (unbounded label values)
    assert sample(text, "todo_api_db_pool_size") >= 1


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    async with serve(create_app(settings.model_copy(update={"metrics_enabled": False}))) as client:
        assert (await client.get("/metrics")).status_code == 404


@requires_postgres
async def test_database_outages_are_counted() -> None:
    url = make_url(POSTGRES_URL).set(port=1).render_as_string(hide_password=False)
    async with serve(create_app(make_settings(url))) as client:
        await client.get("/api/u/tasks")
        await client.get("/api/u/tasks")
        text = (await client.get("/metrics")).text

    assert sample(text, "todo_api_database_errors_total") == 2
