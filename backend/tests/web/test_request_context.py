"""Request ids on responses and log lines; structured logs that keep tokens and task text out."""

import json
import logging
import logging.config
import re

import pytest
from httpx import AsyncClient

from tests.conftest import make_settings, serve
from todo_api.config import Settings
from todo_api.main import create_app
from todo_api.ops.logs import logging_config
from todo_api.web.request_context import RequestIdFilter


async def test_a_request_id_is_made_when_none_is_sent(client: AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_well_formed_request_id_is_kept(client: AsyncClient, tasks_url: str) -> None:
    response = await client.get(tasks_url, headers={"X-Request-ID": "lb-7f3a.42"})

    assert response.headers["x-request-id"] == "lb-7f3a.42"


@pytest.mark.parametrize("sent", ["has spaces", "x" * 65, "newline\\nsplit", "<script>"])
async def test_a_malformed_request_id_is_replaced(client: AsyncClient, sent: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": sent})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_log_lines_carry_the_request_id(
    client: AsyncClient, tasks_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level("INFO")

    response = await client.get(tasks_url, headers={"Authorization": "Bearer bad-token"})

    rejected = [r for r in caplog.records if r.getMessage().startswith("rejected token")]
    assert [r.request_id for r in rejected] == [response.headers["x-request-id"]]  # type: ignore[attr-defined]


async def test_access_log_is_off_by_default(
    client: AsyncClient, tasks_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="todo_api.access")

    await client.get(tasks_url)

    assert [r for r in caplog.records if r.name == "todo_api.access"] == []


async def test_access_log_leaves_out_query_strings(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="todo_api.access")
    tasks_url = "/api/log-reader/tasks"

    async with serve(create_app(settings.model_copy(update={"access_log": True}))) as client:
        await client.get(tasks_url, params={"q": "surprise party for alice"})

    lines = [r.getMessage() for r in caplog.records if r.name == "todo_api.access"]
    assert len(lines) == 1
    assert lines[0].startswith(f"GET {tasks_url} 200 ")
    assert "surprise" not in caplog.text


def test_production_logs_are_json_with_the_request_id() -> None:
    config = logging_config(make_settings("sqlite://", environment="production"))
    formatter = logging.config.DictConfigurator(config).configure_formatter(
        config["formatters"]["default"]
    )
    record = logging.LogRecord(
        "todo_api.x", logging.INFO, __file__, 1, "hello %s", ("world",), None
    )
    RequestIdFilter().filter(record)

    line = json.loads(formatter.format(record))

    assert line["message"] == "hello world"
    assert line["level"] == "INFO"
    assert line["request_id"] == "-"
