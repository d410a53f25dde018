"""`todo-api mcp`: the same tools over stdio, acting as the user of the token it is given."""

import subprocess
import sys
from pathlib import Path

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.assistant.conftest import error_text, structured
from tests.conftest import TEST_SECRET, fetch_value, hs256_token
from tests.helpers import environment_without_settings
from todo_api.config import Settings

COMMAND = [sys.executable, "-m", "todo_api.cli", "mcp"]


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    return environment_without_settings(
        DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET, **extra
    )


async def test_the_stdio_server_acts_for_the_tokens_user(
    settings: Settings, user_id: str, other_user: str, tmp_path: Path
) -> None:
    url = settings.database_url
    parameters = StdioServerParameters(
        command=COMMAND[0],
        args=COMMAND[1:],
        env=_environment(url, TODO_API_TOKEN=hs256_token(user_id)),
        cwd=tmp_path,
    )
    async with (
        stdio_client(parameters) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        added = structured(await session.call_tool("add_task", {"title": "from the desktop"}))
        planted = await session.call_tool("add_task", {"title": "x", "user_id": other_user})
        done = structured(await session.call_tool("complete_task", {"task_id": added["task_id"]}))

    assert tools == {"add_task", "list_tasks", "complete_task", "update_task", "delete_task"}
    assert added["task"]["user_id"] == user_id
    assert "user_id: Extra inputs are not permitted" in error_text(planted)
    assert done["status"] == "completed"
    owners = "SELECT count(*) FROM tasks WHERE user_id = :owner"
    assert await fetch_value(url, owners, owner=user_id) == 1
    assert await fetch_value(url, owners, owner=other_user) == 0


def test_an_invalid_token_is_one_line_and_a_failure(settings: Settings, tmp_path: Path) -> None:
    forged = hs256_token("mallory", secret="another-secret-that-is-long-enough-0123456789")
    result = subprocess.run(
        [*COMMAND, "--token", forged],
        cwd=tmp_path,
        env=_environment(settings.database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "todo-api mcp: the token is not accepted (InvalidSignatureError)"
    ]
    assert forged not in result.stderr


def test_no_token_is_a_usage_error(settings: Settings, tmp_path: Path) -> None:
    result = subprocess.run(
        COMMAND,
        cwd=tmp_path,
        env=_environment(settings.database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "--token or TODO_API_TOKEN" in result.stderr
