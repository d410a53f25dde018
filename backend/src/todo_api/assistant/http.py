"""MCP over streamable HTTP at `/mcp`, and its OAuth protected-resource metadata (RFC 9728).

`/mcp` takes the REST API's bearer tokens, checked by the same code as `/api` (`auth.gate.admit`:
the verifier, the per-user and anonymous rate limits); each HTTP request counts as one. No or a
bad token is a 401 whose `WWW-Authenticate` names the metadata document, as MCP clients expect.

The SDK's session manager runs stateless (a fresh transport per request, nothing kept between
requests, so any instance or worker serves any call) and answers JSON rather than SSE streams.
It is entered in the app's lifespan (`main.py`): a mounted app's own lifespan never runs.
The verified user reaches the tools through a context variable set around the SDK's handling
of the request: the SDK starts the request's server task from within it, so the task sees it.
"""

from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Message, Receive, Scope, Send

from todo_api.assistant.server import build_server
from todo_api.assistant.tools import TaskTools
from todo_api.auth.gate import admit
from todo_api.config import Settings
from todo_api.errors import AppError, error_response

MCP_PATH = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource"

_caller: ContextVar[TaskTools | None] = ContextVar("mcp_caller", default=None)


def build_http_server(*, version: str) -> Server[Any]:
    """The MCP server behind `/mcp`: its tools act for the user `McpEndpoint` verified."""
    return build_server(_caller.get, version=version)


def session_manager(server: Server[Any]) -> StreamableHTTPSessionManager:
    return StreamableHTTPSessionManager(
        app=server,
        stateless=True,
        json_response=True,
        # DNS-rebinding protection guards servers that trust whoever can reach them; this one
        # answers only requests carrying a bearer token (never a cookie), which a rebound page
        # does not have. Its Host allow-list would refuse every deployment's own host name.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


class McpEndpoint:
    """The ASGI app at `/mcp`: admit the token's user, then let the SDK answer."""

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope["state"]
        try:
            owner, quota_headers = await admit(scope)
        except AppError as exc:
            response = error_response(exc, retry_after=self.retry_after)
            if "www-authenticate" in response.headers:
                metadata = f"{public_url(Request(scope), state['settings'])}{METADATA_PATH}"
                challenge = response.headers["www-authenticate"]
                response.headers["WWW-Authenticate"] = (
                    f'{challenge}, resource_metadata="{metadata}"'
                )
            await response(scope, receive, send)
            return

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *quota_headers]
            await send(message)

        settings: Settings = state["settings"]
        tools = TaskTools(repo=state["tasks"], owner=owner, max_tasks=settings.max_tasks_per_user)
        token = _caller.set(tools)
        try:
            manager: StreamableHTTPSessionManager = state["mcp"]
            await manager.handle_request(scope, receive, send_with_quota)
        finally:
            _caller.reset(token)


metadata_router = APIRouter()


@metadata_router.get(METADATA_PATH, include_in_schema=False)
@metadata_router.get(f"{METADATA_PATH}{MCP_PATH}", include_in_schema=False)
async def protected_resource_metadata(request: Request) -> JSONResponse:
    """RFC 9728 metadata for `/mcp`, at the root (as `/mcp`'s 401 names it) and at the path
    RFC 9728 derives from the resource's URL (where clients that start from it look)."""
    settings: Settings = request.state.settings
    document: dict[str, Any] = {
        "resource": f"{public_url(request, settings)}{MCP_PATH}",
        "bearer_methods_supported": ["header"],
        "resource_name": "todo-api",
    }
    issuer = settings.better_auth_url or settings.jwt_issuer
    if issuer:
        document["authorization_servers"] = [issuer.rstrip("/")]
    return JSONResponse(document)


def public_url(request: Request, settings: Settings) -> str:
    """The API's base URL as clients reach it: PUBLIC_URL, else this request's scheme and host
    (behind a proxy, as X-Forwarded-Proto tells when FORWARDED_ALLOW_IPS trusts it)."""
    if settings.public_url:
        return settings.public_url
    url = request.url
    return f"{url.scheme}://{url.netloc}"
