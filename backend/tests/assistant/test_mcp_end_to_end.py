"""MCP at /mcp, end to end: the SDK's client over streamable HTTP against `todo-api serve`."""

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.assistant.conftest import (
    USER_ARGUMENTS,
    argument_names,
    error_text,
    mcp_session,
    structured,
)
from tests.conftest import fetch_value, hs256_token
from todo_api.config import Settings

TOOL_NAMES = {"add_task", "list_tasks", "complete_task", "update_task", "delete_task"}


async def test_tools_are_listed_with_schemas_that_name_no_user(
    api_url: str, user_id: str, settings: Settings
) -> None:
    async with mcp_session(api_url, user_id) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}

    assert tools.keys() == TOOL_NAMES
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        assert not USER_ARGUMENTS & argument_names(tool.input_schema)
        assert tool.output_schema is not None
        assert tool.description
    assert {"title", "description", "priority", "tags", "due_at", "recurrence"} <= tools[
        "add_task"
    ].input_schema["properties"].keys()
    assert tools["add_task"].input_schema["required"] == ["title"]
    assert tools["complete_task"].input_schema["required"] == ["task_id"]
    assert {"status", "q", "tag", "priority", "sort", "limit"} <= tools["list_tasks"].input_schema[
        "properties"
    ].keys()
    assert tools["list_tasks"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert tools["delete_task"].annotations.destructive_hint is True  # type: ignore[union-attr]


async def test_each_tool_acts_on_the_signed_in_users_tasks(
    api_url: str, user_id: str, settings: Settings
) -> None:
    async with mcp_session(api_url, user_id) as session:
        added = structured(
            await session.call_tool(
                "add_task", {"title": " Buy milk ", "tags": ["Home"], "due_at": "2026-12-01"}
            )
        )
        task_id = added["task_id"]
        listed = structured(await session.call_tool("list_tasks", {"status": "pending"}))
        updated = structured(
            await session.call_tool("update_task", {"task_id": task_id, "title": "Buy oat milk"})
        )
        toggled = structured(await session.call_tool("complete_task", {"task_id": task_id}))
        toggled_back = structured(await session.call_tool("complete_task", {"task_id": task_id}))
        done = structured(
            await session.call_tool("complete_task", {"task_id": task_id, "completed": True})
        )
        searched = structured(await session.call_tool("list_tasks", {"q": "oat"}))
        deleted = structured(await session.call_tool("delete_task", {"task_id": task_id}))
        after = structured(await session.call_tool("list_tasks", {}))

    assert (added["status"], added["title"]) == ("created", "Buy milk")
    assert added["task"]["user_id"] == user_id
    assert added["task"]["tags"] == ["home"]
    assert added["task"]["due_at"] == "2026-12-01T00:00:00Z"
    assert [t["id"] for t in listed["tasks"]] == [task_id]
    assert (listed["total"], listed["next_cursor"]) == (1, None)
    assert (updated["status"], updated["title"], updated["task"]["version"]) == (
        "updated",
        "Buy oat milk",
        2,
    )
    assert [toggled["status"], toggled_back["status"], done["status"]] == [
        "completed",
        "pending",
        "completed",
    ]
    assert done["next_occurrence"] is None
    assert searched["total"] == 1
    assert deleted == {"task_id": task_id, "status": "deleted", "title": "Buy oat milk"}
    assert after == {"tasks": [], "total": 0, "next_cursor": None}


async def test_lists_page_with_the_next_cursor(
    api_url: str, user_id: str, settings: Settings
) -> None:
    async with mcp_session(api_url, user_id) as session:
        for title in ("a", "b", "c"):
            await session.call_tool("add_task", {"title": title})
        first = structured(await session.call_tool("list_tasks", {"limit": 2, "sort": "title"}))
        second = structured(
            await session.call_tool(
                "list_tasks", {"limit": 2, "sort": "title", "cursor": first["next_cursor"]}
            )
        )
        reused = await session.call_tool(
            "list_tasks", {"limit": 2, "sort": "created", "cursor": first["next_cursor"]}
        )

    assert [t["title"] for t in first["tasks"] + second["tasks"]] == ["a", "b", "c"]
    assert second["next_cursor"] is None
    assert "cursor" in error_text(reused)


async def test_bad_arguments_are_tool_errors_naming_the_field(
    api_url: str, user_id: str, settings: Settings
) -> None:
    async with mcp_session(api_url, user_id) as session:
        blank = await session.call_tool("add_task", {"title": "  "})
        long_title = await session.call_tool("add_task", {"title": "x" * 201})
        with_user = await session.call_tool("add_task", {"title": "x", "user_id": "someone"})
        no_id = await session.call_tool("complete_task", {})
        text_id = await session.call_tool("delete_task", {"task_id": "7"})
        bad_priority = await session.call_tool("update_task", {"task_id": 1, "priority": "urgent"})
        null_title = await session.call_tool("update_task", {"task_id": 1, "title": None})
        huge_page = await session.call_tool("list_tasks", {"limit": 1000})
        bad_date = await session.call_tool("add_task", {"title": "x", "due_at": 1700000000})

    assert error_text(blank) == "Invalid arguments: title: Value error, must not be blank"
    assert "title: Value error, must be at most 200 characters" in error_text(long_title)
    assert error_text(with_user) == "Invalid arguments: user_id: Extra inputs are not permitted"
    assert error_text(no_id) == "Invalid arguments: task_id: Field required"
    assert error_text(text_id).startswith("Invalid arguments: task_id: Input should be")
    assert error_text(bad_priority).startswith("Invalid arguments: priority: Input should be")
    assert "title: Value error, may be left out but not null" in error_text(null_title)
    assert error_text(huge_page).startswith("Invalid arguments: limit: Input should be less")
    assert "due_at: Value error, must be an ISO 8601" in error_text(bad_date)
    count = "SELECT count(*) FROM tasks WHERE user_id = :owner"
    assert await fetch_value(settings.database_url, count, owner=user_id) == 0


async def test_an_unknown_tool_is_a_protocol_error(
    api_url: str, user_id: str, settings: Settings
) -> None:
    async with mcp_session(api_url, user_id) as session:
        with pytest.raises(MCPError, match="Unknown tool: drop_everything"):
            await session.call_tool("drop_everything", {})


async def test_another_users_ids_are_not_found_and_nothing_of_theirs_changes(
    api_url: str, user_id: str, other_user: str, settings: Settings
) -> None:
    async with mcp_session(api_url, other_user) as theirs:
        victim = structured(await theirs.call_tool("add_task", {"title": "Bob's"}))["task_id"]

    async with mcp_session(api_url, user_id) as session:
        attempts = [
            await session.call_tool("complete_task", {"task_id": victim}),
            await session.call_tool("complete_task", {"task_id": victim, "completed": True}),
            await session.call_tool("update_task", {"task_id": victim, "title": "pwned"}),
            await session.call_tool("delete_task", {"task_id": victim}),
        ]
        missing = await session.call_tool("delete_task", {"task_id": 2147483647})
        mine = structured(await session.call_tool("list_tasks", {}))

    for attempt in attempts:
        assert error_text(attempt) == f"Task {victim} was not found."
    assert error_text(missing) == "Task 2147483647 was not found."  # the same answer
    assert mine["total"] == 0
    stored = "SELECT title || '/' || version || '/' || user_id FROM tasks WHERE id = :id"
    assert await fetch_value(settings.database_url, stored, id=victim) == f"Bob's/1/{other_user}"


async def test_the_modern_protocol_reaches_the_same_tools(
    api_url: str, user_id: str, settings: Settings
) -> None:
    # MCP 2026-07-28: no initialize handshake, every request stands alone.
    headers = {"Authorization": f"Bearer {hs256_token(user_id)}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(f"{api_url}/mcp", http_client=http)
        async with Client(transport, mode="2026-07-28") as client:
            added = structured(await client.call_tool("add_task", {"title": "sessionless"}))

    assert added["task"]["user_id"] == user_id


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        f"Bearer {hs256_token('someone', secret='another-secret-that-is-long-enough-0123456789')}",
        f"Bearer {hs256_token('someone', lifetime=-600)}",
        f"Basic {hs256_token('someone')}",
    ],
    ids=["missing", "malformed", "foreign", "expired", "not-bearer"],
)
async def test_no_valid_token_is_401_naming_the_resource_metadata(
    api_url: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with httpx.AsyncClient(base_url=api_url) as http:
        refused = await http.post("/mcp", json=request, headers=headers)
        metadata = (await http.get("/.well-known/oauth-protected-resource")).json()

    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    expected = f'resource_metadata="{api_url}/.well-known/oauth-protected-resource"'
    assert expected in challenge
    assert metadata["resource"] == f"{api_url}/mcp"
