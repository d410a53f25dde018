"""A real `todo-api serve` per database for the MCP tests, and the SDK's client to talk to it."""

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from tests.conftest import TEST_SECRET, hs256_token
from tests.helpers import environment_without_settings
from tests.test_cli import _wait_until_up, free_port


@pytest.fixture(scope="module")
def api_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`todo-api serve` on a free port, on the session's database of each kind."""
    port = free_port()
    env = environment_without_settings(DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET)
    server = subprocess.Popen(
        [sys.executable, "-m", "todo_api.cli", "serve", "--port", str(port)],
        cwd=tmp_path_factory.mktemp("mcp-server"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/health")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@asynccontextmanager
async def mcp_session(api_url: str, user_id: str) -> AsyncIterator[ClientSession]:
    """The SDK's own client over streamable HTTP, signed as `user_id`."""
    headers = {"Authorization": f"Bearer {hs256_token(user_id)}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{api_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


# Names that would let a caller pick whose tasks a tool acts on.
USER_ARGUMENTS = {"user_id", "user", "userid", "owner", "sub", "subject"}


def argument_names(schema: Any) -> set[str]:
    """Every property name a JSON Schema declares, at any depth (in lower case)."""
    names: set[str] = set()
    if isinstance(schema, dict):
        names |= {name.lower() for name in schema.get("properties", {})}
        for value in schema.values():
            names |= argument_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= argument_names(value)
    return names


def structured(result: CallToolResult) -> dict[str, Any]:
    """A successful call's structured result (which the text block repeats)."""
    assert not result.is_error, result.content
    content: dict[str, Any] = result.structured_content
    assert json.loads(result.content[0].text) == content  # type: ignore[union-attr]
    return content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    assert result.structured_content is None
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


@pytest.fixture
def other_user() -> str:
    return f"other-{uuid4().hex}"
