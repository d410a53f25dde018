"""The gate in front of every `/api/{user_id}/...` route: a valid bearer token for that user.

An ASGI middleware rather than a route dependency, so no route under /api can be added
without it, and so that refusing a request (or letting it through) costs a dictionary
lookup instead of FastAPI's dependency solving on every request.

Requests without a valid token are rate-limited per client address, before any token or
database work; signed-in users are rate-limited per user, with RateLimit headers. `admit`
is that check alone, for other routes that take the same tokens (the MCP endpoint).
"""

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from todo_api.auth.jwks import JwksUnavailable
from todo_api.auth.rate_limit import RateLimiter
from todo_api.auth.verifier import InvalidToken, TokenVerifier
from todo_api.errors import AppError, Forbidden, ServiceUnavailable, Unauthorized, error_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class AuthGate:
    def __init__(self, app: ASGIApp, *, retry_after: int) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            headers = await self._admit(scope, path.split("/", 3)[2])
        except AppError as exc:
            response = error_response(exc, retry_after=self.retry_after)
            await response(scope, receive, send)
            return

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_quota)

    async def _admit(self, scope: Scope, user_id: str) -> list[tuple[bytes, bytes]]:
        """The rate-limit headers for an admitted request; raises AppError otherwise."""
        subject, headers = await admit(scope)
        if subject != user_id:
            raise Forbidden("The token does not belong to this user.")
        return headers


async def admit(scope: Scope) -> tuple[str, list[tuple[bytes, bytes]]]:
    """The verified user of the request's bearer token and their rate-limit headers, after
    spending one of their requests; raises AppError (401, 429, 503) otherwise.

    Shared by every route that takes a bearer token: `/api` (through AuthGate) and `/mcp`.
    """
    state: dict[str, Any] = scope["state"]
    limiter: RateLimiter = state["rate_limiter"]
    client = scope.get("client")
    address = client[0] if client else "unknown"
    token = bearer_token(scope)
    if token is None:
        await limiter.spend_address(address)
        raise Unauthorized("A bearer token is required.", invalid_token=False)
    verifier: TokenVerifier = state["verifier"]
    # A token verified before needs no work: only unverified ones count against (and are
    # refused by) the client address's anonymous quota.
    subject = verifier.remembered(token) or await _verify(verifier, limiter, address, token, scope)
    quota = await limiter.spend_user(subject)
    return subject, [(name.encode(), value.encode()) for name, value in quota.headers().items()]


async def _verify(
    verifier: TokenVerifier, limiter: RateLimiter, address: str, token: str, scope: Scope
) -> str:
    await limiter.check_address(address)
    try:
        return await verifier.subject(token)
    except InvalidToken as exc:
        # The reason is logged for operators; the token itself never is.
        logger.info("rejected token on %s %s: %s", scope["method"], scope["path"], exc)
        await limiter.spend_address(address)
        raise Unauthorized("The bearer token is invalid or expired.", invalid_token=True) from None
    except JwksUnavailable:
        logger.warning("cannot verify tokens: the JWKS is unreachable and no keys are cached")
        raise ServiceUnavailable(
            "Tokens cannot be verified right now; try again shortly."
        ) from None


def bearer_token(scope: Scope) -> str | None:
    """The credentials of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            credentials = credentials.strip()
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None
