"""`todo-api mcp`: the task tools over stdio, for a desktop assistant that starts the process.

It acts for the user of one bearer token, verified as the API verifies any (the same secret or
JWKS, `iss`, `aud`, expiry) before the first message and again before each tool call, so an
expired token stops working here as it would over HTTP. Each call counts against that user's
rate limit. stdout carries the protocol alone: logs go to stderr.
"""

import logging

import httpx
from mcp.server.stdio import stdio_server

from todo_api.assistant.server import build_server
from todo_api.assistant.tools import TaskTools
from todo_api.auth.jwks import JwksUnavailable
from todo_api.auth.rate_limit import RateLimiter
from todo_api.auth.setup import build_verifier, plan_auth
from todo_api.auth.verifier import InvalidToken, TokenVerifier
from todo_api.config import Settings
from todo_api.db.connect import open_database
from todo_api.errors import ServiceUnavailable, Unauthorized
from todo_api.tasks.postgres_repository import repository_for

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "TODO_API_TOKEN"  # noqa: S105  (the variable's name, not a token)


class TokenRefused(Exception):
    """The token given to `todo-api mcp` names no user this API accepts."""


async def verified_user(settings: Settings, token: str) -> str:
    """The user `token` names; raises TokenRefused (checked before anything else starts)."""
    plan = plan_auth(settings, create_dev_secret=False)
    async with httpx.AsyncClient(follow_redirects=False) as http:
        return await _verified(build_verifier(settings, plan, http), token)


async def serve_stdio(settings: Settings, token: str, *, version: str) -> None:
    """Serve the tools on stdin/stdout until the client closes them."""
    plan = plan_auth(settings, create_dev_secret=False)
    async with httpx.AsyncClient(follow_redirects=False) as http:
        verifier = build_verifier(settings, plan, http)
        owner = await _verified(verifier, token)
        limiter = RateLimiter(
            redis_url=settings.redis_url,
            per_user=settings.rate_limit_per_minute,
            per_address=settings.rate_limit_anonymous_per_minute,
        )

        async def before_call() -> None:
            try:
                await verifier.subject(token)
            except InvalidToken:
                raise Unauthorized(
                    "The token is no longer valid; restart `todo-api mcp` with a new one.",
                    invalid_token=True,
                ) from None
            except JwksUnavailable:
                raise ServiceUnavailable("The token cannot be verified right now.") from None
            await limiter.spend_user(owner)

        database = await open_database(settings)
        try:
            tools = TaskTools(
                # No live streams in this process; on PostgreSQL a write still sends NOTIFY.
                repo=repository_for(database, lambda _owner: None),
                owner=owner,
                max_tasks=settings.max_tasks_per_user,
                before_call=before_call,
            )
            server = build_server(lambda: tools, version=version)
            logger.info("todo-api mcp: serving the task tools on stdio for user %s", owner)
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        finally:
            await database.close()


async def _verified(verifier: TokenVerifier, token: str) -> str:
    try:
        return await verifier.subject(token)
    except InvalidToken as exc:
        raise TokenRefused(f"the token is not accepted ({exc})") from None
    except JwksUnavailable:
        raise TokenRefused("the token cannot be verified: the JWKS cannot be fetched") from None
