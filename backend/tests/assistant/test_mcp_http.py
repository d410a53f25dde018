"""/mcp as HTTP: the token gate, rate limits, and the RFC 9728 protected-resource metadata."""

from typing import Any

from httpx import AsyncClient, Response

from tests.conftest import hs256_token, make_settings, serve
from tests.helpers import assert_problem
from todo_api.config import Settings
from todo_api.main import create_app

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def _post(client: AsyncClient, path: str, user: str | None, **extra: str) -> Response:
    headers = MCP_HEADERS | extra
    if user is not None:
        headers["Authorization"] = f"Bearer {hs256_token(user)}"
    return await client.post(path, json=LIST_TOOLS, headers=headers)


async def test_both_spellings_of_the_path_answer_without_a_redirect(
    settings: Settings, user_id: str
) -> None:
    async with serve(create_app(settings), signed=False) as client:
        for path in ("/mcp", "/mcp/"):
            response = await _post(client, path, user_id)

            assert response.status_code == 200, response.text
            tools = response.json()["result"]["tools"]
            assert len(tools) == 5
            assert response.headers["RateLimit-Limit"] == str(settings.rate_limit_per_minute)
            assert response.headers["Cache-Control"] == "no-store"  # tasks are private


async def test_each_request_counts_against_the_users_rate_limit(
    settings: Settings, user_id: str
) -> None:
    limited = make_settings(settings.database_url, rate_limit_per_minute=2)
    async with serve(create_app(limited), signed=False) as client:
        statuses = [(await _post(client, "/mcp", user_id)).status_code for _ in range(3)]
        refused = await _post(client, "/mcp", user_id)
        rest = await client.get(
            f"/api/{user_id}/tasks", headers={"Authorization": f"Bearer {hs256_token(user_id)}"}
        )

    assert statuses == [200, 200, 429]
    assert_problem(refused, 429)
    assert "retry-after" in refused.headers
    assert_problem(rest, 429)  # one budget per user, whatever the door


async def test_a_401_names_the_metadata_at_the_public_url(settings: Settings) -> None:
    public = make_settings(settings.database_url, public_url="https://api.example.com/")
    async with serve(create_app(public), signed=False) as client:
        refused = await _post(client, "/mcp", None)
        metadata = (await client.get("/.well-known/oauth-protected-resource")).json()

    assert_problem(refused, 401)
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="todo-api", '
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
    )
    assert metadata["resource"] == "https://api.example.com/mcp"


async def test_metadata_names_better_auth_as_the_authorization_server(
    settings: Settings,
) -> None:
    configured = make_settings(settings.database_url, better_auth_url="https://app.example.com/")
    async with serve(create_app(configured), signed=False) as client:
        documents: list[dict[str, Any]] = [
            (await client.get(path)).json()
            for path in (
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/mcp",
            )
        ]

    assert documents[0] == documents[1]
    assert documents[0] == {
        "resource": "http://test/mcp",
        "authorization_servers": ["https://app.example.com"],
        "bearer_methods_supported": ["header"],
        "resource_name": "todo-api",
    }


async def test_metadata_without_an_authorization_server_names_none(settings: Settings) -> None:
    async with serve(create_app(settings), signed=False) as client:
        document = (await client.get("/.well-known/oauth-protected-resource")).json()

    assert "authorization_servers" not in document


async def test_a_bad_token_spends_the_anonymous_quota(settings: Settings) -> None:
    limited = make_settings(settings.database_url, rate_limit_anonymous_per_minute=2)
    async with serve(create_app(limited), signed=False) as client:
        bad = {"Authorization": "Bearer forged"}
        statuses = [
            (await client.post("/mcp", json=LIST_TOOLS, headers=MCP_HEADERS | bad)).status_code
            for _ in range(3)
        ]

    assert statuses == [401, 401, 429]
